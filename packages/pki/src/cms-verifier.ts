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
 * - The common message (one signer, signed attributes, attached content, no CRLs or unsigned attributes) is
 *   verified straight from offsets into the input ({@link fastVerify}); any other message, and any message
 *   that fails a check, goes through the parsed form, so results and failures are the general path's.
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
import {
  SIGNED_DATA_SHAPE,
  SIGNED_DATA_SHAPE_LENGTH,
  SIGNED_DATA_SHAPE_MAX,
  signedDataShape,
  sm2,
  sm3,
  type SignedDataShape,
  type Sm2PublicKey,
} from '@yizheng/gm';
import { OID, digest, digestName, verifySignature, type Sm2Provider } from './algorithms.js';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { KEY_USAGE, verifyChain } from './chain.js';
import { parseCrl, type ParsedCrl } from './crl.js';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_SIZE,
  childrenOf,
  copyOf,
  depthOf,
  fromPem,
  newHeader,
  readHeaderInto,
  sameBytes,
  sameBytesAt,
  scanDer,
  tlvBytes,
  walkValue,
  type DerLimits,
  type Header,
  type Tlv,
} from './der.js';
import { BytesCache } from './bytes-cache.js';
import { cachedChainValidator } from './chain-cache.js';
import { attributeOctets, attributeTime, oidOf } from './der-values.js';
import { PkiError, failureOf, resultOf } from './errors.js';
import { namesMatch } from './name-compare.js';
import {
  CMS_OID,
  findCertificateBySid,
  serialOf,
  type SignerResult,
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
  // (Compared in JS: for a ~91-byte SPKI that is cheaper than Buffer#equals' call into C++.)
  const seen = new WeakMap<Uint8Array, { readonly copy: Uint8Array; readonly key: Sm2PublicKey }>();
  return {
    verify(spki, message, signature, id) {
      const hit = seen.get(spki);
      let key = hit !== undefined && sameBytes(hit.copy, spki) ? hit.key : undefined;
      if (key === undefined) {
        key = keys.get(spki);
        if (key === undefined) {
          key = sm2.importPublicKey(spki);
          keys.set(spki, key);
        }
        if (maxKeys > 0) seen.set(spki, { copy: Uint8Array.from(spki), key });
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

/** OBJECT IDENTIFIER contents (X.690 §8.19) of a dotted OID: the only minimal encoding of it. */
function oidBytes(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const values = [(arcs[0] ?? 0) * 40 + (arcs[1] ?? 0), ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of values) {
    const groups = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) groups.unshift((x & 0x7f) | 0x80);
    out.push(...groups);
  }
  return Uint8Array.from(out);
}

const OID_SIGNED_DATA = oidBytes(CMS_OID.signedData);
const OID_GM_SIGNED_DATA = oidBytes(CMS_OID.gmSignedData);
/** contentType, messageDigest, signingTime: 1.2.840.113549.1.9.{3,4,5}, one prefix and their last arc. */
const PKCS9 = oidBytes('1.2.840.113549.1.9');
const CONTENT_TYPE = Number(CMS_OID.contentType.split('.').pop());
const MESSAGE_DIGEST = Number(CMS_OID.messageDigest.split('.').pop());
const SIGNING_TIME = Number(CMS_OID.signingTime.split('.').pop());
/** signingCertificateV2 (RFC 5035), the attribute most messages carry beside those three, told by its bytes. */
const SIGNING_CERTIFICATE_V2 = CMS_OID.signingCertificateV2;
const OID_SIGNING_CERTIFICATE_V2 = oidBytes(SIGNING_CERTIFICATE_V2);

/**
 * Which of contentType, messageDigest and signingTime the OBJECT IDENTIFIER header `h` (just read from
 * `der`) is — its last arc — or 0 for any other value.
 */
function pkcs9Attribute(der: Uint8Array, h: Header): number {
  const n = PKCS9.length;
  if (h.tagByte !== 0x06 || h.end - h.valueStart !== n + 1) return 0;
  for (let i = 0; i < n; i++) if (der[h.valueStart + i] !== PKCS9[i]) return 0;
  const arc = der[h.valueStart + n] ?? 0;
  return arc === CONTENT_TYPE || arc === MESSAGE_DIGEST || arc === SIGNING_TIME ? arc : 0;
}

/**
 * The algorithm and content-type OIDs common messages carry, by their contents: each has one minimal
 * encoding, which `oidOf` decodes to exactly this dotted form.
 */
const COMMON_OIDS = [
  OID.sm3,
  OID.sm2Sign,
  OID.sm3WithSm2,
  CMS_OID.gmData,
  CMS_OID.data,
  OID.sha256,
  OID.ecdsaWithSHA256,
  OID.sha256WithRSA,
  OID.rsaEncryption,
].map((dotted) => ({ bytes: oidBytes(dotted), dotted }));

/**
 * The DER of the AlgorithmIdentifiers common messages carry: each common OID without parameters and with NULL
 * parameters. Input holding one of these exact byte strings is read by {@link fastAlgorithm}'s general steps
 * into the same OID (minimal, decoded strictly) and a primitive value walked without error, so it is taken
 * as a whole.
 */
const COMMON_ALGORITHMS = COMMON_OIDS.flatMap(({ bytes, dotted }) => [
  { bytes: Uint8Array.from([0x30, bytes.length + 2, 0x06, bytes.length, ...bytes]), dotted },
  { bytes: Uint8Array.from([0x30, bytes.length + 4, 0x06, bytes.length, ...bytes, 0x05, 0x00]), dotted },
]);

/** {@link COMMON_ALGORITHMS} by their second byte (the SEQUENCE's short-form length): the ones input can match. */
const COMMON_ALGORITHMS_BY_LENGTH: (typeof COMMON_ALGORITHMS)[] = [];
for (const a of COMMON_ALGORITHMS) (COMMON_ALGORITHMS_BY_LENGTH[a.bytes[1]!] ??= []).push(a);

/** `oidOf` of the OBJECT IDENTIFIER header `h` (just read from `der`), a common one told by its bytes. */
function fastOid(der: Uint8Array, h: Header): string {
  for (const o of COMMON_OIDS) if (sameBytesAt(o.bytes, der, h.valueStart, h.end)) return o.dotted;
  return oidOf(der, h);
}

/** Whether the header `h` (just read from `der`) is an OBJECT IDENTIFIER with contents `oid`. */
function isOid(der: Uint8Array, h: Header, oid: Uint8Array): boolean {
  if (h.tagByte !== 0x06 || h.end - h.valueStart !== oid.length) return false;
  for (let i = 0; i < oid.length; i++) if (der[h.valueStart + i] !== oid[i]) return false;
  return true;
}

/**
 * Reads the header at `p` (bounded by `limit`) into `h` and returns its tag byte; -1 at `limit` or for an
 * indefinite length (not on the fast path).
 */
function next(der: Uint8Array, p: number, limit: number, h: Header): number {
  if (p >= limit) return -1;
  readHeaderInto(der, p, limit, 'ber', h);
  return h.indefinite ? -1 : h.tagByte;
}

/**
 * The certificate `findCertificateByIssuerSerial(all, …)` picks for the IssuerAndSerialNumber at these offsets
 * of `der`, when it is one whose issuer Name `parse` need not walk (see {@link fastVerify}'s invariant): a
 * carried certificate whose issuer Name passed checkName and equals the sid's byte for byte. The one pass
 * does both: the first certificate with the serial decides — equal issuer bytes, it is the one; a Name that
 * matches only by RFC 5280 comparison, or equal bytes on a certificate that is not carried or not checked,
 * leave the message to the general path (undefined), as does no match.
 */
function carriedSigner(
  ctx: FastContext,
  all: readonly ParsedCertificate[],
  carried: readonly ParsedCertificate[],
  der: Uint8Array,
  issuerFrom: number,
  issuerTo: number,
  serialFrom: number,
  serialTo: number,
): ParsedCertificate | undefined {
  let s = serialFrom;
  while (s < serialTo - 1 && der[s] === 0) s++;
  for (const c of all) {
    if (!sameBytesAt(serialOf(c), der, s, serialTo)) continue;
    if (!sameBytesAt(c.issuerDer, der, issuerFrom, issuerTo)) {
      if (namesMatch(c.issuerDer, der.subarray(issuerFrom, issuerTo))) return undefined;
      continue;
    }
    return ctx.checkedIssuerNames.has(c) && carried.includes(c) ? c : undefined;
  }
  return undefined;
}

const NO_FAILURES: readonly never[] = Object.freeze([]);

/** A certificate parsed from message bytes, with the nesting depth of those bytes. */
interface CachedCertificate {
  readonly certificate: ParsedCertificate;
  readonly depth: number;
}

/** What the fast path needs of its verifier. */
interface FastContext {
  /** The verifier's limits (mode 'ber' unless the caller asked for 'der'). */
  readonly limits: DerLimits;
  readonly maxDepth: number;
  readonly maxSize: number;
  readonly certificate: (bytes: Uint8Array) => CachedCertificate;
  readonly checkedIssuerNames: WeakSet<ParsedCertificate>;
  /** The signed attributes re-tagged as SET OF are written here for the signature check (grown as needed). */
  scratch: Uint8Array;
  /** `scratch.subarray(0, n)` for the last length n written. */
  signedView: Uint8Array;
  scratchBusy: boolean;
  /** The header every read of the fast path reuses. */
  readonly header: Header;
  /** The located fields of the message being verified (see SIGNED_DATA_SHAPE). */
  readonly shape: Int32Array;
  /** The native locator, when built (else {@link fastShape} locates every message). */
  readonly nativeShape: SignedDataShape | undefined;
}

/**
 * The deepest level {@link fastVerify} reads itself (a signed attribute's value: ContentInfo 1, [0] 2,
 * SignedData 3, signerInfos 4, SignerInfo 5, signedAttrs 6, Attribute 7, attrValues 8); with a lower depth
 * limit every message goes through the general path.
 */
const FAST_DEPTH = 9;

/** What {@link fastShape} needs: the verifier's limits and a header to read into. */
type ShapeContext = Pick<FastContext, 'limits' | 'header'>;

/**
 * The fast path's TypeScript locator on its own (for tests and the fuzzer, which hold the native locator to
 * it): the fields of `der` in the SIGNED_DATA_SHAPE layout, or undefined for another shape. Throws PkiError
 * for a malformed header or value it walks. `limits` as the verifier's (mode 'ber' unless given).
 */
export function locateSignedData(der: Uint8Array, limits: DerLimits = {}): Int32Array | undefined {
  const o = new Int32Array(SIGNED_DATA_SHAPE_LENGTH);
  return fastShape({ limits: { mode: 'ber', ...limits }, header: newHeader() }, der, o) ? o : undefined;
}

/** Where {@link fastShape} and the native locator write a message's field offsets (see SIGNED_DATA_SHAPE). */
const S = SIGNED_DATA_SHAPE;

/** Writes the `[from, to)` pair at `at` of `o`. */
function put(o: Int32Array, at: number, from: number, to: number): void {
  o[at] = from;
  o[at + 1] = to;
}

/**
 * An AlgorithmIdentifier at `p`, nested `depth` levels deep (SEQUENCE { OID, one optional value }, the value
 * walked as scanDer walks it): its OID contents written at `at` of `o`, with `h.end` left at the end of the
 * SEQUENCE; false when it is anything else.
 */
function algorithmAt(
  ctx: ShapeContext,
  der: Uint8Array,
  p: number,
  limit: number,
  depth: number,
  h: Header,
  o: Int32Array,
  at: number,
): boolean {
  const candidates = der[p] === 0x30 ? COMMON_ALGORITHMS_BY_LENGTH[der[p + 1] ?? 0] : undefined;
  if (candidates !== undefined)
    for (const a of candidates) {
      const to = p + a.bytes.length;
      if (to <= limit && sameBytesAt(a.bytes, der, p, to)) {
        put(o, at, p + 4, p + 4 + (a.bytes[3] ?? 0));
        h.end = to;
        return true;
      }
    }
  if (next(der, p, limit, h) !== 0x30) return false;
  const end = h.end;
  if (next(der, h.valueStart, end, h) !== 0x06) return false;
  put(o, at, h.valueStart, h.end);
  if (h.end < end && walkValue(der, h.end, end, depth + 1, ctx.limits, h) !== end) return false;
  h.end = end;
  return true;
}

/**
 * The structural half of {@link fastVerify}, in TypeScript: locates the fields of the common message (see
 * `SignedDataShape` in `@yizheng/gm`, whose native locator is the same walk restricted to single-octet tags
 * and minimal lengths, and is tested to give the same offsets) into `o`, or false for another shape. It reads
 * each header bounded by its parent and every constructed value it descends into child by child to its end
 * (nesting depth noted per level), and walks each value it does not descend into with scanDer's own walk
 * ({@link walkValue}) at its depth; it decodes nothing (may throw PkiError for a malformed header or value).
 */
function fastShape(ctx: ShapeContext, der: Uint8Array, o: Int32Array): boolean {
  o.fill(-1);
  const h = ctx.header;
  // ContentInfo (1) ::= SEQUENCE { contentType (2) signedData, content [0] EXPLICIT (2) SignedData (3) }, the
  // whole input.
  if (next(der, 0, der.length, h) !== 0x30 || h.end !== der.length) return false;
  const ciEnd = h.end;
  if (next(der, h.valueStart, ciEnd, h) < 0) return false;
  if (!isOid(der, h, OID_SIGNED_DATA) && !isOid(der, h, OID_GM_SIGNED_DATA)) return false;
  if (next(der, h.end, ciEnd, h) !== 0xa0 || h.end !== ciEnd) return false;
  if (next(der, h.valueStart, ciEnd, h) !== 0x30 || h.end !== ciEnd) return false;
  const sdEnd = h.end;
  // version (4), digestAlgorithms (4) SET OF AlgorithmIdentifier (5)
  if (next(der, h.valueStart, sdEnd, h) !== 0x02 || h.end - h.valueStart !== 1) return false;
  if (next(der, h.end, sdEnd, h) !== 0x31) return false;
  const algsEnd = h.end;
  let count = 0;
  for (let p = h.valueStart; p < algsEnd; p = h.end, count++)
    if (
      count === SIGNED_DATA_SHAPE_MAX.digestAlgorithms ||
      !algorithmAt(ctx, der, p, algsEnd, 5, h, o, S.digestAlgorithms + 1 + 2 * count)
    )
      return false;
  o[S.digestAlgorithms] = count;
  // EncapsulatedContentInfo (4) ::= SEQUENCE { eContentType (5), eContent [0] EXPLICIT (5) OCTET STRING (6) }
  if (next(der, algsEnd, sdEnd, h) !== 0x30) return false;
  const encEnd = h.end;
  if (next(der, h.valueStart, encEnd, h) !== 0x06) return false;
  put(o, S.eContentType, h.valueStart, h.end);
  if (next(der, h.end, encEnd, h) !== 0xa0 || h.end !== encEnd) return false;
  if (next(der, h.valueStart, encEnd, h) !== 0x04 || h.end !== encEnd) return false;
  put(o, S.content, h.valueStart, h.end);
  // certificates [0] IMPLICIT (4): X.509 certificates (5) only (parsed by the checks); no crls [1] here.
  let tag = next(der, encEnd, sdEnd, h);
  count = 0;
  if (tag === 0xa0) {
    const certsEnd = h.end;
    for (let p = h.valueStart; p < certsEnd; p = h.end, count++) {
      if (count === SIGNED_DATA_SHAPE_MAX.certificates || next(der, p, certsEnd, h) !== 0x30) return false;
      put(o, S.certificates + 1 + 2 * count, p, h.end);
    }
    tag = next(der, certsEnd, sdEnd, h);
  }
  o[S.certificates] = count;
  // signerInfos SET OF SignerInfo (4): the last field, one signer (5).
  if (tag !== 0x31 || h.end !== sdEnd) return false;
  if (next(der, h.valueStart, sdEnd, h) !== 0x30 || h.end !== sdEnd) return false;
  const siEnd = h.end;
  if (next(der, h.valueStart, siEnd, h) !== 0x02 || h.end - h.valueStart !== 1) return false;
  // sid (6): IssuerAndSerialNumber { issuer Name (7), serialNumber (7) }, or [0] subjectKeyIdentifier
  const sidTag = next(der, h.end, siEnd, h);
  const sidEnd = h.end;
  o[S.sidTag] = sidTag;
  if (sidTag === 0x30) {
    if (next(der, h.valueStart, sidEnd, h) !== 0x30) return false;
    put(o, S.issuer, h.start, h.end);
    if (next(der, h.end, sidEnd, h) !== 0x02 || h.end !== sidEnd) return false;
    put(o, S.serial, h.valueStart, h.end);
  } else if (sidTag === 0x80) put(o, S.serial, h.valueStart, h.end);
  else return false;
  if (!algorithmAt(ctx, der, sidEnd, siEnd, 6, h, o, S.digestAlgorithm)) return false;
  // signedAttrs [0] IMPLICIT (6) SET OF Attribute (7) { attrType (8), attrValues SET OF (8), at least one (9) }
  if (next(der, h.end, siEnd, h) !== 0xa0) return false;
  const attrsEnd = h.end;
  put(o, S.signedAttrs, h.start, h.end);
  count = 0;
  for (let p = h.valueStart; p < attrsEnd;) {
    if (next(der, p, attrsEnd, h) !== 0x30) return false;
    const attrEnd = h.end;
    if (next(der, h.valueStart, attrEnd, h) !== 0x06) return false;
    const kind = pkcs9Attribute(der, h);
    const typeFrom = h.valueStart;
    const valuesAt = h.end;
    if (next(der, valuesAt, attrEnd, h) !== 0x31 || h.end !== attrEnd) return false;
    if (h.valueStart === attrEnd) return false; // no values
    if (kind === 0) {
      if (count === SIGNED_DATA_SHAPE_MAX.otherAttributes) return false;
      put(o, S.otherAttributes + 1 + 2 * count++, typeFrom, valuesAt);
      walkValue(der, valuesAt, attrEnd, 8, ctx.limits, h);
    } else {
      // Exactly one value, as verifySigner's singleValue requires; primitive here.
      if (next(der, h.valueStart, attrEnd, h) < 0 || h.constructed || h.end !== attrEnd) return false;
      const at =
        kind === MESSAGE_DIGEST ? S.messageDigest : kind === CONTENT_TYPE ? S.contentType : S.signingTime;
      if ((o[at] ?? 0) >= 0) return false; // twice
      put(o, at, h.start, h.end);
    }
    p = attrEnd;
  }
  o[S.otherAttributes] = count;
  if (!algorithmAt(ctx, der, attrsEnd, siEnd, 6, h, o, S.signatureAlgorithm)) return false;
  if (next(der, h.end, siEnd, h) !== 0x04 || h.end !== siEnd) return false;
  put(o, S.signature, h.valueStart, h.end);
  return true;
}

/** The OID whose contents are at `[from, to)` of `der`, a common one told by its bytes (else decoded strictly). */
function oidAt(ctx: FastContext, der: Uint8Array, from: number, to: number): string {
  return fastOid(der, oidHeader(ctx, from, to));
}

/** The context's header set to an OBJECT IDENTIFIER whose contents are at `[from, to)`. */
function oidHeader(ctx: FastContext, from: number, to: number): Header {
  const h = ctx.header;
  h.tagByte = 0x06;
  h.valueStart = from;
  h.end = to;
  return h;
}

/**
 * The fast path of {@link CmsVerifier.verify}: the common message — DER or definite-length BER, one signer
 * with signed attributes and no unsigned ones, attached content in a primitive OCTET STRING, no CRLs, the
 * signer's certificate among the carried ones and its issuer Name checked before — verified from offsets into
 * the input, without building the parsed form. The offsets come from the native locator where the addon is
 * built and takes the message, else from {@link fastShape}.
 *
 * Invariant: it returns a result only when every check has passed, and then exactly the result the general
 * path (`parse` then `verifySignedData`) gives: every structural rule `parse` applies is applied here, by the
 * locator or by the checks below, and the locator's pass is also `parse`'s hardened walk (`scanDer`, see
 * {@link fastShape}). A carried certificate is not walked again: its exact bytes passed parseCertificate's
 * strict walk when they entered the cache, and the depth they add is checked against the limit (which also
 * covers the signer's issuer Name when it is byte for byte a carried certificate's issuer Name, 3 levels
 * inside that certificate). Every OID the walk passed over is decoded strictly, as `parse` decodes it. Every
 * check of `verifySigner` runs with the same functions. For anything else — another shape, a failed check, a
 * thrown error — it returns undefined and the general path decides, so failures are always reported by the
 * one implementation.
 */
function fastVerify(
  ctx: FastContext,
  der: Uint8Array,
  options: VerifySignedDataOptions,
): SignedDataResult | undefined {
  if (options.revocation !== undefined || der.length > ctx.maxSize || ctx.maxDepth < FAST_DEPTH)
    return undefined;
  // In strict mode every value also follows the DER rules: walked strictly first (the reads below then pass).
  if (ctx.limits.mode === 'der') scanDer(der, ctx.limits);
  const o = ctx.shape;
  if (!(ctx.nativeShape?.(der, ctx.maxDepth, o) ?? false) && !fastShape(ctx, der, o)) return undefined;
  // The OIDs the walk passed over, decoded strictly as `parse` decodes them (a malformed one throws).
  for (let i = 0; i < (o[S.digestAlgorithms] ?? 0); i++)
    oidAt(ctx, der, o[S.digestAlgorithms + 1 + 2 * i]!, o[S.digestAlgorithms + 2 + 2 * i]!);
  const eTypeFrom = o[S.eContentType]!;
  const eTypeTo = o[S.eContentType + 1]!;
  oidAt(ctx, der, eTypeFrom, eTypeTo); // the contentType attribute is compared by bytes below
  const digestAlgorithm = oidAt(ctx, der, o[S.digestAlgorithm]!, o[S.digestAlgorithm + 1]!);
  const signatureAlgorithm = oidAt(ctx, der, o[S.signatureAlgorithm]!, o[S.signatureAlgorithm + 1]!);
  // The other signed attributes: no type twice. A known OID has one minimal encoding, so an other one
  // (strictly decoded) is never a known one.
  const nOthers = o[S.otherAttributes] ?? 0;
  if (nOthers > 0) {
    const others: string[] = [];
    for (let i = 0; i < nOthers; i++) {
      const h = oidHeader(ctx, o[S.otherAttributes + 1 + 2 * i]!, o[S.otherAttributes + 2 + 2 * i]!);
      const type = isOid(der, h, OID_SIGNING_CERTIFICATE_V2) ? SIGNING_CERTIFICATE_V2 : oidOf(der, h);
      if (others.includes(type)) return undefined;
      others.push(type);
    }
  }
  const content = der.subarray(o[S.content], o[S.content + 1]);
  const certificates: ParsedCertificate[] = [];
  for (let i = 0; i < (o[S.certificates] ?? 0); i++) {
    const c = ctx.certificate(der.subarray(o[S.certificates + 1 + 2 * i], o[S.certificates + 2 + 2 * i]));
    // Its interior, walked when it was parsed, reaches depth 5 + c.depth - 1 here.
    if (4 + c.depth > ctx.maxDepth) return undefined;
    certificates.push(c.certificate);
  }
  const sidTag = o[S.sidTag];
  const issuerFrom = o[S.issuer]!;
  const issuerTo = o[S.issuer + 1]!;
  const serialFrom = o[S.serial]!;
  const serialTo = o[S.serial + 1]!;
  const ski = sidTag === 0x80 ? der.subarray(serialFrom, serialTo) : undefined;
  const attrsStart = o[S.signedAttrs]!;
  const attrsEnd = o[S.signedAttrs + 1]!;
  const mdFrom = o[S.messageDigest]!;
  const mdTo = o[S.messageDigest + 1]!;
  const ctFrom = o[S.contentType]!;
  const ctTo = o[S.contentType + 1]!;
  const stFrom = o[S.signingTime]!;
  const stTo = o[S.signingTime + 1]!;
  const signature = der.subarray(o[S.signature], o[S.signature + 1]);
  // verifySigner's checks, in its order.
  let signingTime: Date | undefined;
  if (stFrom >= 0) {
    signingTime = attributeTime(der, stFrom, stTo);
    if (signingTime === undefined) return undefined;
  }
  if (mdFrom < 0 || ctFrom < 0) return undefined;
  const all = options.certificates ? [...certificates, ...options.certificates] : certificates;
  const certificate =
    ski === undefined
      ? carriedSigner(ctx, all, certificates, der, issuerFrom, issuerTo, serialFrom, serialTo)
      : findCertificateBySid({ ski }, all);
  if (certificate === undefined) return undefined;
  const policy = options.policy ?? {};
  const actual = digest(digestName(digestAlgorithm, policy), content, policy);
  // messageDigest: attributeOctets of the value — its contents when it is a primitive OCTET STRING with a
  // short-form length (as here, the header read above), else as attributeOctets decodes it.
  if (der[mdFrom] === 0x04 && (der[mdFrom + 1] ?? 0x80) < 0x80) {
    if (!sameBytesAt(actual, der, mdFrom + 2, mdTo)) return undefined;
  } else {
    const expected = attributeOctets(der.subarray(mdFrom, mdTo));
    if (expected === undefined || !sameBytes(expected, actual)) return undefined;
  }
  // contentType: the same OID contents as eContentType (which decoded strictly) decode to the same OID.
  // (Only the short length form here; any other encoding is left to the general path.)
  const eTypeLength = eTypeTo - eTypeFrom;
  if (der[ctFrom] !== 0x06 || der[ctFrom + 1] !== eTypeLength || ctTo - ctFrom !== eTypeLength + 2)
    return undefined;
  for (let i = 0; i < eTypeLength; i++) if (der[ctFrom + 2 + i] !== der[eTypeFrom + i]) return undefined;
  // The signed bytes: the signed attributes as received with the [0] tag replaced by SET OF (RFC 5652 §5.4),
  // written into the verifier's scratch buffer, which the (synchronous) signature check only reads.
  const n = attrsEnd - attrsStart;
  const reuse = !ctx.scratchBusy;
  let signed: Uint8Array;
  if (reuse) {
    // The view of the last length is kept: messages of one source have signed attributes of one length.
    if (ctx.scratch.length < n) {
      ctx.scratch = new Uint8Array(Math.max(n, ctx.scratch.length * 2));
      ctx.signedView = ctx.scratch.subarray(0, n);
    } else if (ctx.signedView.length !== n) ctx.signedView = ctx.scratch.subarray(0, n);
    signed = ctx.signedView;
    ctx.scratchBusy = true;
  } else signed = new Uint8Array(n);
  let ok: boolean;
  try {
    signed.set(der.subarray(attrsStart, attrsEnd));
    signed[0] = 0x31;
    ok = verifySignature(
      { algorithm: signatureAlgorithm, digestAlgorithm, spki: certificate.spki, data: signed, signature },
      policy,
    );
  } finally {
    if (reuse) ctx.scratchBusy = false;
  }
  if (!ok) return undefined;
  let validatedAt: Date | undefined;
  let revocation: SignerResult['revocation'] = NO_FAILURES;
  if (options.trustAnchors) {
    const at = options.at ?? signingTime;
    if (at === undefined) return undefined;
    const chain = (options.chainValidator ?? verifyChain)(certificate, {
      trustAnchors: options.trustAnchors,
      intermediates: all,
      at,
      keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation,
      ...(options.policy ? { policy: options.policy } : {}),
    });
    if (chain.failures.length > 0) return undefined;
    validatedAt = at;
    revocation = chain.revocation;
  }
  const signer: SignerResult = {
    index: 0,
    certificate,
    signingTime,
    timeStamps: NO_FAILURES,
    validatedAt,
    revocation,
    failures: NO_FAILURES,
  };
  return { valid: true, failures: NO_FAILURES, signers: [signer], content };
}

export interface CmsVerifierOptions extends Omit<VerifySignedDataOptions, 'content' | 'at'> {
  /** Parsed certificates kept by their bytes (default 256). */
  readonly maxCachedCertificates?: number;
  readonly limits?: DerLimits;
  /**
   * Locate common messages with `@yizheng/gm`'s native locator when it is built (default true); false: always
   * with the TypeScript walk. The results are the same either way.
   */
  readonly nativeShape?: boolean;
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
  const certs = new BytesCache<CachedCertificate>(options.maxCachedCertificates ?? 256);
  const checkedIssuerNames = new WeakSet<ParsedCertificate>();
  const cachedCertificate = (bytes: Uint8Array): CachedCertificate => {
    let c = certs.get(bytes);
    if (c === undefined) {
      const parsed = parseCertificate(new Uint8Array(bytes));
      // parseCertificate walked these bytes in strict DER with the default limits.
      c = { certificate: parsed, depth: depthOf(parsed.der) };
      certs.set(bytes, c);
    }
    return c;
  };
  const certificate = (bytes: Uint8Array): ParsedCertificate => cachedCertificate(bytes).certificate;

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

  const limits: DerLimits = { mode: 'ber', ...options.limits };
  const scratch = new Uint8Array(512);
  const fast: FastContext = {
    limits,
    maxDepth: limits.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxSize: limits.maxSize ?? DEFAULT_MAX_SIZE,
    certificate: cachedCertificate,
    checkedIssuerNames,
    scratch,
    signedView: scratch.subarray(0, 0),
    scratchBusy: false,
    header: newHeader(),
    shape: new Int32Array(SIGNED_DATA_SHAPE_LENGTH),
    nativeShape: options.nativeShape === false ? undefined : signedDataShape,
  };

  return {
    parse,
    verify(input, call = {}) {
      const merged = call.content === undefined && call.at === undefined ? options : { ...options, ...call };
      if (input instanceof Uint8Array && input[0] !== 0x2d /* PEM '-' */) {
        try {
          const r = fastVerify(fast, input, merged);
          if (r !== undefined) return r;
        } catch (e) {
          // Left to the general path, which reports it (or, for a bug, throws it again).
          if (!(e instanceof PkiError)) throw e;
        }
      }
      let sd: ParsedSignedData;
      try {
        sd = parse(input);
      } catch (e) {
        return { ...resultOf([failureOf(e)]), signers: [], content: undefined };
      }
      return verifySignedData(sd, merged);
    },
  };
}
