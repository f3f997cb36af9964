/**
 * X.509 v3 certificate building (RFC 5280 §4.1; GM/T 0015 for SM2: SM3withSM2 1.2.156.10197.1.501, keys
 * {id-ecPublicKey, sm2 1.2.156.10197.1.301}). The signer's algorithm goes into both `signature` fields; the
 * signature is over the DER tbsCertificate.
 *
 *   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, serialNumber CertificateSerialNumber,
 *     signature AlgorithmIdentifier, issuer Name, validity Validity, subject Name,
 *     subjectPublicKeyInfo SubjectPublicKeyInfo, issuerUniqueID [1] IMPLICIT UniqueIdentifier OPTIONAL,
 *     subjectUniqueID [2] IMPLICIT UniqueIdentifier OPTIONAL, extensions [3] EXPLICIT Extensions OPTIONAL }
 *   Validity ::= SEQUENCE { notBefore Time, notAfter Time }
 */
import { keyKind } from './algorithms.js';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { bitString, explicit, integer, sequence, signatureAlgorithmIdentifier, time } from './der-writer.js';
import { PkiError } from './errors.js';
import { encodeExtensions, keyIdentifierOf, type ExtensionsInput } from './extensions.js';
import { encodeName, type NameInput } from './name.js';
import type { Signer } from './signer.js';

export interface BuildCertificateOptions {
  /** Structured (UTF-8 values, Chinese included) or the DER of a Name. */
  readonly subject: NameInput | Uint8Array;
  /** The issuing CA's certificate; omitted for a self-signed certificate. */
  readonly issuer?: ParsedCertificate | Uint8Array;
  /** The subject's key, DER SubjectPublicKeyInfo (defaults to the signer's key when self-signed). */
  readonly subjectPublicKeyInfo?: Uint8Array;
  /** Positive, at most 20 octets (RFC 5280 §4.1.2.2). */
  readonly serial: bigint | Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions?: ExtensionsInput;
  /** The issuer's key (the subject's own for self-signed). */
  readonly signer: Signer;
}

function serialBytes(serial: bigint | Uint8Array): Uint8Array {
  const enc = integer(serial);
  // tag, length, contents: the contents are at most 20 octets, and the value is positive.
  const contents = enc.subarray(2);
  const positive = serial instanceof Uint8Array ? serial.some((b) => b !== 0) : serial > 0n;
  if (!positive || contents.length > 20 || enc[1] !== contents.length)
    throw new PkiError('PKI_INVALID_ARGUMENT', 'a serial number is positive and at most 20 octets');
  return enc;
}

/** Builds and signs a certificate; returns its DER. Throws PKI_INVALID_ARGUMENT for inconsistent options. */
export function buildCertificate(options: BuildCertificateOptions): Uint8Array {
  const issuer =
    options.issuer === undefined
      ? undefined
      : options.issuer instanceof Uint8Array
        ? parseCertificate(options.issuer)
        : options.issuer;
  const spki = options.subjectPublicKeyInfo ?? (issuer ? undefined : options.signer.publicKeyInfo);
  if (spki === undefined)
    throw new PkiError('PKI_INVALID_ARGUMENT', 'subjectPublicKeyInfo is required for an issued certificate');
  keyKind(spki); // a key this package can use (RSA, EC P-256/P-384, SM2)
  const signerKey = Buffer.from(options.signer.publicKeyInfo);
  if (issuer && !signerKey.equals(Buffer.from(issuer.spki)))
    throw new PkiError('PKI_INVALID_ARGUMENT', `the signer's key is not the key of ${issuer.subject}`);
  if (!issuer && !signerKey.equals(Buffer.from(spki)))
    throw new PkiError('PKI_INVALID_ARGUMENT', "a self-signed certificate is signed with the subject's key");
  if (!(options.notBefore.getTime() <= options.notAfter.getTime()))
    throw new PkiError('PKI_INVALID_ARGUMENT', 'notBefore is after notAfter');
  if (issuer && issuer.basicConstraints?.ca !== true)
    throw new PkiError('PKI_INVALID_ARGUMENT', `${issuer.subject} is not a CA`);
  const subjectDer = options.subject instanceof Uint8Array ? options.subject : encodeName(options.subject);
  const issuerDer = issuer ? issuer.subjectDer : subjectDer;
  const issuerSki = issuer ? (issuer.subjectKeyIdentifier ?? undefined) : keyIdentifierOf(spki);
  const ownSki = options.extensions?.subjectKeyIdentifier;
  const exts = encodeExtensions(options.extensions ?? {}, {
    subjectSpki: spki,
    // Self-signed: the AKI repeats the certificate's own SKI.
    issuerSki: issuer
      ? issuerSki
      : ownSki instanceof Uint8Array
        ? ownSki
        : ownSki === false
          ? undefined
          : issuerSki,
  });
  const algorithm = signatureAlgorithmIdentifier(options.signer.signatureAlgorithm);
  const tbs = sequence(
    explicit(0, integer(2)),
    serialBytes(options.serial),
    algorithm,
    issuerDer,
    sequence(time(options.notBefore), time(options.notAfter)),
    subjectDer,
    spki,
    ...(exts.length > 0 ? [explicit(3, sequence(...exts))] : []),
  );
  return sequence(tbs, algorithm, bitString(options.signer.sign(tbs)));
}
