/**
 * CMS SignedData verification (RFC 5652 §5; GM/T 0010 for SM2, whose OIDs 1.2.156.10197.6.1.4.2.x are accepted
 * beside RFC 5652's). The signed-attributes digest is computed over the exact bytes received, with the [0] tag
 * replaced by SET OF (RFC 5652 §5.4) — never re-encoded, so BER input verifies as sent.
 *
 *   SignedData ::= SEQUENCE { version CMSVersion, digestAlgorithms SET OF DigestAlgorithmIdentifier,
 *     encapContentInfo EncapsulatedContentInfo, certificates [0] IMPLICIT CertificateSet OPTIONAL,
 *     crls [1] IMPLICIT RevocationInfoChoices OPTIONAL, signerInfos SET OF SignerInfo }
 *   SignerInfo ::= SEQUENCE { version, sid SignerIdentifier, digestAlgorithm, signedAttrs [0] IMPLICIT OPTIONAL,
 *     signatureAlgorithm, signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL }
 *
 * The crls field is walked with the hardened TLV reader, not the schema (whose RevocationInfoChoice fails on
 * every CertificateList): each CertificateList is parsed with {@link parseCrl} and exposed as `crls`, so a
 * verifier can use them as a revocation source (`revocation.embeddedCrls`); an OtherRevocationInfoFormat is
 * kept, undecoded, in `otherRevocationInfo`.
 *
 *   RevocationInfoChoice ::= CHOICE { crl CertificateList, other [1] IMPLICIT OtherRevocationInfoFormat }
 *   OtherRevocationInfoFormat ::= SEQUENCE { otherRevInfoFormat OBJECT IDENTIFIER, otherRevInfo ANY }
 *
 * CAdES-T (ETSI EN 319 122-1 §5.3; RFC 3161 Appendix A): each signer's unsigned attribute id-aa-timeStampToken
 * (1.2.840.113549.1.9.16.2.14) holds RFC 3161 tokens whose messageImprint is over that signer's signature
 * value; each is verified ({@link verifyTimeStampToken}) and reported in the signer's result, and a valid one
 * supplies the time at which the signer's certificate is validated when no `at` is given.
 *
 *   SignatureTimeStampToken ::= TimeStampToken
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { SignedData } from '@peculiar/asn1-cms';
import * as asn1js from 'asn1js';
import { digest, digestName, verifySignature, type AlgorithmPolicy } from './algorithms.js';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import {
  KEY_USAGE,
  crlRevocationSource,
  verifyChain,
  type RevocationCheck,
  type RevocationOptions,
} from './chain.js';
import type { ChainValidator } from './chain-cache.js';
import { parseCrl, type ParsedCrl } from './crl.js';
import {
  childrenOf,
  copyOf,
  fromPem,
  sameBytes,
  sameBytesAt,
  scanDer,
  tlvBytes,
  type DerLimits,
  type Tlv,
} from './der.js';
import { tlv } from './der-writer.js';
import { attributeOctets, attributeOid, attributeTime } from './der-values.js';
import { verifyTimeStampToken, type TimeStampVerification } from './tsp-verify.js';
import {
  PkiError,
  failureOf,
  resultOf,
  type VerificationFailure,
  type VerificationResult,
} from './errors.js';
import { namesMatch } from './name-compare.js';

export const CMS_OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  /** GM/T 0010 data / signedData. */
  gmData: '1.2.156.10197.6.1.4.2.1',
  gmSignedData: '1.2.156.10197.6.1.4.2.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  timeStampToken: '1.2.840.113549.1.9.16.2.14',
} as const;

export interface ParsedSignerInfo {
  readonly index: number;
  readonly digestAlgorithm: string;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  /** The signed attributes as received, with the tag already set to SET OF (0x31): the bytes that were signed. */
  readonly signedAttrs: Uint8Array | undefined;
  readonly attributes: ReadonlyMap<string, readonly Uint8Array[]>;
  readonly unsignedAttributes: ReadonlyMap<string, readonly Uint8Array[]>;
  /** Raw sid: IssuerAndSerialNumber's issuer Name and serial INTEGER contents, or the subjectKeyIdentifier. */
  readonly sid: { readonly issuer: Uint8Array; readonly serial: Uint8Array } | { readonly ski: Uint8Array };
}

export interface ParsedSignedData {
  readonly der: Uint8Array;
  readonly contentType: string;
  readonly eContentType: string;
  /** The encapsulated content, undefined when detached. */
  readonly content: Uint8Array | undefined;
  readonly certificates: readonly ParsedCertificate[];
  /** The CRLs carried in `crls` (RevocationInfoChoice crl), in order, each parsed by {@link parseCrl}. */
  readonly crls: readonly ParsedCrl[];
  /** The OtherRevocationInfoFormat entries of `crls` (e.g. RFC 5940 OCSP responses), not decoded. */
  readonly otherRevocationInfo: readonly OtherRevocationInfo[];
  readonly signers: readonly ParsedSignerInfo[];
}

export interface OtherRevocationInfo {
  readonly format: string;
  /** The otherRevInfo value, as received (TLV). */
  readonly value: Uint8Array;
}

function bad(message: string): PkiError {
  return new PkiError('PKI_ASN1_INVALID', message);
}

/** Contents of an OCTET STRING, primitive or constructed (BER). */
function octets(bytes: Uint8Array, t: Tlv): Uint8Array {
  if ((t.tagByte & 0x1f) !== 0x04 && t.tagByte !== 0x80) throw bad('expected an OCTET STRING');
  if (!t.constructed) return bytes.subarray(t.valueStart, t.end);
  return Buffer.concat(childrenOf(bytes, t).map((c) => octets(bytes, c)));
}

function oidOf(bytes: Uint8Array, t: Tlv | undefined): string {
  if (!t || t.tagByte !== 0x06) throw bad('expected an OBJECT IDENTIFIER');
  const r = asn1js.fromBER(tlvBytes(bytes, t));
  if (r.offset === -1 || !(r.result instanceof asn1js.ObjectIdentifier))
    throw bad('malformed OBJECT IDENTIFIER');
  return r.result.getValue();
}

function attributesOf(bytes: Uint8Array, t: Tlv | undefined): Map<string, Uint8Array[]> {
  const out = new Map<string, Uint8Array[]>();
  if (!t) return out;
  for (const attr of childrenOf(bytes, t)) {
    const [typeTlv, valuesTlv] = childrenOf(bytes, attr);
    if (!valuesTlv) throw bad('malformed Attribute');
    const type = oidOf(bytes, typeTlv);
    if (out.has(type)) throw bad(`attribute ${type} appears twice`);
    out.set(
      type,
      childrenOf(bytes, valuesTlv).map((v) => tlvBytes(bytes, v)),
    );
  }
  return out;
}

/**
 * Reads `crls [1] IMPLICIT RevocationInfoChoices` with the TLV walk: each CertificateList is parsed (a copy of
 * its bytes) with {@link parseCrl}; an OtherRevocationInfoFormat must be SEQUENCE { OID, ANY }. Anything else is
 * PKI_ASN1_INVALID.
 */
export function revocationInfoOf(
  der: Uint8Array,
  crlsTlv: Tlv | undefined,
): { crls: ParsedCrl[]; otherRevocationInfo: OtherRevocationInfo[] } {
  const crls: ParsedCrl[] = [];
  const otherRevocationInfo: OtherRevocationInfo[] = [];
  if (crlsTlv?.tagByte !== 0xa1) return { crls, otherRevocationInfo };
  for (const c of childrenOf(der, crlsTlv)) {
    if (c.tagByte === 0x30) crls.push(parseCrl(Uint8Array.from(tlvBytes(der, c))));
    else if (c.tagByte === 0xa1) {
      const f = childrenOf(der, c);
      if (f.length !== 2 || !f[1]) throw bad('malformed OtherRevocationInfoFormat');
      otherRevocationInfo.push({ format: oidOf(der, f[0]), value: Uint8Array.from(tlvBytes(der, f[1])) });
    } else throw bad('unknown RevocationInfoChoice');
  }
  return { crls, otherRevocationInfo };
}

/** Parses a ContentInfo holding SignedData (DER or BER, or PEM "CMS"/"PKCS7"). */
export function parseSignedData(input: Uint8Array | string, limits: DerLimits = {}): ParsedSignedData {
  const der = fromPem(input);
  const top = scanDer(der, { mode: 'ber', ...limits });
  const [ctTlv, wrapTlv] = childrenOf(der, top);
  const contentType = oidOf(der, ctTlv);
  if (contentType !== CMS_OID.signedData && contentType !== CMS_OID.gmSignedData) {
    throw bad(`content type ${contentType} is not SignedData`);
  }
  if (!wrapTlv || wrapTlv.tagByte !== 0xa0) throw bad('missing [0] content');
  const [sdTlv] = childrenOf(der, wrapTlv);
  if (!sdTlv) throw bad('empty SignedData');
  const parts = childrenOf(der, sdTlv);
  const encapTlv = parts[2];
  const signerInfosTlv = parts[parts.length - 1];
  if (!encapTlv || !signerInfosTlv || parts.length < 4 || signerInfosTlv.tagByte !== 0x31)
    throw bad('malformed SignedData');
  const [eTypeTlv, eContentWrap] = childrenOf(der, encapTlv);
  const eContentType = oidOf(der, eTypeTlv);
  let content: Uint8Array | undefined;
  if (eContentWrap) {
    const [oct] = childrenOf(der, eContentWrap);
    if (!oct) throw bad('empty eContent');
    content = octets(der, oct);
  }
  // crls sits between encapContentInfo (and certificates) and signerInfos.
  const middle = parts.slice(3, -1);
  const certsTlv = middle[0]?.tagByte === 0xa0 ? middle[0] : undefined;
  const crlsTlv = middle[certsTlv ? 1 : 0];
  if (middle.length > (certsTlv ? 1 : 0) + (crlsTlv?.tagByte === 0xa1 ? 1 : 0))
    throw bad('malformed SignedData');
  const { crls, otherRevocationInfo } = revocationInfoOf(der, crlsTlv);
  // Parse with the schema too: it validates the structure the raw walk does not look into. Not over crls: the
  // schema's RevocationInfoChoice rejects every CertificateList; they are read above.
  let sd: SignedData;
  try {
    const withoutCrls = parts.filter((p) => p !== crlsTlv).map((p) => tlvBytes(der, p));
    sd = AsnConvert.parse(tlv(0x30, ...withoutCrls), SignedData);
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'not a valid SignedData', { cause: e });
  }
  const certificates: ParsedCertificate[] = [];
  if (certsTlv) {
    for (const c of childrenOf(der, certsTlv))
      if (c.tagByte === 0x30) certificates.push(parseCertificate(tlvBytes(der, c)));
  }
  const signers = childrenOf(der, signerInfosTlv).map((siTlv, index): ParsedSignerInfo => {
    const si = sd.signerInfos[index];
    const f = childrenOf(der, siTlv);
    const sidTlv = f[1];
    if (!si || !sidTlv) throw bad('malformed SignerInfo');
    const signedTlv = f.find((x) => x.tagByte === 0xa0);
    const unsignedTlv = f.find((x) => x.tagByte === 0xa1);
    const sigTlv = f[signedTlv ? 5 : 4];
    if (!sigTlv) throw bad('malformed SignerInfo');
    let sid: ParsedSignerInfo['sid'];
    if (sidTlv.tagByte === 0x30) {
      const [issuer, serial] = childrenOf(der, sidTlv);
      if (!issuer || !serial || serial.tagByte !== 0x02) throw bad('malformed IssuerAndSerialNumber');
      sid = { issuer: tlvBytes(der, issuer), serial: der.subarray(serial.valueStart, serial.end) };
    } else if (sidTlv.tagByte === 0x80) {
      sid = { ski: der.subarray(sidTlv.valueStart, sidTlv.end) };
    } else throw bad('unknown SignerIdentifier');
    let signedAttrs: Uint8Array | undefined;
    if (signedTlv) {
      if (signedTlv.indefinite) throw bad('signedAttrs with indefinite length');
      signedAttrs = copyOf(tlvBytes(der, signedTlv));
      signedAttrs[0] = 0x31;
    }
    return {
      index,
      digestAlgorithm: si.digestAlgorithm.algorithm,
      signatureAlgorithm: si.signatureAlgorithm.algorithm,
      signature: octets(der, sigTlv),
      signedAttrs,
      attributes: attributesOf(der, signedTlv),
      unsignedAttributes: attributesOf(der, unsignedTlv),
      sid,
    };
  });
  return { der, contentType, eContentType, content, certificates, crls, otherRevocationInfo, signers };
}

/** Each certificate's serial number as bytes, leading zeros dropped (computed once per certificate). */
const serialBytes = new WeakMap<ParsedCertificate, Uint8Array>();
export function serialOf(cert: ParsedCertificate): Uint8Array {
  let b = serialBytes.get(cert);
  if (b === undefined) {
    b = new Uint8Array(Buffer.from(cert.serialHex, 'hex'));
    serialBytes.set(cert, b);
  }
  return b;
}

export function findSignerCertificate(
  signer: ParsedSignerInfo,
  certs: readonly ParsedCertificate[],
): ParsedCertificate | undefined {
  return findCertificateBySid(signer.sid, certs);
}

/** The first of `certs` a SignerIdentifier designates (as {@link findSignerCertificate}). */
export function findCertificateBySid(
  sid: ParsedSignerInfo['sid'],
  certs: readonly ParsedCertificate[],
): ParsedCertificate | undefined {
  if ('ski' in sid)
    return certs.find(
      (c) => c.subjectKeyIdentifier !== undefined && sameBytes(c.subjectKeyIdentifier, sid.ski),
    );
  return findCertificateByIssuerSerial(
    certs,
    sid.issuer,
    0,
    sid.issuer.length,
    sid.serial,
    0,
    sid.serial.length,
  );
}

/**
 * The first of `certs` an IssuerAndSerialNumber designates: issuer Name `issuer[issuerFrom, issuerTo)` (the
 * same bytes, or a matching Name) and serialNumber INTEGER contents `serial[serialFrom, serialTo)` (leading
 * zero octets dropped, one kept, as `serialHex` drops them). Ranges, so that a reader of the message bytes
 * need not cut views.
 */
export function findCertificateByIssuerSerial(
  certs: readonly ParsedCertificate[],
  issuer: Uint8Array,
  issuerFrom: number,
  issuerTo: number,
  serial: Uint8Array,
  serialFrom: number,
  serialTo: number,
): ParsedCertificate | undefined {
  let s = serialFrom;
  while (s < serialTo - 1 && serial[s] === 0) s++;
  for (const c of certs) {
    if (!sameBytesAt(serialOf(c), serial, s, serialTo)) continue;
    if (sameBytesAt(c.issuerDer, issuer, issuerFrom, issuerTo)) return c;
    const name =
      issuerFrom === 0 && issuerTo === issuer.length ? issuer : issuer.subarray(issuerFrom, issuerTo);
    if (namesMatch(c.issuerDer, name)) return c;
  }
  return undefined;
}

export interface VerifySignedDataOptions {
  /** The content, for detached signatures. */
  readonly content?: Uint8Array;
  /** Certificates supplied beside the message. */
  readonly certificates?: readonly ParsedCertificate[];
  /**
   * When given, each signer's certificate path is validated at `at` (default: the genTime of its earliest valid
   * signature timestamp, else its signingTime).
   */
  readonly trustAnchors?: readonly ParsedCertificate[];
  readonly at?: Date;
  readonly policy?: AlgorithmPolicy;
  /** Trust anchors for the TSAs of signature timestamps (default: `trustAnchors`; none: no TSA chain check). */
  readonly timeStampTrustAnchors?: readonly ParsedCertificate[];
  /** Accept SHA-1 imprints in signature timestamps (default false). */
  readonly allowSha1TimeStamps?: boolean;
  /** The extendedKeyUsage check of signature timestamps' TSA certificates (default 'strict', RFC 3161 §2.3). */
  readonly tsaExtKeyUsage?: 'strict' | 'lenient';
  /**
   * Check each signer's certificate path for revocation at its validation time (needs `trustAnchors`):
   * passed to `verifyChain`, reported per signer in `revocation`.
   */
  readonly revocation?: SignatureRevocationOptions;
  /**
   * Validates each signer's certificate path in place of {@link verifyChain} (same contract), e.g. the
   * caching {@link cachedChainValidator} that `createCmsVerifier` uses.
   */
  readonly chainValidator?: ChainValidator;
}

/** Revocation checking of a signer's certificate path: {@link RevocationOptions} plus the message's own CRLs. */
export interface SignatureRevocationOptions extends RevocationOptions {
  /**
   * Also ask the CRLs carried in the SignedData (`crls`), after `sources` (default false). They count only
   * when their signature verifies under the issuer's key, as with any {@link crlRevocationSource}.
   */
  readonly embeddedCrls?: boolean;
}

export interface SignerResult {
  readonly index: number;
  readonly certificate: ParsedCertificate | undefined;
  readonly signingTime: Date | undefined;
  /** The signature timestamps (CAdES-T) of this signer, each verified over its signature value. */
  readonly timeStamps: readonly TimeStampVerification[];
  /** The time the signer's certificate path was validated at, when it was. */
  readonly validatedAt: Date | undefined;
  /** Per certificate of the signer's path, what revocation checking found (empty without `revocation`). */
  readonly revocation: readonly RevocationCheck[];
  readonly failures: readonly VerificationFailure[];
}

export interface SignedDataResult extends VerificationResult {
  readonly signers: readonly SignerResult[];
  readonly content: Uint8Array | undefined;
}

function singleValue(signer: ParsedSignerInfo, oid: string): Uint8Array | undefined {
  const v = signer.attributes.get(oid);
  if (v === undefined) return undefined;
  if (v.length !== 1 || v[0] === undefined) throw bad(`attribute ${oid} must have one value`);
  return v[0];
}

function signingTimeOf(signer: ParsedSignerInfo): Date | undefined {
  const v = singleValue(signer, CMS_OID.signingTime);
  if (v === undefined) return undefined;
  const t = attributeTime(v);
  if (t === undefined) throw bad('malformed signingTime');
  return t;
}

function verifySigner(
  sd: ParsedSignedData,
  signer: ParsedSignerInfo,
  options: VerifySignedDataOptions,
): SignerResult {
  const ctx = { signerIndex: signer.index };
  const failures: VerificationFailure[] = [];
  let certificate: ParsedCertificate | undefined;
  let signingTime: Date | undefined;
  let validatedAt: Date | undefined;
  let revocation: readonly RevocationCheck[] = [];
  const all = options.certificates ? [...sd.certificates, ...options.certificates] : sd.certificates;
  const timeStamps = signatureTimeStamps(signer, all, options);
  for (const [i, ts] of timeStamps.entries()) {
    failures.push(
      ...ts.failures.map((f) => ({
        ...f,
        signerIndex: signer.index,
        check: `timeStamp[${i}].${f.check ?? 'token'}`,
      })),
    );
  }
  try {
    signingTime = signingTimeOf(signer);
    certificate = findSignerCertificate(signer, all);
    if (!certificate)
      throw new PkiError('PKI_CMS_NO_SIGNER_CERT', `no certificate for signer ${signer.index}`, {
        context: { check: 'signerCertificate' },
      });
    const cctx = { signerIndex: signer.index, certificate: certificate.subject };
    const content = sd.content ?? options.content;
    if (content === undefined)
      throw new PkiError('PKI_CMS_CONTENT_MISSING', 'detached signature without content', {
        context: { check: 'content' },
      });
    const policy = options.policy ?? {};
    const hash = digestName(signer.digestAlgorithm, policy);
    let signed = content;
    if (signer.signedAttrs) {
      const md = singleValue(signer, CMS_OID.messageDigest);
      const ct = singleValue(signer, CMS_OID.contentType);
      if (md === undefined || ct === undefined) throw bad('signedAttrs lack messageDigest or contentType');
      const expected = attributeOctets(md);
      if (expected === undefined) throw bad('malformed messageDigest');
      if (!sameBytes(expected, digest(hash, content, policy))) {
        failures.push({
          ...cctx,
          code: 'PKI_CMS_DIGEST_MISMATCH',
          check: 'messageDigest',
          message: 'messageDigest does not match the content',
        });
      }
      if (attributeOid(ct) !== sd.eContentType) {
        failures.push({
          ...cctx,
          code: 'PKI_CMS_SIGNATURE_INVALID',
          check: 'contentType',
          message: 'contentType attribute differs from eContentType',
        });
      }
      signed = signer.signedAttrs;
    }
    if (
      !verifySignature(
        {
          algorithm: signer.signatureAlgorithm,
          digestAlgorithm: signer.digestAlgorithm,
          spki: certificate.spki,
          data: signed,
          signature: signer.signature,
        },
        policy,
      )
    ) {
      failures.push({
        ...cctx,
        code: 'PKI_CMS_SIGNATURE_INVALID',
        check: 'signature',
        message: 'signature does not verify',
      });
    }
    if (options.revocation && !options.trustAnchors)
      throw new PkiError(
        'PKI_INVALID_ARGUMENT',
        'revocation checking needs trustAnchors (a certificate path)',
        {
          context: { check: 'revocation' },
        },
      );
    if (options.trustAnchors) {
      const stamped = timeStamps
        .filter((t) => t.valid && t.genTime !== undefined)
        .map((t) => t.genTime as Date)
        .sort((x, y) => x.getTime() - y.getTime())[0];
      const at = options.at ?? stamped ?? signingTime;
      validatedAt = at;
      if (at === undefined)
        throw new PkiError('PKI_INVALID_ARGUMENT', 'no validation time: pass `at` (no signingTime)');
      const chain = (options.chainValidator ?? verifyChain)(certificate, {
        trustAnchors: options.trustAnchors,
        intermediates: all,
        at,
        keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation,
        ...(options.policy ? { policy: options.policy } : {}),
        ...(options.revocation ? { revocation: revocationFor(sd, options) } : {}),
      });
      revocation = chain.revocation;
      failures.push(...chain.failures.map((f) => ({ ...f, signerIndex: signer.index })));
    }
  } catch (e) {
    failures.push(failureOf(e, { ...ctx, ...(certificate ? { certificate: certificate.subject } : {}) }));
  }
  return { index: signer.index, certificate, signingTime, timeStamps, validatedAt, revocation, failures };
}

/** The chain's revocation options: the caller's sources, then (with `embeddedCrls`) the message's CRLs. */
function revocationFor(
  sd: ParsedSignedData,
  options: VerifySignedDataOptions,
): RevocationOptions | undefined {
  const r = options.revocation;
  if (!r) return undefined;
  const embedded =
    r.embeddedCrls === true && sd.crls.length > 0
      ? [crlRevocationSource(sd.crls, options.policy ? { policy: options.policy } : {})]
      : [];
  return { mode: r.mode, sources: [...r.sources, ...embedded] };
}

/** Verifies each id-aa-timeStampToken of `signer` over its signature value (CAdES-T). */
function signatureTimeStamps(
  signer: ParsedSignerInfo,
  certificates: readonly ParsedCertificate[],
  options: VerifySignedDataOptions,
): TimeStampVerification[] {
  const tokens = signer.unsignedAttributes.get(CMS_OID.timeStampToken) ?? [];
  const anchors = options.timeStampTrustAnchors ?? options.trustAnchors;
  return tokens.map((token) =>
    verifyTimeStampToken({
      token,
      data: signer.signature,
      intermediates: certificates,
      ...(anchors ? { trustAnchors: anchors } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.allowSha1TimeStamps === true ? { allowSha1: true } : {}),
      ...(options.tsaExtKeyUsage ? { tsaExtKeyUsage: options.tsaExtKeyUsage } : {}),
    }),
  );
}

/** Verifies every signer of a SignedData; never throws for bad input. */
export function verifySignedData(
  input: Uint8Array | string | ParsedSignedData,
  options: VerifySignedDataOptions = {},
): SignedDataResult {
  let sd: ParsedSignedData;
  try {
    sd = typeof input === 'object' && 'signers' in input ? input : parseSignedData(input);
  } catch (e) {
    return { ...resultOf([failureOf(e)]), signers: [], content: undefined };
  }
  const signers: SignerResult[] = [];
  const failures: VerificationFailure[] = [];
  for (const s of sd.signers) {
    const r = verifySigner(sd, s, options);
    signers.push(r);
    for (const f of r.failures) failures.push(f);
  }
  if (sd.signers.length === 0)
    failures.push({ code: 'PKI_CMS_NO_SIGNER_CERT', check: 'signers', message: 'no signers' });
  return { valid: failures.length === 0, failures, signers, content: sd.content ?? options.content };
}
