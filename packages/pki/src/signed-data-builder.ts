/**
 * CMS SignedData building (RFC 5652 §5; GM/T 0010 §8 for SM2). DER throughout: signed attributes are a SET OF
 * sorted by encoding and signed with the SET OF tag (RFC 5652 §5.4), then stored under [0] IMPLICIT.
 *
 *   ContentInfo ::= SEQUENCE { contentType ContentType, content [0] EXPLICIT ANY DEFINED BY contentType }
 *   SignedData ::= SEQUENCE { version CMSVersion, digestAlgorithms SET OF DigestAlgorithmIdentifier,
 *     encapContentInfo EncapsulatedContentInfo, certificates [0] IMPLICIT CertificateSet OPTIONAL,
 *     crls [1] IMPLICIT RevocationInfoChoices OPTIONAL, signerInfos SET OF SignerInfo }
 *   EncapsulatedContentInfo ::= SEQUENCE { eContentType ContentType, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
 *   SignerInfo ::= SEQUENCE { version CMSVersion, sid SignerIdentifier, digestAlgorithm,
 *     signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL, signatureAlgorithm, signature OCTET STRING,
 *     unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
 *   SignerIdentifier ::= CHOICE { issuerAndSerialNumber IssuerAndSerialNumber,
 *                                 subjectKeyIdentifier [0] SubjectKeyIdentifier }
 *   Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }
 *   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies ... OPTIONAL }   (RFC 5035 §3)
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256}, certHash OCTET STRING,
 *                              issuerSerial IssuerSerial OPTIONAL }
 *   IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 *
 * With `oids: 'gmt0010'` the content types are GM/T 0010's (signedData 1.2.156.10197.6.1.4.2.2, data
 * 1.2.156.10197.6.1.4.2.1) and SM2 SignerInfos name sm2sign (1.2.156.10197.1.301.1) as signatureAlgorithm;
 * with 'rfc5652' (default) they use RFC 5652's and SM3withSM2 (1.2.156.10197.1.501).
 */
import { createHash } from 'node:crypto';
import { digest, digestName, OID } from './algorithms.js';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { childrenOf, scanDer, tlvBytes, type Tlv } from './der.js';
import {
  TAG,
  algorithmIdentifier,
  explicit,
  integer,
  octetString,
  oid,
  retag,
  sequence,
  setOf,
  signatureAlgorithmIdentifier,
  time,
  tlv,
} from './der-writer.js';
import { PkiError } from './errors.js';
import { CMS_OID } from './signed-data.js';
import type { Signer } from './signer.js';

/** One attribute: its type and the DER of each AttributeValue. */
export interface Attr {
  readonly oid: string;
  readonly values: readonly Uint8Array[];
}

export interface SignerSpec {
  readonly signer: Signer;
  readonly certificate: Uint8Array | ParsedCertificate;
  /**
   * Sign over signed attributes (default true): contentType, messageDigest, signingTime and
   * signingCertificateV2 unless left out by `omitSignedAttributes` or replaced by an `extraSignedAttributes`
   * entry of the same type. False signs the content itself.
   */
  readonly signedAttributes?: boolean;
  /** The signingTime attribute's value (default: the time of the call). */
  readonly signingTime?: Date;
  /** More signed attributes; one of the same type as a default one replaces it. */
  readonly extraSignedAttributes?: readonly Attr[];
  /** Default attributes to leave out: signingTime and/or signingCertificateV2 (by OID). */
  readonly omitSignedAttributes?: readonly string[];
  readonly unsignedAttributes?: readonly Attr[];
  /** How the signer is identified (default issuerAndSerialNumber; SKI needs the certificate's extension). */
  readonly sid?: 'issuerAndSerialNumber' | 'subjectKeyIdentifier';
}

export interface BuildSignedDataOptions {
  readonly content: Uint8Array;
  /** Leave eContent out (the content travels beside the signature). */
  readonly detached?: boolean;
  /** eContentType (default id-data, or GM/T 0010 data with `oids: 'gmt0010'`). */
  readonly eContentType?: string;
  readonly signers: readonly SignerSpec[];
  /**
   * More certificates to include (the signers' own are included unless `includeSignerCertificates` is false).
   * DER is parsed to check it; a ParsedCertificate is included as its `der` without parsing again.
   */
  readonly certificates?: readonly (Uint8Array | ParsedCertificate)[];
  readonly includeSignerCertificates?: boolean;
  /** CRLs (CertificateList DER) to include. */
  readonly crls?: readonly Uint8Array[];
  readonly oids?: 'rfc5652' | 'gmt0010';
}

function attribute(a: Attr): Uint8Array {
  if (a.values.length === 0) throw new PkiError('PKI_INVALID_ARGUMENT', `attribute ${a.oid} has no values`);
  for (const v of a.values) scanDer(v);
  return sequence(oid(a.oid), setOf(a.values));
}

/**
 * Per-certificate encodings that do not change between signatures (a TSA signs thousands of tokens with one
 * certificate): computed once per ParsedCertificate object, held weakly so that they go with it.
 */
const essCertIdCache = new WeakMap<ParsedCertificate, Uint8Array>();
const serialCache = new WeakMap<ParsedCertificate, Uint8Array>();

/** The DER value of a signingCertificateV2 attribute for `cert` (SHA-256 ESSCertIDv2 with issuerSerial). */
export function signingCertificateV2Value(cert: ParsedCertificate): Uint8Array {
  let value = essCertIdCache.get(cert);
  if (value === undefined) {
    value = essCertIdV2(cert);
    essCertIdCache.set(cert, value);
  }
  return value.slice();
}

function essCertIdV2(cert: ParsedCertificate): Uint8Array {
  const hash = new Uint8Array(createHash('sha256').update(cert.der).digest());
  const issuerSerial = sequence(sequence(explicit(4, cert.issuerDer)), serialInteger(cert));
  // hashAlgorithm is DEFAULT id-sha256: DER leaves it out (X.690 §11.5).
  return sequence(sequence(sequence(octetString(hash), issuerSerial)));
}

function serialInteger(cert: ParsedCertificate): Uint8Array {
  let value = serialCache.get(cert);
  if (value === undefined) {
    value = serialIntegerOf(cert);
    serialCache.set(cert, value);
  }
  return value;
}

function serialIntegerOf(cert: ParsedCertificate): Uint8Array {
  const t = childrenOf(cert.tbs, scanDer(cert.tbs), 'der');
  const serial = t[t[0]?.tagByte === 0xa0 ? 1 : 0];
  if (!serial || serial.tagByte !== TAG.INTEGER) throw new PkiError('PKI_ASN1_INVALID', 'no serialNumber');
  return tlvBytes(cert.tbs, serial);
}

function subjectKeyIdentifierOf(cert: ParsedCertificate): Uint8Array {
  const ext = cert.asn.tbsCertificate.extensions?.find((e) => e.extnID === '2.5.29.14');
  if (!ext) throw new PkiError('PKI_INVALID_ARGUMENT', `${cert.subject} has no subjectKeyIdentifier`);
  const inner = new Uint8Array(ext.extnValue.buffer);
  const t = scanDer(inner);
  if (t.tagByte !== TAG.OCTET_STRING)
    throw new PkiError('PKI_ASN1_INVALID', 'malformed subjectKeyIdentifier');
  return inner.subarray(t.valueStart, t.end);
}

function signerInfo(
  spec: SignerSpec,
  cert: ParsedCertificate,
  content: Uint8Array,
  eContentType: string,
  gm: boolean,
): Uint8Array {
  const { signer } = spec;
  if (!Buffer.from(signer.publicKeyInfo).equals(Buffer.from(cert.spki))) {
    throw new PkiError('PKI_INVALID_ARGUMENT', `the signer's key is not the key of ${cert.subject}`);
  }
  const useSki = spec.sid === 'subjectKeyIdentifier';
  const sid = useSki
    ? tlv(0x80, subjectKeyIdentifierOf(cert))
    : sequence(cert.issuerDer, serialInteger(cert));
  const digestAlg = algorithmIdentifier(signer.digestAlgorithm);
  const sigOid = gm && signer.keyKind === 'sm2' ? OID.sm2Sign : signer.signatureAlgorithm;
  let signedAttrs: Uint8Array | undefined;
  let toSign = content;
  if (spec.signedAttributes ?? true) {
    const hash = digestName(signer.digestAlgorithm);
    const omit = new Set(spec.omitSignedAttributes ?? []);
    for (const o of omit) {
      if (o === CMS_OID.contentType || o === CMS_OID.messageDigest)
        throw new PkiError(
          'PKI_INVALID_ARGUMENT',
          'contentType and messageDigest are required (RFC 5652 §5.3)',
        );
    }
    const attrs = new Map<string, Attr>();
    attrs.set(CMS_OID.contentType, { oid: CMS_OID.contentType, values: [oid(eContentType)] });
    attrs.set(CMS_OID.messageDigest, {
      oid: CMS_OID.messageDigest,
      values: [octetString(digest(hash, content))],
    });
    if (!omit.has(CMS_OID.signingTime))
      attrs.set(CMS_OID.signingTime, {
        oid: CMS_OID.signingTime,
        values: [time(spec.signingTime ?? new Date())],
      });
    if (!omit.has(CMS_OID.signingCertificateV2))
      attrs.set(CMS_OID.signingCertificateV2, {
        oid: CMS_OID.signingCertificateV2,
        values: [signingCertificateV2Value(cert)],
      });
    for (const a of spec.extraSignedAttributes ?? []) attrs.set(a.oid, a);
    const set = setOf([...attrs.values()].map(attribute));
    toSign = set;
    signedAttrs = retag(set, 0xa0);
  }
  const signature = signer.sign(toSign);
  const unsigned = spec.unsignedAttributes ?? [];
  return sequence(
    integer(useSki ? 3 : 1),
    sid,
    digestAlg,
    ...(signedAttrs ? [signedAttrs] : []),
    signatureAlgorithmIdentifier(sigOid),
    octetString(signature),
    ...(unsigned.length > 0 ? [setOf(unsigned.map(attribute), 0xa1)] : []),
  );
}

/** Builds a DER ContentInfo holding SignedData. Throws PKI_INVALID_ARGUMENT for inconsistent options. */
export function buildSignedData(options: BuildSignedDataOptions): Uint8Array {
  if (options.signers.length === 0) throw new PkiError('PKI_INVALID_ARGUMENT', 'no signers');
  const gm = options.oids === 'gmt0010';
  const eContentType = options.eContentType ?? (gm ? CMS_OID.gmData : CMS_OID.data);
  const certs = options.signers.map((s) =>
    s.certificate instanceof Uint8Array ? parseCertificate(s.certificate) : s.certificate,
  );
  const signerInfos = options.signers.map((s, i) =>
    signerInfo(s, certs[i]!, options.content, eContentType, gm),
  );
  const digestAlgs = [...new Set(options.signers.map((s) => s.signer.digestAlgorithm))].map((o) =>
    algorithmIdentifier(o),
  );
  const certDers: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const c of [
    ...(options.includeSignerCertificates === false ? [] : certs),
    ...(options.certificates ?? []),
  ]) {
    const der = c instanceof Uint8Array ? c : c.der;
    const key = Buffer.from(der).toString('base64');
    if (!seen.has(key)) {
      seen.add(key);
      certDers.push(c instanceof Uint8Array ? parseCertificate(c).der : c.der);
    }
  }
  for (const crl of options.crls ?? []) scanDer(crl);
  const v3 =
    options.signers.some((s) => s.sid === 'subjectKeyIdentifier') ||
    (eContentType !== CMS_OID.data && eContentType !== CMS_OID.gmData);
  const encap = sequence(
    oid(eContentType),
    ...(options.detached === true ? [] : [explicit(0, octetString(options.content))]),
  );
  const signedData = sequence(
    integer(v3 ? 3 : 1),
    setOf(digestAlgs),
    encap,
    ...(certDers.length > 0 ? [setOf(certDers, 0xa0)] : []),
    ...((options.crls ?? []).length > 0 ? [setOf(options.crls ?? [], 0xa1)] : []),
    // Signer order is kept as given (not sorted) so that signer indexes stay those of `options.signers`.
    tlv(TAG.SET, ...signerInfos),
  );
  return sequence(oid(gm ? CMS_OID.gmSignedData : CMS_OID.signedData), explicit(0, signedData));
}

function rewrap(t: Tlv, children: readonly Uint8Array[]): Uint8Array {
  return tlv(t.tagByte, ...children);
}

/**
 * Adds an unsigned attribute to signer `signerIndex` of a SignedData ContentInfo (e.g. an RFC 3161
 * timeStampToken over the signature value, CAdES-T), keeping every other byte as it was: the containers around
 * the SignerInfo are re-encoded with definite lengths, their contents copied. Values are appended to an
 * existing attribute of the same type. Throws PKI_ASN1_INVALID / PKI_INVALID_ARGUMENT.
 */
export function addUnsignedAttribute(cmsDer: Uint8Array, signerIndex: number, attr: Attr): Uint8Array {
  const top = scanDer(cmsDer, { mode: 'ber' });
  const [ct, wrap] = childrenOf(cmsDer, top);
  if (!ct || !wrap || wrap.tagByte !== 0xa0) throw new PkiError('PKI_ASN1_INVALID', 'not a ContentInfo');
  const [sd] = childrenOf(cmsDer, wrap);
  if (!sd) throw new PkiError('PKI_ASN1_INVALID', 'empty ContentInfo');
  const sdParts = childrenOf(cmsDer, sd);
  const infos = sdParts[sdParts.length - 1];
  if (!infos || infos.tagByte !== TAG.SET || sdParts.length < 4)
    throw new PkiError('PKI_ASN1_INVALID', 'malformed SignedData');
  const siList = childrenOf(cmsDer, infos);
  const target = siList[signerIndex];
  if (target === undefined || !Number.isInteger(signerIndex))
    throw new PkiError('PKI_INVALID_ARGUMENT', `no signer ${signerIndex}`);
  const fields = childrenOf(cmsDer, target);
  const existing = fields.find((f) => f.tagByte === 0xa1);
  const attrs: Uint8Array[] = [];
  let merged = false;
  if (existing) {
    for (const a of childrenOf(cmsDer, existing)) {
      const [typeTlv, valuesTlv] = childrenOf(cmsDer, a);
      if (!typeTlv || !valuesTlv) throw new PkiError('PKI_ASN1_INVALID', 'malformed Attribute');
      if (Buffer.from(tlvBytes(cmsDer, typeTlv)).equals(Buffer.from(oid(attr.oid)))) {
        const values = childrenOf(cmsDer, valuesTlv).map((v) => tlvBytes(cmsDer, v));
        attrs.push(attribute({ oid: attr.oid, values: [...values, ...attr.values] }));
        merged = true;
      } else attrs.push(tlvBytes(cmsDer, a));
    }
  }
  if (!merged) attrs.push(attribute(attr));
  const newSi = rewrap(target, [
    ...fields.filter((f) => f.tagByte !== 0xa1).map((f) => tlvBytes(cmsDer, f)),
    setOf(attrs, 0xa1),
  ]);
  const newInfos = rewrap(
    infos,
    siList.map((s, i) => (i === signerIndex ? newSi : tlvBytes(cmsDer, s))),
  );
  const newSd = rewrap(sd, [...sdParts.slice(0, -1).map((f) => tlvBytes(cmsDer, f)), newInfos]);
  return sequence(tlvBytes(cmsDer, ct), explicit(0, newSd));
}
