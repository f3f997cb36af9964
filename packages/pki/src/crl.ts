/**
 * Certificate revocation lists (RFC 5280 §5). The signature is verified over the received tbsCertList bytes.
 *
 *   CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier,
 *                                  signatureValue BIT STRING }
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  CRLReason,
  CRLReasons,
  CertificateList,
  id_ce_authorityKeyIdentifier,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  type Extension,
} from '@peculiar/asn1-x509';
import { fitsKey, verifySignature, type AlgorithmPolicy } from './algorithms.js';
import { KEY_USAGE, nameToString, type ParsedCertificate } from './certificate.js';
import { childrenOf, fromPem, scanDer, tlvBytes, type DerLimits } from './der.js';
import { PkiError } from './errors.js';
import { namesMatch } from './name-compare.js';

/** CRLReason (RFC 5280 §5.3.1) names. */
export type CrlReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** One revokedCertificates entry. */
export interface CrlEntry {
  readonly serialHex: string;
  readonly revocationDate: Date;
  /** From the reasonCode entry extension, when present. */
  readonly reason: CrlReason | undefined;
}

export interface ParsedCrl {
  readonly der: Uint8Array;
  readonly asn: CertificateList;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Revoked serials (lowercase hex, no leading zero octets) → revocation date. */
  readonly revoked: ReadonlyMap<string, Date>;
  /** Revoked serials → the entry with its reason. */
  readonly entries: ReadonlyMap<string, CrlEntry>;
  /** The cRLNumber extension (RFC 5280 §5.2.3), when present. */
  readonly crlNumber: bigint | undefined;
  /** The authorityKeyIdentifier's keyIdentifier (RFC 5280 §5.2.1), when present. */
  readonly authorityKeyIdentifier: Uint8Array | undefined;
  /** OIDs of CRL extensions marked critical. */
  readonly criticalExtensions: readonly string[];
}

function extValue<T>(exts: readonly Extension[] | undefined, oid: string, type: new () => T): T | undefined {
  const ext = exts?.find((e) => e.extnID === oid);
  return ext ? AsnConvert.parse(ext.extnValue.buffer, type) : undefined;
}

/** A non-negative INTEGER (cRLNumber, RFC 5280 §5.2.3: 0..MAX, at most 20 octets). */
function unsignedInteger(buf: ArrayBuffer): bigint {
  const bytes = new Uint8Array(buf);
  const t = scanDer(bytes, { maxDepth: 1 });
  const len = t.end - t.valueStart;
  if (t.tagByte !== 0x02 || len < 1 || len > 21 || ((bytes[t.valueStart] ?? 0) & 0x80) !== 0)
    throw new PkiError('PKI_ASN1_INVALID', 'cRLNumber is not a non-negative INTEGER of at most 20 octets');
  return BigInt(`0x${Buffer.from(bytes.subarray(t.valueStart, t.end)).toString('hex')}`);
}

function reasonOf(exts: readonly Extension[] | undefined): CrlReason | undefined {
  const r = extValue(exts, id_ce_cRLReasons, CRLReason);
  if (r === undefined) return undefined;
  const name = CRLReasons[r.reason] as CrlReason | undefined;
  if (name === undefined) throw new PkiError('PKI_ASN1_INVALID', `unknown CRL reason ${r.reason}`);
  return name;
}

function serialHex(buf: ArrayBuffer): string {
  let s = Buffer.from(buf).toString('hex');
  while (s.startsWith('00') && s.length > 2) s = s.slice(2);
  return s;
}

export function parseCrl(input: Uint8Array | string, limits: DerLimits = {}): ParsedCrl {
  const der = fromPem(input, 'X509 CRL');
  const top = scanDer(der, { maxSize: 64 * 1024 * 1024, ...limits });
  const [tbsTlv, , sigTlv] = childrenOf(der, top, 'der');
  if (!tbsTlv || !sigTlv || sigTlv.tagByte !== 0x03)
    throw new PkiError('PKI_ASN1_INVALID', 'not a CertificateList');
  const tbsParts = childrenOf(der, tbsTlv, 'der');
  const issuerTlv = tbsParts[tbsParts[0]?.tagByte === 0x02 ? 2 : 1];
  if (!issuerTlv) throw new PkiError('PKI_ASN1_INVALID', 'truncated tbsCertList');
  try {
    const asn = AsnConvert.parse(der, CertificateList);
    const t = asn.tbsCertList;
    const revoked = new Map<string, Date>();
    const entries = new Map<string, CrlEntry>();
    for (const r of t.revokedCertificates ?? []) {
      const serial = serialHex(r.userCertificate);
      const revocationDate = r.revocationDate.getTime();
      revoked.set(serial, revocationDate);
      entries.set(serial, { serialHex: serial, revocationDate, reason: reasonOf(r.crlEntryExtensions) });
    }
    const numberExt = t.crlExtensions?.find((e) => e.extnID === id_ce_cRLNumber);
    const aki = extValue(t.crlExtensions, id_ce_authorityKeyIdentifier, AuthorityKeyIdentifier);
    return {
      der,
      asn,
      tbs: tlvBytes(der, tbsTlv),
      signatureAlgorithm: asn.signatureAlgorithm.algorithm,
      signature: der.subarray(sigTlv.valueStart + 1, sigTlv.end),
      issuerDer: tlvBytes(der, issuerTlv),
      issuer: nameToString(t.issuer),
      thisUpdate: t.thisUpdate.getTime(),
      nextUpdate: t.nextUpdate?.getTime(),
      revoked,
      entries,
      crlNumber: numberExt === undefined ? undefined : unsignedInteger(numberExt.extnValue.buffer),
      authorityKeyIdentifier: aki?.keyIdentifier ? new Uint8Array(aki.keyIdentifier.buffer) : undefined,
      criticalExtensions: (t.crlExtensions ?? []).filter((e) => e.critical).map((e) => e.extnID),
    };
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'not a valid CertificateList', { cause: e });
  }
}

/**
 * Verifies the CRL's signature with `issuer` (whose name must match and, if it has keyUsage, must allow
 * cRLSign) and, when `at` is given, that `at` is within [thisUpdate, nextUpdate]. Throws
 * PKI_CRL_SIGNATURE_INVALID, PKI_KEY_USAGE or PKI_CRL_EXPIRED.
 */
export function verifyCrl(
  crl: ParsedCrl,
  issuer: ParsedCertificate,
  options: { at?: Date; policy?: AlgorithmPolicy } = {},
): void {
  const context = { certificate: issuer.subject, check: 'crl' };
  if (!namesMatch(crl.issuerDer, issuer.subjectDer)) {
    throw new PkiError('PKI_CRL_SIGNATURE_INVALID', `CRL issuer ${crl.issuer} is not ${issuer.subject}`, {
      context,
    });
  }
  if (issuer.keyUsage !== undefined && (issuer.keyUsage & KEY_USAGE.cRLSign) === 0) {
    throw new PkiError('PKI_KEY_USAGE', `${issuer.subject} lacks cRLSign`, { context });
  }
  const ok =
    fitsKey(crl.signatureAlgorithm, issuer.spki) &&
    verifySignature(
      { algorithm: crl.signatureAlgorithm, spki: issuer.spki, data: crl.tbs, signature: crl.signature },
      options.policy,
    );
  if (!ok)
    throw new PkiError('PKI_CRL_SIGNATURE_INVALID', `CRL signature of ${crl.issuer} does not verify`, {
      context,
    });
  const at = options.at;
  if (at !== undefined && (at < crl.thisUpdate || (crl.nextUpdate !== undefined && at > crl.nextUpdate))) {
    throw new PkiError('PKI_CRL_EXPIRED', `CRL of ${crl.issuer} does not cover ${at.toISOString()}`, {
      context,
    });
  }
}

/** The revocation date of `cert` in `crl` when it was revoked at or before `at` (or at all), else undefined. */
export function revocationOf(crl: ParsedCrl, cert: ParsedCertificate, at?: Date): Date | undefined {
  if (!namesMatch(crl.issuerDer, cert.issuerDer)) return undefined;
  const date = crl.revoked.get(cert.serialHex);
  if (date === undefined || (at !== undefined && date > at)) return undefined;
  return date;
}

/** Throws PKI_REVOKED when `cert` is revoked by `crl` at `at` (the CRL must have been verified). */
export function checkRevocation(crl: ParsedCrl, cert: ParsedCertificate, at?: Date): void {
  const date = revocationOf(crl, cert, at);
  if (date !== undefined) {
    throw new PkiError(
      'PKI_REVOKED',
      `${cert.subject} (serial ${cert.serialHex}) revoked at ${date.toISOString()}`,
      {
        context: { certificate: cert.subject, check: 'revocation' },
      },
    );
  }
}
