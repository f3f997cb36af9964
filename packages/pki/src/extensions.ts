/**
 * Certificate extensions (RFC 5280 §4.2): encoding from structured input for the builders, and decoding into
 * plain values for {@link ParsedCertificate}. Unknown extensions are kept as they came, with their critical
 * flag.
 *
 *   Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 *   BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } §4.2.1.9
 *   KeyUsage ::= BIT STRING { digitalSignature (0), nonRepudiation (1), keyEncipherment (2),
 *     dataEncipherment (3), keyAgreement (4), keyCertSign (5), cRLSign (6), encipherOnly (7), decipherOnly (8) } §4.2.1.3
 *   ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId                                          §4.2.1.12
 *   SubjectKeyIdentifier ::= KeyIdentifier (OCTET STRING)                                                   §4.2.1.2
 *   AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier OPTIONAL,
 *     authorityCertIssuer [1] GeneralNames OPTIONAL, authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL } §4.2.1.1
 *   CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint
 *   DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL,
 *     reasons [1] ReasonFlags OPTIONAL, cRLIssuer [2] GeneralNames OPTIONAL }
 *   DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] RDN }         §4.2.1.13
 *   AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription
 *   AccessDescription ::= SEQUENCE { accessMethod OBJECT IDENTIFIER, accessLocation GeneralName }          §4.2.2.1
 *   certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
 *   PolicyInformation ::= SEQUENCE { policyIdentifier CertPolicyId,
 *     policyQualifiers SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL }
 *   PolicyQualifierInfo ::= SEQUENCE { policyQualifierId, qualifier ANY }  (CPSuri IA5String | UserNotice) §4.2.1.4
 *   GeneralName ::= CHOICE { otherName [0], rfc822Name [1] IA5String, dNSName [2] IA5String, x400Address [3],
 *     directoryName [4] Name, ediPartyName [5], uniformResourceIdentifier [6] IA5String,
 *     iPAddress [7] OCTET STRING, registeredID [8] OBJECT IDENTIFIER }                                       §4.2.1.6
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { childrenOf, scanDer, type Tlv } from './der.js';
import {
  TAG,
  boolean,
  explicit,
  ia5String,
  integer,
  namedBits,
  octetString,
  oid,
  retag,
  sequence,
  tlv,
  utf8String,
} from './der-writer.js';
import { PkiError } from './errors.js';
import { encodeName, type NameInput } from './name.js';

export const EXT_OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
} as const;

export const ACCESS_METHOD = { ocsp: '1.3.6.1.5.5.7.48.1', caIssuers: '1.3.6.1.5.5.7.48.2' } as const;
const QUALIFIER = { cps: '1.3.6.1.5.5.7.2.1', userNotice: '1.3.6.1.5.5.7.2.2' } as const;

export const KEY_USAGE_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];

/** Names of common key purposes (RFC 5280 §4.2.1.12); any other OID may be given as is. */
export const KEY_PURPOSE = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
} as const;

/** A GeneralName to write. */
export type GeneralNameInput =
  | { readonly dns: string }
  | { readonly email: string }
  | { readonly uri: string }
  | { readonly ip: string }
  | { readonly directoryName: NameInput };

/** A GeneralName as read: its kind and a printable value (the DER hex for otherName / x400 / EDI). */
export interface GeneralNameValue {
  readonly type: 'dns' | 'email' | 'uri' | 'ip' | 'directoryName' | 'registeredID' | 'other';
  readonly value: string;
}

export interface PolicyInput {
  readonly oid: string;
  /** CPS pointer qualifier (id-qt-cps). */
  readonly cps?: string;
  /** UserNotice explicitText (id-qt-unotice), written as UTF8String. */
  readonly userNotice?: string;
}

export type PolicyValue = PolicyInput;

/** An extension as carried: OID, critical flag and the extnValue contents (DER of the inner value). */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** Extensions to write. Each may set `critical`; the defaults follow RFC 5280 (noted per field). */
export interface ExtensionsInput {
  /** Default critical (RFC 5280 §4.2.1.9 MUST for CAs). */
  readonly basicConstraints?: {
    readonly ca: boolean;
    readonly pathLength?: number;
    readonly critical?: boolean;
  };
  /** Default critical (§4.2.1.3 SHOULD). */
  readonly keyUsage?: { readonly usages: readonly KeyUsageName[]; readonly critical?: boolean };
  /** Purpose names of {@link KEY_PURPOSE} or OIDs. Default non-critical; a TSA's must be critical (RFC 3161 §2.3). */
  readonly extKeyUsage?: {
    readonly purposes: readonly string[];
    readonly critical?: boolean;
  };
  /** true / omitted: RFC 5280 §4.2.1.2 method (1), SHA-1 of the subjectPublicKey bits; false: leave out. */
  readonly subjectKeyIdentifier?: boolean | Uint8Array;
  /** true / omitted: the issuer's SKI (when it has one); false: leave out. */
  readonly authorityKeyIdentifier?: boolean | Uint8Array;
  readonly subjectAltName?: readonly GeneralNameInput[];
  /** URIs of CRLs (one DistributionPoint with them as fullName). */
  readonly crlDistributionPoints?: readonly string[];
  readonly authorityInfoAccess?: {
    readonly ocsp?: readonly string[];
    readonly caIssuers?: readonly string[];
  };
  readonly certificatePolicies?: readonly PolicyInput[];
  /** Adds id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1), for OCSP responder certificates. */
  readonly ocspNoCheck?: boolean;
  /** Any other extensions, written after the ones above. */
  readonly extra?: readonly {
    readonly oid: string;
    readonly critical?: boolean;
    readonly value: Uint8Array;
  }[];
}

export function extension(extnId: string, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(oid(extnId), ...(critical ? [boolean(true)] : []), octetString(value));
}

export function encodeGeneralName(g: GeneralNameInput): Uint8Array {
  if ('dns' in g) return retag(ia5String(g.dns), 0x82);
  if ('email' in g) return retag(ia5String(g.email), 0x81);
  if ('uri' in g) return retag(ia5String(g.uri), 0x86);
  if ('ip' in g) {
    const v = isIP(g.ip);
    if (v === 4) return tlv(0x87, Uint8Array.from(g.ip.split('.').map(Number)));
    if (v === 6) return tlv(0x87, ipv6Bytes(g.ip));
    throw new PkiError('PKI_INVALID_ARGUMENT', `not an IP address: ${g.ip}`);
  }
  return explicit(4, encodeName(g.directoryName));
}

function ipv6Bytes(ip: string): Uint8Array {
  const [head = '', tail] = ip.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the BIT STRING subjectPublicKey (without tag, length, unused bits). */
export function keyIdentifierOf(spki: Uint8Array): Uint8Array {
  const top = scanDer(spki);
  const [, bits] = childrenOf(spki, top, 'der');
  if (!bits || bits.tagByte !== TAG.BIT_STRING)
    throw new PkiError('PKI_INVALID_ARGUMENT', 'not a SubjectPublicKeyInfo');
  return new Uint8Array(
    createHash('sha1')
      .update(spki.subarray(bits.valueStart + 1, bits.end))
      .digest(),
  );
}

function purposeOid(p: string): string {
  return (KEY_PURPOSE as Readonly<Record<string, string>>)[p] ?? p;
}

/**
 * Encodes the extensions of a certificate. `subjectSpki` is the certificate's key (for the SKI), `issuerSki`
 * the issuing CA's SKI (for the AKI; for a self-signed certificate, its own).
 */
export function encodeExtensions(
  input: ExtensionsInput,
  context: { readonly subjectSpki: Uint8Array; readonly issuerSki: Uint8Array | undefined },
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const bc = input.basicConstraints;
  if (bc) {
    if (bc.pathLength !== undefined && (!Number.isInteger(bc.pathLength) || bc.pathLength < 0 || !bc.ca))
      throw new PkiError('PKI_INVALID_ARGUMENT', 'pathLength is a non-negative integer, for CAs only');
    out.push(
      extension(
        EXT_OID.basicConstraints,
        bc.critical ?? true,
        sequence(
          ...(bc.ca ? [boolean(true)] : []),
          ...(bc.pathLength === undefined ? [] : [integer(bc.pathLength)]),
        ),
      ),
    );
  }
  const ku = input.keyUsage;
  if (ku) {
    if (ku.usages.length === 0) throw new PkiError('PKI_INVALID_ARGUMENT', 'keyUsage needs at least one bit');
    const bits = ku.usages.map((u) => KEY_USAGE_NAMES.indexOf(u));
    if (bits.some((b) => b < 0)) throw new PkiError('PKI_INVALID_ARGUMENT', 'unknown key usage');
    out.push(extension(EXT_OID.keyUsage, ku.critical ?? true, namedBits(bits)));
  }
  const eku = input.extKeyUsage;
  if (eku) {
    if (eku.purposes.length === 0) throw new PkiError('PKI_INVALID_ARGUMENT', 'extKeyUsage needs a purpose');
    out.push(
      extension(
        EXT_OID.extKeyUsage,
        eku.critical ?? false,
        sequence(...eku.purposes.map((p) => oid(purposeOid(p)))),
      ),
    );
  }
  const ski =
    input.subjectKeyIdentifier instanceof Uint8Array
      ? input.subjectKeyIdentifier
      : input.subjectKeyIdentifier === false
        ? undefined
        : keyIdentifierOf(context.subjectSpki);
  if (ski) out.push(extension(EXT_OID.subjectKeyIdentifier, false, octetString(ski)));
  const aki =
    input.authorityKeyIdentifier instanceof Uint8Array
      ? input.authorityKeyIdentifier
      : input.authorityKeyIdentifier === false
        ? undefined
        : context.issuerSki;
  if (aki) out.push(extension(EXT_OID.authorityKeyIdentifier, false, sequence(tlv(0x80, aki))));
  if (input.subjectAltName && input.subjectAltName.length > 0) {
    out.push(
      extension(EXT_OID.subjectAltName, false, sequence(...input.subjectAltName.map(encodeGeneralName))),
    );
  }
  if (input.crlDistributionPoints && input.crlDistributionPoints.length > 0) {
    const fullName = tlv(0xa0, ...input.crlDistributionPoints.map((u) => encodeGeneralName({ uri: u })));
    out.push(extension(EXT_OID.crlDistributionPoints, false, sequence(sequence(explicit(0, fullName)))));
  }
  const aia = input.authorityInfoAccess;
  if (aia && ((aia.ocsp?.length ?? 0) > 0 || (aia.caIssuers?.length ?? 0) > 0)) {
    const desc = (method: string, uri: string): Uint8Array =>
      sequence(oid(method), encodeGeneralName({ uri }));
    out.push(
      extension(
        EXT_OID.authorityInfoAccess,
        false,
        sequence(
          ...(aia.ocsp ?? []).map((u) => desc(ACCESS_METHOD.ocsp, u)),
          ...(aia.caIssuers ?? []).map((u) => desc(ACCESS_METHOD.caIssuers, u)),
        ),
      ),
    );
  }
  if (input.certificatePolicies && input.certificatePolicies.length > 0) {
    const info = input.certificatePolicies.map((pol) => {
      const qualifiers = [
        ...(pol.cps === undefined ? [] : [sequence(oid(QUALIFIER.cps), ia5String(pol.cps))]),
        ...(pol.userNotice === undefined
          ? []
          : [sequence(oid(QUALIFIER.userNotice), sequence(utf8String(pol.userNotice)))]),
      ];
      return sequence(oid(pol.oid), ...(qualifiers.length > 0 ? [sequence(...qualifiers)] : []));
    });
    out.push(extension(EXT_OID.certificatePolicies, false, sequence(...info)));
  }
  if (input.ocspNoCheck === true) out.push(extension(EXT_OID.ocspNoCheck, false, Uint8Array.of(0x05, 0)));
  for (const e of input.extra ?? []) {
    scanDer(e.value);
    out.push(extension(e.oid, e.critical ?? false, e.value));
  }
  // RFC 5280 §4.2: at most one instance of an extension.
  const seen = new Set<string>();
  for (const e of out) {
    const [id] = childrenOf(e, scanDer(e), 'der');
    const key = id ? Buffer.from(e.subarray(id.start, id.end)).toString('hex') : '';
    if (seen.has(key)) throw new PkiError('PKI_INVALID_ARGUMENT', 'an extension appears twice');
    seen.add(key);
  }
  return out;
}

// ---- decoding --------------------------------------------------------------------------------------------
// A direct walk over the DER (childrenOf), not @peculiar/asn1-schema: it is an order of magnitude faster and
// every certificate parsed goes through it.

function malformed(name: string): PkiError {
  return new PkiError('PKI_ASN1_INVALID', `malformed ${name} extension`);
}

/** The top TLV of an extension value, which must fill it exactly. */
function topOf(value: Uint8Array, name: string): Tlv {
  try {
    return scanDer(value, { maxDepth: 16 });
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', `malformed ${name} extension`, { cause: e });
  }
}

function kids(bytes: Uint8Array, t: Tlv, name: string): Tlv[] {
  if (!t.constructed) throw malformed(name);
  return childrenOf(bytes, t, 'der');
}

const contents = (bytes: Uint8Array, t: Tlv): Uint8Array => bytes.subarray(t.valueStart, t.end);

/** OBJECT IDENTIFIER contents (X.690 §8.19) to dotted form. */
export function decodeOidContents(c: Uint8Array): string {
  if (c.length === 0 || (c[c.length - 1] ?? 0) & 0x80)
    throw new PkiError('PKI_ASN1_INVALID', 'malformed OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let v = 0n;
  let start = true;
  for (const b of c) {
    if (start && b === 0x80) throw new PkiError('PKI_ASN1_INVALID', 'non-minimal OBJECT IDENTIFIER arc');
    v = (v << 7n) | BigInt(b & 0x7f);
    start = (b & 0x80) === 0;
    if (start) {
      arcs.push(v);
      v = 0n;
    }
  }
  const first = arcs[0] ?? 0n;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

function oidAt(bytes: Uint8Array, t: Tlv | undefined, name: string): string {
  if (!t || t.tagByte !== TAG.OID) throw malformed(name);
  return decodeOidContents(contents(bytes, t));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

function text(bytes: Uint8Array, t: Tlv, name: string): string {
  const c = contents(bytes, t);
  try {
    // IA5String / VisibleString are ASCII; UTF8String is UTF-8; BMPString is UTF-16BE.
    if (t.tagByte === 0x1e) {
      if (c.length % 2 !== 0) throw malformed(name);
      return String.fromCharCode(
        ...Array.from({ length: c.length / 2 }, (_, i) => ((c[2 * i] ?? 0) << 8) | (c[2 * i + 1] ?? 0)),
      );
    }
    return t.tagByte === TAG.UTF8_STRING ? utf8.decode(c) : latin1.decode(c);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('PKI_ASN1_INVALID', `malformed string in ${name}`, { cause: e });
  }
}

function ipText(c: Uint8Array): string {
  if (c.length === 4) return Array.from(c).join('.');
  if (c.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((c[i] ?? 0) << 8) | (c[i + 1] ?? 0)).toString(16));
    // The RFC 5952 form: the longest run of two or more zero groups becomes '::'.
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8;) {
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen) {
        best = i;
        bestLen = j - i;
      }
      i = j === i ? i + 1 : j;
    }
    if (best < 0) return groups.join(':');
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  }
  // An address with a mask (name constraints) or something else: hex.
  return Buffer.from(c).toString('hex');
}

/** One GeneralName (RFC 5280 §4.2.1.6); `nameOf` turns a directoryName's Name DER into a string. */
function generalName(
  bytes: Uint8Array,
  t: Tlv,
  nameOf: (der: Uint8Array) => string,
  name: string,
): GeneralNameValue {
  switch (t.tagByte) {
    case 0x81:
      return { type: 'email', value: text(bytes, t, name) };
    case 0x82:
      return { type: 'dns', value: text(bytes, t, name) };
    case 0x86:
      return { type: 'uri', value: text(bytes, t, name) };
    case 0x87:
      return { type: 'ip', value: ipText(contents(bytes, t)) };
    case 0x88:
      return { type: 'registeredID', value: decodeOidContents(contents(bytes, t)) };
    case 0xa4: {
      const [inner, ...rest] = kids(bytes, t, name);
      if (!inner || rest.length > 0 || inner.tagByte !== TAG.SEQUENCE) throw malformed(name);
      return { type: 'directoryName', value: nameOf(bytes.subarray(inner.start, inner.end)) };
    }
    case 0xa0:
    case 0xa3:
    case 0xa5:
      return { type: 'other', value: Buffer.from(bytes.subarray(t.start, t.end)).toString('hex') };
    default:
      throw malformed(name);
  }
}

function generalNames(
  bytes: Uint8Array,
  t: Tlv,
  nameOf: (der: Uint8Array) => string,
  name: string,
): GeneralNameValue[] {
  return kids(bytes, t, name).map((g) => generalName(bytes, g, nameOf, name));
}

/** The decoded extensions of a certificate (undefined when absent). */
export interface DecodedExtensions {
  readonly subjectKeyIdentifier: Uint8Array | undefined;
  readonly authorityKeyIdentifier:
    | {
        readonly keyIdentifier: Uint8Array | undefined;
        readonly issuer: readonly GeneralNameValue[] | undefined;
        readonly serialHex: string | undefined;
      }
    | undefined;
  readonly subjectAltName: readonly GeneralNameValue[] | undefined;
  /** fullName URIs (and other names, printed) of every distribution point. */
  readonly crlDistributionPoints: readonly GeneralNameValue[] | undefined;
  readonly authorityInfoAccess:
    { readonly ocsp: readonly string[]; readonly caIssuers: readonly string[] } | undefined;
  readonly certificatePolicies: readonly PolicyValue[] | undefined;
  readonly ocspNoCheck: boolean;
}

function decodeSki(v: Uint8Array): Uint8Array {
  const t = topOf(v, 'subjectKeyIdentifier');
  if (t.tagByte !== TAG.OCTET_STRING) throw malformed('subjectKeyIdentifier');
  return v.slice(t.valueStart, t.end);
}

function decodeAki(
  v: Uint8Array,
  nameOf: (der: Uint8Array) => string,
): NonNullable<DecodedExtensions['authorityKeyIdentifier']> {
  const n = 'authorityKeyIdentifier';
  const t = topOf(v, n);
  if (t.tagByte !== TAG.SEQUENCE) throw malformed(n);
  let keyIdentifier: Uint8Array | undefined;
  let issuer: GeneralNameValue[] | undefined;
  let serialHex: string | undefined;
  for (const f of kids(v, t, n)) {
    if (f.tagByte === 0x80 && keyIdentifier === undefined) keyIdentifier = v.slice(f.valueStart, f.end);
    else if (f.tagByte === 0xa1 && issuer === undefined) issuer = generalNames(v, f, nameOf, n);
    else if (f.tagByte === 0x82 && serialHex === undefined && f.end > f.valueStart)
      serialHex = Buffer.from(contents(v, f))
        .toString('hex')
        .replace(/^(00)+(?=.)/, '');
    else throw malformed(n);
  }
  return { keyIdentifier, issuer, serialHex };
}

function decodeCdp(v: Uint8Array, nameOf: (der: Uint8Array) => string): GeneralNameValue[] {
  const n = 'cRLDistributionPoints';
  const t = topOf(v, n);
  if (t.tagByte !== TAG.SEQUENCE) throw malformed(n);
  const out: GeneralNameValue[] = [];
  for (const dp of kids(v, t, n)) {
    if (dp.tagByte !== TAG.SEQUENCE) throw malformed(n);
    for (const f of kids(v, dp, n)) {
      if (f.tagByte === 0xa0) {
        const [dpn, ...rest] = kids(v, f, n);
        if (!dpn || rest.length > 0) throw malformed(n);
        // fullName [0] IMPLICIT GeneralNames; nameRelativeToCRLIssuer [1] is not a location: skipped.
        if (dpn.tagByte === 0xa0) out.push(...generalNames(v, dpn, nameOf, n));
        else if (dpn.tagByte !== 0xa1) throw malformed(n);
      } else if (f.tagByte !== 0x81 && f.tagByte !== 0xa2) throw malformed(n);
    }
  }
  return out;
}

function decodeAia(
  v: Uint8Array,
  nameOf: (der: Uint8Array) => string,
): NonNullable<DecodedExtensions['authorityInfoAccess']> {
  const n = 'authorityInfoAccess';
  const t = topOf(v, n);
  if (t.tagByte !== TAG.SEQUENCE) throw malformed(n);
  const ocsp: string[] = [];
  const caIssuers: string[] = [];
  for (const ad of kids(v, t, n)) {
    const [m, loc, ...rest] = kids(v, ad, n);
    if (!loc || rest.length > 0) throw malformed(n);
    const method = oidAt(v, m, n);
    const g = generalName(v, loc, nameOf, n);
    if (g.type !== 'uri') continue;
    if (method === ACCESS_METHOD.ocsp) ocsp.push(g.value);
    else if (method === ACCESS_METHOD.caIssuers) caIssuers.push(g.value);
  }
  return { ocsp, caIssuers };
}

function decodePolicies(v: Uint8Array): PolicyValue[] {
  const n = 'certificatePolicies';
  const t = topOf(v, n);
  if (t.tagByte !== TAG.SEQUENCE) throw malformed(n);
  return kids(v, t, n).map((pi) => {
    const [idTlv, qualifiersTlv, ...rest] = kids(v, pi, n);
    if (rest.length > 0) throw malformed(n);
    const policyOid = oidAt(v, idTlv, n);
    let cps: string | undefined;
    let userNotice: string | undefined;
    for (const q of qualifiersTlv ? kids(v, qualifiersTlv, n) : []) {
      const [qid, qualifier] = kids(v, q, n);
      const id = oidAt(v, qid, n);
      if (!qualifier) throw malformed(n);
      if (id === QUALIFIER.cps) {
        if (qualifier.tagByte !== TAG.IA5_STRING) throw malformed(n);
        cps = text(v, qualifier, n);
      } else if (id === QUALIFIER.userNotice) {
        if (qualifier.tagByte !== TAG.SEQUENCE) throw malformed(n);
        // UserNotice ::= SEQUENCE { noticeRef NoticeReference OPTIONAL, explicitText DisplayText OPTIONAL }
        const explicitText = kids(v, qualifier, n).find((x) => x.tagByte !== TAG.SEQUENCE);
        if (explicitText) {
          if (![TAG.IA5_STRING, 0x1a, 0x1e, TAG.UTF8_STRING].includes(explicitText.tagByte))
            throw malformed(n);
          userNotice = text(v, explicitText, n);
        }
      }
    }
    return {
      oid: policyOid,
      ...(cps === undefined ? {} : { cps }),
      ...(userNotice === undefined ? {} : { userNotice }),
    };
  });
}

/**
 * Decodes the extensions this package knows beyond basicConstraints / keyUsage / extKeyUsage. `nameOf` prints
 * a directoryName (DER Name). Throws PKI_ASN1_INVALID for a malformed value.
 */
export function decodeExtensions(
  extensions: readonly RawExtension[],
  nameOf: (der: Uint8Array) => string,
): DecodedExtensions {
  const get = (o: string): Uint8Array | undefined => extensions.find((e) => e.oid === o)?.value;
  const ski = get(EXT_OID.subjectKeyIdentifier);
  const aki = get(EXT_OID.authorityKeyIdentifier);
  const san = get(EXT_OID.subjectAltName);
  const cdp = get(EXT_OID.crlDistributionPoints);
  const aia = get(EXT_OID.authorityInfoAccess);
  const cp = get(EXT_OID.certificatePolicies);
  const nc = get(EXT_OID.ocspNoCheck);
  if (nc !== undefined && !(nc.length === 2 && nc[0] === 0x05 && nc[1] === 0)) throw malformed('ocspNoCheck');
  return {
    subjectKeyIdentifier: ski && decodeSki(ski),
    authorityKeyIdentifier: aki && decodeAki(aki, nameOf),
    subjectAltName:
      san &&
      (() => {
        const t = topOf(san, 'subjectAltName');
        if (t.tagByte !== TAG.SEQUENCE) throw malformed('subjectAltName');
        return generalNames(san, t, nameOf, 'subjectAltName');
      })(),
    crlDistributionPoints: cdp && decodeCdp(cdp, nameOf),
    authorityInfoAccess: aia && decodeAia(aia, nameOf),
    certificatePolicies: cp && decodePolicies(cp),
    ocspNoCheck: nc !== undefined,
  };
}

/** Key usage names of a KeyUsage flags number ({@link ParsedCertificate.keyUsage}). */
export function keyUsageNames(flags: number): KeyUsageName[] {
  return KEY_USAGE_NAMES.filter((_, i) => (flags & (1 << i)) !== 0);
}
