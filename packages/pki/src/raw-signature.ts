/**
 * Raw signature + signer certificate verification: what many HIS integrations push (a base64 signature value,
 * the signer certificate and the original). The signature is checked with the certificate's key, and the
 * certificate's path is validated at the given time when trust anchors are supplied.
 */
import { OID, keyKind, verifySignature, type AlgorithmPolicy, type KeyKind } from './algorithms.js';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import {
  KEY_USAGE,
  verifyChain,
  type ChainOptions,
  type RevocationCheck,
  type RevocationOptions,
} from './chain.js';
import {
  PkiError,
  failureOf,
  resultOf,
  type VerificationFailure,
  type VerificationResult,
} from './errors.js';

const DEFAULT_ALGORITHM: Readonly<Record<KeyKind, string>> = {
  rsa: OID.sha256WithRSA,
  'ec-p256': OID.ecdsaWithSHA256,
  'ec-p384': OID.ecdsaWithSHA384,
  sm2: OID.sm3WithSm2,
};

export interface RawSignatureInput {
  /** The signer certificate, DER or PEM, or already parsed. */
  readonly certificate: Uint8Array | string | ParsedCertificate;
  readonly data: Uint8Array;
  /** The signature value, bytes or base64. */
  readonly signature: Uint8Array | string;
  /** Signature algorithm OID; by default from the key (SHA-256 for RSA and P-256, SHA-384 for P-384, SM3 for SM2). */
  readonly algorithm?: string;
  /** When given, the certificate's path is validated at `chain.at`. */
  readonly chain?: Omit<ChainOptions, 'keyUsage'>;
  /**
   * Check the certificate's path for revocation at `chain.at` (needs `chain`); passed to `verifyChain`
   * in place of `chain.revocation`, reported in the result's `revocation`.
   */
  readonly revocation?: RevocationOptions;
  readonly policy?: AlgorithmPolicy;
}

export interface RawSignatureResult extends VerificationResult {
  /** Per certificate of the path, what revocation checking found (empty without revocation or a path). */
  readonly revocation: readonly RevocationCheck[];
}

function decodeSignature(sig: Uint8Array | string): Uint8Array {
  if (typeof sig !== 'string') return sig;
  const s = sig.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new PkiError('PKI_ASN1_INVALID', 'signature is not base64');
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/** Verifies a raw signature with its signer certificate; never throws for bad input. */
export function verifyRawSignature(input: RawSignatureInput): RawSignatureResult {
  const failures: VerificationFailure[] = [];
  let cert: ParsedCertificate;
  try {
    cert =
      typeof input.certificate === 'object' && 'spki' in input.certificate
        ? input.certificate
        : parseCertificate(input.certificate);
    const signature = decodeSignature(input.signature);
    const algorithm = input.algorithm ?? DEFAULT_ALGORITHM[keyKind(cert.spki)];
    if (!verifySignature({ algorithm, spki: cert.spki, data: input.data, signature }, input.policy)) {
      failures.push({
        code: 'PKI_SIGNATURE_INVALID',
        check: 'signature',
        certificate: cert.subject,
        message: 'signature does not verify',
      });
    }
  } catch (e) {
    return { ...resultOf([failureOf(e, { check: 'signature' })]), revocation: [] };
  }
  if (input.revocation && !input.chain) {
    failures.push({
      code: 'PKI_INVALID_ARGUMENT',
      check: 'revocation',
      certificate: cert.subject,
      message: 'revocation checking needs `chain` (trust anchors and a validation time)',
    });
  }
  let revocation: readonly RevocationCheck[] = [];
  if (input.chain) {
    const revocationOptions = input.revocation ?? input.chain.revocation;
    const chain = verifyChain(cert, {
      ...input.chain,
      keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation,
      ...(input.policy ? { policy: input.policy } : {}),
      ...(revocationOptions ? { revocation: revocationOptions } : {}),
    });
    revocation = chain.revocation;
    failures.push(...chain.failures);
  }
  return { ...resultOf(failures), revocation };
}
