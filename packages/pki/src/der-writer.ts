/**
 * A small DER encoder (X.690 §10) for the builders: definite minimal lengths, minimal INTEGERs, SET OF sorted
 * by encoding (§11.6), UTCTime up to 2049 and GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). Builders compose
 * these functions; nothing here parses.
 */
import { PkiError } from './errors.js';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function lengthBytes(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Uint8Array.of(0x80 | out.length, ...out);
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One TLV with a single-byte identifier octet (tag numbers below 31, which is all X.509/CMS need). */
export function tlv(tag: number, ...contents: readonly Uint8Array[]): Uint8Array {
  const body = concatBytes(...contents);
  return concatBytes(Uint8Array.of(tag), lengthBytes(body.length), body);
}

export const sequence = (...items: readonly Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...items);

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return a.length - b.length;
}

/** SET OF with its elements in ascending order of their encodings (X.690 §11.6). */
export function setOf(items: readonly Uint8Array[], tag: number = TAG.SET): Uint8Array {
  return tlv(tag, ...[...items].sort(compareBytes));
}

/** [n] EXPLICIT: a constructed context-specific wrapper. */
export const explicit = (n: number, ...inner: readonly Uint8Array[]): Uint8Array => tlv(0xa0 | n, ...inner);

/** Replaces the identifier octet of an encoding (IMPLICIT tagging): `0x80 | n` primitive, `0xa0 | n` constructed. */
export function retag(encoded: Uint8Array, tag: number): Uint8Array {
  const out = Uint8Array.from(encoded);
  out[0] = tag;
  return out;
}

export function integer(value: bigint | number | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) {
    // An unsigned magnitude (serial numbers): strip leading zeros, then add one if the top bit is set.
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    const mag = value.subarray(i);
    bytes = mag.length > 0 && (mag[0] ?? 0) >= 0x80 ? concatBytes(Uint8Array.of(0), mag) : mag;
    if (bytes.length === 0) bytes = Uint8Array.of(0);
  } else {
    let v = BigInt(value);
    if (v < 0n) throw new PkiError('PKI_INVALID_ARGUMENT', 'negative INTEGERs are not written here');
    const out: number[] = [];
    do {
      out.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
    if ((out[0] ?? 0) >= 0x80) out.unshift(0);
    bytes = Uint8Array.from(out);
  }
  return tlv(TAG.INTEGER, bytes);
}

export const enumerated = (value: number): Uint8Array => retag(integer(value), TAG.ENUMERATED);

export const boolean = (value: boolean): Uint8Array => tlv(TAG.BOOLEAN, Uint8Array.of(value ? 0xff : 0));

export const nullValue = (): Uint8Array => Uint8Array.of(TAG.NULL, 0);

export const octetString = (bytes: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, bytes);

/** BIT STRING of whole octets (no unused bits). */
export const bitString = (bytes: Uint8Array): Uint8Array => tlv(TAG.BIT_STRING, Uint8Array.of(0), bytes);

/**
 * A named BIT STRING (KeyUsage, ReasonFlags) from the numbers of the bits set, with trailing zero bits removed
 * (X.690 §11.2.2).
 */
export function namedBits(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return tlv(TAG.BIT_STRING, Uint8Array.of(0));
  const top = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(top / 8) + 1);
  for (const b of bits) bytes[Math.floor(b / 8)]! |= 0x80 >> (b % 8);
  return tlv(TAG.BIT_STRING, Uint8Array.of(7 - (top % 8)), bytes);
}

export function oid(dotted: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted))
    throw new PkiError('PKI_INVALID_ARGUMENT', `not an OBJECT IDENTIFIER: ${dotted}`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [a0 = 0n, a1 = 0n, ...rest] = arcs;
  if (a0 < 2n && a1 > 39n) throw new PkiError('PKI_INVALID_ARGUMENT', `bad second arc in ${dotted}`);
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...rest]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    out.push(...groups);
  }
  return tlv(TAG.OID, Uint8Array.from(out));
}

const utf8 = new TextEncoder();

export const utf8String = (s: string): Uint8Array => tlv(TAG.UTF8_STRING, utf8.encode(s));

export function printableString(s: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s))
    throw new PkiError('PKI_INVALID_ARGUMENT', `not a PrintableString: ${s}`);
  return tlv(TAG.PRINTABLE_STRING, utf8.encode(s));
}

export function ia5String(s: string): Uint8Array {
  if (!Buffer.from(s, 'utf8').every((b) => b < 0x80))
    throw new PkiError('PKI_INVALID_ARGUMENT', `not an IA5String: ${s}`);
  return tlv(TAG.IA5_STRING, utf8.encode(s));
}

function checkDate(d: Date): void {
  if (Number.isNaN(d.getTime())) throw new PkiError('PKI_INVALID_ARGUMENT', 'invalid date');
}

/** GeneralizedTime YYYYMMDDHHMMSSZ (whole seconds, X.690 §11.7 / RFC 5280 §4.1.2.5.2). */
export function generalizedTime(d: Date): Uint8Array {
  checkDate(d);
  const s = d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '');
  return tlv(TAG.GENERALIZED_TIME, utf8.encode(s));
}

export function utcTime(d: Date): Uint8Array {
  checkDate(d);
  const s = d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '')
    .slice(2);
  return tlv(TAG.UTC_TIME, utf8.encode(s));
}

/** RFC 5280 Time: UTCTime for 1950–2049, GeneralizedTime otherwise. */
export function time(d: Date): Uint8Array {
  checkDate(d);
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050 ? utcTime(d) : generalizedTime(d);
}

/** AlgorithmIdentifier { algorithm, parameters } (parameters absent when not given). */
export function algorithmIdentifier(algorithm: string, parameters?: Uint8Array): Uint8Array {
  return parameters === undefined ? sequence(oid(algorithm)) : sequence(oid(algorithm), parameters);
}

/**
 * The AlgorithmIdentifier of a signature algorithm: NULL parameters for the RSA PKCS#1 family (RFC 4055 §5),
 * absent for ECDSA (RFC 5758 §3.2) and SM2 (GM/T 0015).
 */
export function signatureAlgorithmIdentifier(algorithm: string): Uint8Array {
  return algorithm.startsWith('1.2.840.113549.1.1.')
    ? algorithmIdentifier(algorithm, nullValue())
    : algorithmIdentifier(algorithm);
}
