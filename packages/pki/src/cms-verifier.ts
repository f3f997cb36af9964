/**
 * A CMS SignedData verifier for volume: the same checks as {@link verifySignedData} (it is called on the parsed
 * form), with the parsing made cheap.
 * - The SignedData is read with the hardened TLV walk alone — every field the verification uses is located and
 *   type-checked here — without the second, schema-driven decoding `parseSignedData` also does; OIDs are
 *   decoded directly.
 * - Certificates carried in messages are parsed once and kept by their exact bytes (bounded cache).
 * - SM2 public keys are imported once per SubjectPublicKeyInfo ({@link cachedSm2Provider}).
 * - With trust anchors, valid signer paths are kept and reused while provably unchanged
 *   ({@link cachedChainValidator}; never with revocation checking).
 * The SignedData structure is checked more strictly than by `parseSignedData` (extra SEQUENCE elements,
 * non-minimal OID arcs, certificate choices other than X.509 certificates and malformed CRLs are refused), but
 * values the verification does not use (a signed attribute of an unknown type, an unsigned attribute) are only
 * checked for sound TLV framing by `scanDer`, not decoded as the schema pass decodes them.
 *
 *   SignedData ::= SEQUENCE { version CMSVersion, digestAlgorithms SET OF DigestAlgorithmIdentifier,
 *     encapContentInfo EncapsulatedContentInfo, certificates [0] IMPLICIT CertificateSet OPTIONAL,
 *     crls [1] IMPLICIT RevocationInfoChoices OPTIONAL, signerInfos SET OF SignerInfo }      (RFC 5652 §5.1)
 *   SignerInfo ::= SEQUENCE { version CMSVersion, sid SignerIdentifier, digestAlgorithm DigestAlgorithmIdentifier,
 *     signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL, signatureAlgorithm SignatureAlgorithmIdentifier,
 *     signature SignatureValue, unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }      (RFC 5652 §5.3)
 */
import { sm2, sm3, type Sm2PublicKey } from '@yizheng/gm';
import type { Sm2Provider } from './algorithms.js';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { parseCrl, type ParsedCrl } from './crl.js';
import { childrenOf, copyOf, fromPem, scanDer, tlvBytes, type DerLimits, type Tlv } from './der.js';
import { BytesCache } from './bytes-cache.js';
import { cachedChainValidator } from './chain-cache.js';
import { oidOf } from './der-values.js';
import { PkiError, failureOf, resultOf } from './errors.js';
import {
  CMS_OID,
  verifySignedData,
  type ParsedSignedData,
  type ParsedSignerInfo,
  type SignedDataResult,
  type VerifySignedDataOptions,
} from './signed-data.js';

function bad(message: string): PkiError {
  return new PkiError('PKI_ASN1_INVALID', message);
}

/**
 * An {@link Sm2Provider} on `@yizheng/gm` that imports each SubjectPublicKeyInfo once (at most `maxKeys`
 * kept). A key that fails to import is not cached: it is re-read, and fails again, every time.
 */
export function cachedSm2Provider(maxKeys = 1024): Sm2Provider {
  const keys = new BytesCache<Sm2PublicKey>(maxKeys);
  // A cached certificate hands back the same SPKI array every time: recognised by identity, then by content
  // (a copy is kept, so a caller that rewrote the array is not given the old key). Held weakly.
  const seen = new WeakMap<Uint8Array, { readonly copy: Buffer; readonly key: Sm2PublicKey }>();
  return {
    verify(spki, message, signature, id) {
      const hit = seen.get(spki);
      let key = hit !== undefined && hit.copy.equals(spki) ? hit.key : undefined;
      if (key === undefined) {
        key = keys.get(spki);
        if (key === undefined) {
          key = sm2.importPublicKey(spki);
          keys.set(spki, key);
        }
        if (maxKeys > 0) seen.set(spki, { copy: Buffer.from(spki), key });
      }
      return sm2.verify(key, message, signature, id === undefined ? undefined : { id });
    },
    sm3,
  };
}

/** Contents of an OCTET STRING, primitive or constructed (BER). */
function octets(bytes: Uint8Array, t: Tlv, depth = 0): Uint8Array {
  if ((t.tagByte & 0x1f) !== 0x04 || (t.tagByte & 0xc0) !== 0) throw bad('expected an OCTET STRING');
  if (!t.constructed) return bytes.subarray(t.valueStart, t.end);
  if (depth > 8) throw bad('OCTET STRING segments nest too deep');
  return Buffer.concat(childrenOf(bytes, t).map((c) => octets(bytes, c, depth + 1)));
}

function expectTag(t: Tlv | undefined, tagByte: number, what: string): Tlv {
  if (!t || t.tagByte !== tagByte) throw bad(`malformed ${what}`);
  return t;
}

/** The algorithm OID of an AlgorithmIdentifier (parameters, if any, are one value). */
function algorithmOf(bytes: Uint8Array, t: Tlv | undefined, what: string): string {
  const parts = childrenOf(bytes, expectTag(t, 0x30, what));
  if (parts.length < 1 || parts.length > 2) throw bad(`malformed ${what}`);
  return oidOf(bytes, parts[0]);
}

function smallInteger(bytes: Uint8Array, t: Tlv | undefined, what: string): number {
  const i = expectTag(t, 0x02, what);
  if (i.end - i.valueStart !== 1) throw bad(`malformed ${what}`);
  return bytes[i.valueStart] ?? 0;
}

/** Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue { type OID, value ANY }). */
function checkName(bytes: Uint8Array, name: Tlv): void {
  for (const rdn of childrenOf(bytes, name)) {
    const atvs = childrenOf(bytes, expectTag(rdn, 0x31, 'RelativeDistinguishedName'));
    if (atvs.length === 0) throw bad('empty RelativeDistinguishedName');
    for (const atv of atvs) {
      const f = childrenOf(bytes, expectTag(atv, 0x30, 'AttributeTypeAndValue'));
      const [type, value] = f;
      if (f.length !== 2 || !value) throw bad('malformed AttributeTypeAndValue');
      oidOf(bytes, type);
      const n = value.end - value.valueStart;
      // UniversalString is UCS-4, BMPString UCS-2 (X.680 §41).
      if ((value.tagByte === 0x1c && n % 4 !== 0) || (value.tagByte === 0x1e && n % 2 !== 0))
        throw bad('malformed string in a Name');
    }
  }
}

function attributesOf(bytes: Uint8Array, t: Tlv | undefined): Map<string, Uint8Array[]> {
  const out = new Map<string, Uint8Array[]>();
  if (!t) return out;
  for (const attr of childrenOf(bytes, t)) {
    const parts = childrenOf(bytes, expectTag(attr, 0x30, 'Attribute'));
    if (parts.length !== 2) throw bad('malformed Attribute');
    const type = oidOf(bytes, parts[0]);
    const values = childrenOf(bytes, expectTag(parts[1], 0x31, 'AttributeValues'));
    if (values.length === 0) throw bad(`attribute ${type} has no values`);
    if (out.has(type)) throw bad(`attribute ${type} appears twice`);
    out.set(
      type,
      values.map((v) => tlvBytes(bytes, v)),
    );
  }
  return out;
}

export interface CmsVerifierOptions extends Omit<VerifySignedDataOptions, 'content' | 'at'> {
  /** Parsed certificates kept by their bytes (default 256). */
  readonly maxCachedCertificates?: number;
  readonly limits?: DerLimits;
}

export interface CmsVerifier {
  /** Parses a ContentInfo holding SignedData (DER, BER or PEM); throws PkiError. */
  parse(input: Uint8Array | string): ParsedSignedData;
  /** Verifies every signer, as {@link verifySignedData} does; never throws for bad input. */
  verify(
    input: Uint8Array | string,
    call?: { readonly content?: Uint8Array; readonly at?: Date },
  ): SignedDataResult;
}

export function createCmsVerifier(input: CmsVerifierOptions = {}): CmsVerifier {
  // Signer paths are validated through a cache of valid results (see cachedChainValidator for when one is
  // reused) unless the caller brings its own validator.
  const options: CmsVerifierOptions = input.chainValidator
    ? input
    : { ...input, chainValidator: cachedChainValidator() };
  const certs = new BytesCache<ParsedCertificate>(options.maxCachedCertificates ?? 256);
  const checkedIssuerNames = new WeakSet<ParsedCertificate>();
  const certificate = (bytes: Uint8Array): ParsedCertificate => {
    let c = certs.get(bytes);
    if (c === undefined) {
      c = parseCertificate(new Uint8Array(bytes));
      certs.set(bytes, c);
    }
    return c;
  };

  function parse(input: Uint8Array | string): ParsedSignedData {
    const der = fromPem(input);
    const top = scanDer(der, { mode: 'ber', ...options.limits });
    const ci = childrenOf(der, expectTag(top, 0x30, 'ContentInfo'));
    if (ci.length !== 2) throw bad('malformed ContentInfo');
    const contentType = oidOf(der, ci[0]);
    if (contentType !== CMS_OID.signedData && contentType !== CMS_OID.gmSignedData)
      throw bad(`content type ${contentType} is not SignedData`);
    const wrapped = childrenOf(der, expectTag(ci[1], 0xa0, 'ContentInfo content'));
    if (wrapped.length !== 1) throw bad('malformed ContentInfo content');
    const parts = childrenOf(der, expectTag(wrapped[0], 0x30, 'SignedData'));
    smallInteger(der, parts[0], 'SignedData version');
    for (const alg of childrenOf(der, expectTag(parts[1], 0x31, 'digestAlgorithms')))
      algorithmOf(der, alg, 'digestAlgorithm');
    const encap = childrenOf(der, expectTag(parts[2], 0x30, 'EncapsulatedContentInfo'));
    if (encap.length < 1 || encap.length > 2) throw bad('malformed EncapsulatedContentInfo');
    const eContentType = oidOf(der, encap[0]);
    let content: Uint8Array | undefined;
    if (encap[1]) {
      const inner = childrenOf(der, expectTag(encap[1], 0xa0, 'eContent'));
      const [oct] = inner;
      if (inner.length !== 1 || !oct) throw bad('malformed eContent');
      content = octets(der, oct);
    }
    let i = 3;
    const certificates: ParsedCertificate[] = [];
    const certSet = parts[i];
    if (certSet?.tagByte === 0xa0) {
      // Only X.509 certificates; the obsolete or attribute-certificate choices are refused.
      for (const c of childrenOf(der, certSet))
        certificates.push(certificate(tlvBytes(der, expectTag(c, 0x30, 'CertificateChoices'))));
      i++;
    }
    const crlSet = parts[i];
    const crls: ParsedCrl[] = [];
    if (crlSet?.tagByte === 0xa1) {
      // Well-formed CertificateLists only (OtherRevocationInfoFormat is refused), exposed as `crls` for a
      // revocation source (`revocation.embeddedCrls`), as parseSignedData does.
      for (const c of childrenOf(der, crlSet))
        crls.push(parseCrl(Uint8Array.from(tlvBytes(der, expectTag(c, 0x30, 'RevocationInfoChoice')))));
      i++;
    }
    const signerInfos = expectTag(parts[i], 0x31, 'signerInfos');
    if (i !== parts.length - 1) throw bad('malformed SignedData');
    const signers = childrenOf(der, signerInfos).map((siTlv, index): ParsedSignerInfo => {
      const f = childrenOf(der, expectTag(siTlv, 0x30, 'SignerInfo'));
      smallInteger(der, f[0], 'SignerInfo version');
      const sidTlv = f[1];
      let sid: ParsedSignerInfo['sid'];
      if (sidTlv?.tagByte === 0x30) {
        const is = childrenOf(der, sidTlv);
        const [issuer, serial] = is;
        if (is.length !== 2 || !issuer || issuer.tagByte !== 0x30 || !serial || serial.tagByte !== 0x02)
          throw bad('malformed IssuerAndSerialNumber');
        const issuerDer = tlvBytes(der, issuer);
        // checkName is a function of the bytes: once passed by a carried certificate's issuer Name, those
        // same bytes need not be walked again.
        const match = certificates.find((c) => Buffer.compare(c.issuerDer, issuerDer) === 0);
        if (match === undefined || !checkedIssuerNames.has(match)) {
          checkName(der, issuer);
          if (match !== undefined) checkedIssuerNames.add(match);
        }
        sid = { issuer: issuerDer, serial: der.subarray(serial.valueStart, serial.end) };
      } else if (sidTlv?.tagByte === 0x80) {
        sid = { ski: der.subarray(sidTlv.valueStart, sidTlv.end) };
      } else throw bad('unknown SignerIdentifier');
      const digestAlgorithm = algorithmOf(der, f[2], 'digestAlgorithm');
      let j = 3;
      let signedTlv: Tlv | undefined;
      if (f[j]?.tagByte === 0xa0) signedTlv = f[j++];
      const signatureAlgorithm = algorithmOf(der, f[j++], 'signatureAlgorithm');
      const sigTlv = f[j++];
      if (!sigTlv) throw bad('malformed SignerInfo');
      const signature = octets(der, sigTlv);
      let unsignedTlv: Tlv | undefined;
      if (f[j]?.tagByte === 0xa1) unsignedTlv = f[j++];
      if (j !== f.length) throw bad('malformed SignerInfo');
      let signedAttrs: Uint8Array | undefined;
      if (signedTlv) {
        if (signedTlv.indefinite) throw bad('signedAttrs with indefinite length');
        signedAttrs = copyOf(tlvBytes(der, signedTlv));
        signedAttrs[0] = 0x31;
      }
      return {
        index,
        digestAlgorithm,
        signatureAlgorithm,
        signature,
        signedAttrs,
        attributes: attributesOf(der, signedTlv),
        unsignedAttributes: attributesOf(der, unsignedTlv),
        sid,
      };
    });
    return { der, contentType, eContentType, content, certificates, crls, otherRevocationInfo: [], signers };
  }

  return {
    parse,
    verify(input, call = {}) {
      let sd: ParsedSignedData;
      try {
        sd = parse(input);
      } catch (e) {
        return { ...resultOf([failureOf(e)]), signers: [], content: undefined };
      }
      return verifySignedData(
        sd,
        call.content === undefined && call.at === undefined ? options : { ...options, ...call },
      );
    },
  };
}
