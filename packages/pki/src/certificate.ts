/**
 * X.509 certificates (RFC 5280 §4.1, GM/T 0015 for SM2). Parsing keeps the exact bytes of tbsCertificate, of
 * the issuer and subject names and of the SubjectPublicKeyInfo as received: signatures are verified over them,
 * names are matched on them, nothing is re-encoded.
 *
 *   Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm AlgorithmIdentifier,
 *                              signatureValue BIT STRING }
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  Name,
} from '@peculiar/asn1-x509';
import { fitsKey, isKnownSignatureAlgorithm, verifySignature, type AlgorithmPolicy } from './algorithms.js';
import { childrenOf, fromPem, scanDer, tlvBytes, type DerLimits } from './der.js';
import { PkiError } from './errors.js';
import { decodeExtensions, type DecodedExtensions, type RawExtension } from './extensions.js';
import { namesMatch } from './name-compare.js';

/** KeyUsage bits (RFC 5280 §4.2.1.3), as numbers in {@link ParsedCertificate.keyUsage}. */
export const KEY_USAGE = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
} as const;

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** RFC 4514-style string of a Name (most specific RDN first), UTF-8 values kept as they are. */
export function nameToString(name: Name): string {
  return [...name]
    .reverse()
    .map((rdn) =>
      [...rdn]
        .map(
          (atv) =>
            `${SHORT_NAMES[atv.type] ?? atv.type}=${atv.value.toString().replace(/([,+"\\<>;])/g, '\\$1')}`,
        )
        .join('+'),
    )
    .join(',');
}

/**
 * A parsed certificate. Beside the fields below, the decoded extensions of {@link DecodedExtensions}
 * (subjectKeyIdentifier, authorityKeyIdentifier, subjectAltName, crlDistributionPoints, authorityInfoAccess,
 * certificatePolicies, ocspNoCheck) and every extension as carried in `extensions`.
 */
export interface ParsedCertificate extends DecodedExtensions {
  /** The certificate's DER, exactly as received. */
  readonly der: Uint8Array;
  readonly asn: Certificate;
  /** Exact bytes of tbsCertificate (what the issuer signed). */
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  /** Exact DER of the issuer and subject Names, for matching. */
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** Exact DER of the SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  readonly subject: string;
  readonly issuer: string;
  /** Serial number, lowercase hex without leading zero bytes' sign octet. */
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly basicConstraints: { readonly ca: boolean; readonly pathLength: number | undefined } | undefined;
  /** KeyUsage bits as a number (KeyUsageFlags), undefined when absent. */
  readonly keyUsage: number | undefined;
  readonly extKeyUsage: readonly string[] | undefined;
  /** X.509 version: 1, 2 or 3. */
  readonly version: number;
  /** Every extension in order, with its critical flag and extnValue contents; unknown ones included. */
  readonly extensions: readonly RawExtension[];
}

function extension<T>(cert: Certificate, oid: string, type: new () => T): T | undefined {
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === oid);
  if (!ext) return undefined;
  try {
    return AsnConvert.parse(ext.extnValue.buffer, type);
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', `malformed extension ${oid}`, { cause: e });
  }
}

/** Parses a certificate (DER or PEM) defensively; throws PkiError PKI_ASN1_INVALID / PKI_DEPTH_LIMIT / PKI_SIZE_LIMIT. */
export function parseCertificate(input: Uint8Array | string, limits: DerLimits = {}): ParsedCertificate {
  const der = fromPem(input, 'CERTIFICATE');
  const top = scanDer(der, limits);
  const parts = childrenOf(der, top, 'der');
  const [tbsTlv, algTlv, sigTlv] = parts;
  if (parts.length !== 3 || !tbsTlv || !algTlv || !sigTlv || sigTlv.tagByte !== 0x03) {
    throw new PkiError('PKI_ASN1_INVALID', 'not a Certificate');
  }
  const tbsParts = childrenOf(der, tbsTlv, 'der');
  const off = tbsParts[0]?.tagByte === 0xa0 ? 1 : 0;
  const issuerTlv = tbsParts[off + 2];
  const subjectTlv = tbsParts[off + 4];
  const spkiTlv = tbsParts[off + 5];
  if (!issuerTlv || !subjectTlv || !spkiTlv)
    throw new PkiError('PKI_ASN1_INVALID', 'truncated tbsCertificate');
  let asn: Certificate;
  try {
    asn = AsnConvert.parse(der, Certificate);
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'not a valid Certificate', { cause: e });
  }
  const tbs = asn.tbsCertificate;
  if (der[sigTlv.valueStart] !== 0)
    throw new PkiError('PKI_ASN1_INVALID', 'signature BIT STRING has unused bits');
  const bc = extension(asn, id_ce_basicConstraints, BasicConstraints);
  const ku = extension(asn, id_ce_keyUsage, KeyUsage);
  const eku = extension(asn, id_ce_extKeyUsage, ExtendedKeyUsage);
  const extensions: RawExtension[] = (tbs.extensions ? [...tbs.extensions] : []).map((e) => ({
    oid: e.extnID,
    critical: e.critical,
    value: new Uint8Array(e.extnValue.buffer),
  }));
  if (new Set(extensions.map((e) => e.oid)).size !== extensions.length)
    throw new PkiError('PKI_ASN1_INVALID', 'an extension appears twice (RFC 5280 §4.2)');
  let decoded: DecodedExtensions;
  try {
    decoded = decodeExtensions(extensions, (d) => nameToString(AsnConvert.parse(d, Name)));
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('PKI_ASN1_INVALID', 'malformed certificate extension', { cause: e });
  }
  let serial = Buffer.from(tbs.serialNumber).toString('hex');
  while (serial.startsWith('00') && serial.length > 2) serial = serial.slice(2);
  try {
    return {
      der,
      asn,
      tbs: tlvBytes(der, tbsTlv),
      signatureAlgorithm: asn.signatureAlgorithm.algorithm,
      signature: der.subarray(sigTlv.valueStart + 1, sigTlv.end),
      issuerDer: tlvBytes(der, issuerTlv),
      subjectDer: tlvBytes(der, subjectTlv),
      spki: tlvBytes(der, spkiTlv),
      subject: nameToString(tbs.subject),
      issuer: nameToString(tbs.issuer),
      serialHex: serial,
      notBefore: tbs.validity.notBefore.getTime(),
      notAfter: tbs.validity.notAfter.getTime(),
      basicConstraints: bc ? { ca: bc.cA, pathLength: bc.pathLenConstraint } : undefined,
      keyUsage: ku?.toNumber(),
      extKeyUsage: eku ? [...eku] : undefined,
      version: (tbs.version as number) + 1,
      extensions,
      ...decoded,
    };
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'malformed certificate field', { cause: e });
  }
}

/** Whether `issuer`'s key verifies `cert`'s signature over the received tbsCertificate bytes. */
export function isSignedBy(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  policy: AlgorithmPolicy = {},
): boolean {
  // An issuer key of another kind did not sign it; an unknown algorithm is still reported by verifySignature.
  if (isKnownSignatureAlgorithm(cert.signatureAlgorithm) && !fitsKey(cert.signatureAlgorithm, issuer.spki))
    return false;
  return verifySignature(
    { algorithm: cert.signatureAlgorithm, spki: issuer.spki, data: cert.tbs, signature: cert.signature },
    policy,
  );
}

/** Whether `issuer`'s subject is `cert`'s issuer name (RFC 5280 §7.1 name matching, {@link namesMatch}). */
export function isIssuerName(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  return namesMatch(cert.issuerDer, issuer.subjectDer);
}

/** Self-issued (RFC 5280 §6.1): subject and issuer names match. */
export function isSelfIssued(cert: ParsedCertificate): boolean {
  return namesMatch(cert.issuerDer, cert.subjectDer);
}

/** Throws PKI_CERT_NOT_YET_VALID / PKI_CERT_EXPIRED when `at` is outside [notBefore, notAfter]. */
export function checkValidity(cert: ParsedCertificate, at: Date, chainIndex?: number): void {
  const context = {
    certificate: cert.subject,
    check: 'validity',
    ...(chainIndex === undefined ? {} : { chainIndex }),
  };
  if (at.getTime() < cert.notBefore.getTime()) {
    throw new PkiError(
      'PKI_CERT_NOT_YET_VALID',
      `${cert.subject} is not valid before ${cert.notBefore.toISOString()}`,
      { context },
    );
  }
  if (at.getTime() > cert.notAfter.getTime()) {
    throw new PkiError('PKI_CERT_EXPIRED', `${cert.subject} expired at ${cert.notAfter.toISOString()}`, {
      context,
    });
  }
}
