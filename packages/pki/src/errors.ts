/**
 * Typed errors of `@yizheng/pki`. Every failure caused by input (a certificate, a CMS message, a timestamp
 * token, a CRL, an OCSP response) surfaces as a {@link PkiError} with a stable code; callers switch on `code`,
 * never on the message. Verification failures also carry a {@link PkiErrorContext} naming the signer,
 * certificate and check that failed.
 */
export type PkiErrorCode =
  /** DER/BER is malformed: truncated, a length beyond the input, bad tag, trailing bytes, non-minimal DER. */
  | 'PKI_ASN1_INVALID'
  /** The ASN.1 structure nests deeper than the configured limit. */
  | 'PKI_DEPTH_LIMIT'
  /** The input is larger than the configured limit. */
  | 'PKI_SIZE_LIMIT'
  /** A certificate's notAfter is before the validation time. */
  | 'PKI_CERT_EXPIRED'
  /** A certificate's notBefore is after the validation time. */
  | 'PKI_CERT_NOT_YET_VALID'
  /** A certificate's signature does not verify under its issuer's key. */
  | 'PKI_CERT_SIGNATURE_INVALID'
  /** No issuer could be found for a certificate in the chain. */
  | 'PKI_CHAIN_INCOMPLETE'
  /** The chain ends in a self-signed certificate that is not in the trust store. */
  | 'PKI_UNTRUSTED_ROOT'
  /** A certificate's keyUsage forbids the use (keyCertSign, cRLSign, digitalSignature, …). */
  | 'PKI_KEY_USAGE'
  /** A certificate's extendedKeyUsage lacks the required purpose (e.g. timeStamping). */
  | 'PKI_EKU'
  /** basicConstraints: not a CA, or pathLenConstraint exceeded. */
  | 'PKI_PATH_LENGTH'
  /** A certificate is revoked (by CRL or OCSP) at the validation time. */
  | 'PKI_REVOKED'
  /** Revocation checking was required but no source could say whether a certificate is revoked. */
  | 'PKI_REVOCATION_UNKNOWN'
  /** A certificate carries a critical extension this validator does not process (RFC 5280 §4.2). */
  | 'PKI_UNKNOWN_CRITICAL_EXTENSION'
  /** A certificate's names violate the nameConstraints of a CA above it (RFC 5280 §4.2.1.10, §6.1.3 (b)–(c)). */
  | 'PKI_NAME_CONSTRAINTS'
  /** Certificate policy processing failed: no acceptable policy where one is required (RFC 5280 §6.1.3–6.1.5). */
  | 'PKI_POLICY'
  /** A CMS signer's signature value does not verify. */
  | 'PKI_CMS_SIGNATURE_INVALID'
  /** A CMS signer's messageDigest attribute does not match the content. */
  | 'PKI_CMS_DIGEST_MISMATCH'
  /** No certificate matching a CMS signer identifier was included or supplied. */
  | 'PKI_CMS_NO_SIGNER_CERT'
  /** Detached CMS without the content, or other CMS structure problems. */
  | 'PKI_CMS_CONTENT_MISSING'
  /** A signature, digest or key algorithm is unknown or not allowed here. */
  | 'PKI_UNSUPPORTED_ALGORITHM'
  /** A timestamp token's messageImprint does not match the data. */
  | 'PKI_TSP_IMPRINT_MISMATCH'
  /** A timestamp response's nonce differs from the request's. */
  | 'PKI_TSP_NONCE_MISMATCH'
  /** The signing certificate is not bound by ESSCertID/ESSCertIDv2 to the TSA certificate. */
  | 'PKI_TSP_CERT_BINDING'
  /** A TimeStampResp status is not granted / grantedWithMods. */
  | 'PKI_TSP_STATUS'
  /** The imprint hash algorithm is too weak (SHA-1 by default). */
  | 'PKI_TSP_HASH_WEAK'
  /** A timestamp token's policy differs from the one requested. */
  | 'PKI_TSP_POLICY_MISMATCH'
  /** A CRL's signature does not verify under its issuer's key. */
  | 'PKI_CRL_SIGNATURE_INVALID'
  /** A CRL is outside its thisUpdate/nextUpdate window at the validation time. */
  | 'PKI_CRL_EXPIRED'
  /** An OCSP response's signature does not verify, or its responder is not authorised. */
  | 'PKI_OCSP_SIGNATURE_INVALID'
  /** An OCSP response status is not successful. */
  | 'PKI_OCSP_STATUS'
  /** An OCSP response's nonce differs from the request's. */
  | 'PKI_OCSP_NONCE_MISMATCH'
  /** An OCSP response does not cover the certificate asked about. */
  | 'PKI_OCSP_CERT_ID_MISMATCH'
  /** An OCSP response is outside its thisUpdate/nextUpdate window at the validation time. */
  | 'PKI_OCSP_EXPIRED'
  /** A raw signature does not verify. */
  | 'PKI_SIGNATURE_INVALID'
  /** An argument supplied by the caller (not by the input) is invalid. */
  | 'PKI_INVALID_ARGUMENT';

/** Where a verification failure happened. */
export interface PkiErrorContext {
  /** Index of the CMS signer (SignerInfo) concerned. */
  readonly signerIndex?: number;
  /** Subject (RFC 4514 string) of the certificate concerned. */
  readonly certificate?: string;
  /** Position of the certificate in the chain (0 = end entity). */
  readonly chainIndex?: number;
  /** Name of the check that failed (e.g. 'signature', 'validity', 'keyUsage'). */
  readonly check?: string;
}

export class PkiError extends Error {
  override readonly name = 'PkiError';
  readonly code: PkiErrorCode;
  readonly context: PkiErrorContext;

  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown; context?: PkiErrorContext }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.context = options?.context ?? {};
  }
}

export function isPkiError(e: unknown, code?: PkiErrorCode): e is PkiError {
  return e instanceof PkiError && (code === undefined || e.code === code);
}

/** One failed check in a {@link VerificationResult}. */
export interface VerificationFailure extends PkiErrorContext {
  readonly code: PkiErrorCode;
  readonly message: string;
}

/**
 * The outcome of a verification: `valid` is true only when `failures` is empty. Each failure names the check,
 * the signer and the certificate it concerns.
 */
export interface VerificationResult {
  readonly valid: boolean;
  readonly failures: readonly VerificationFailure[];
}

/** Converts a thrown value to a failure entry; non-PKI errors (bugs) are rethrown. */
export function failureOf(e: unknown, context: PkiErrorContext = {}): VerificationFailure {
  if (!isPkiError(e)) throw e;
  return { ...e.context, ...context, code: e.code, message: e.message };
}

export function resultOf(failures: readonly VerificationFailure[]): VerificationResult {
  return { valid: failures.length === 0, failures };
}
