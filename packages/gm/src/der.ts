/**
 * A small strict DER (ITU-T X.690 §10) reader and writer for the structures this package owns: SM2 keys
 * (SPKI, PKCS#8, SEC1), SM2Signature and SM2Cipher (GM/T 0009). Full ASN.1 lives in `@yizheng/pki`.
 *
 * The reader rejects everything DER forbids: indefinite lengths, non-minimal length octets, non-minimal
 * INTEGERs, high-tag-number forms we never use, and lengths that run past the input. Errors are GM_INVALID_DER.
 */
import { bigIntToBytes, bytesToBigInt, concat } from './bytes.js';
import { GmError } from './errors.js';

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
} as const;

export interface Tlv {
  tag: number;
  /** The content octets. */
  value: Uint8Array;
  /** Offset just past this element in the buffer it was read from. */
  end: number;
}

function fail(msg: string): never {
  throw new GmError('GM_INVALID_DER', msg);
}

/** Reads one TLV at `offset`. */
export function readTlv(buf: Uint8Array, offset = 0): Tlv {
  if (offset + 2 > buf.length) fail('truncated element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) fail('high tag numbers are not used here');
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) fail('indefinite length is not DER');
    if (n > 4) fail('length too large');
    if (p + n > buf.length) fail('truncated length');
    if (buf[p] === 0) fail('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    if (len < 0x80) fail('non-minimal length');
    p += n;
  }
  if (len > buf.length - p) fail('length runs past the end of the input');
  return { tag, value: buf.subarray(p, p + len), end: p + len };
}

/** Reads exactly one element of the expected tag spanning the whole buffer. */
export function readOnly(buf: Uint8Array, tag: number): Uint8Array {
  const t = readTlv(buf, 0);
  if (t.tag !== tag) fail(`expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  if (t.end !== buf.length) fail('trailing bytes after the element');
  return t.value;
}

/** Splits the content of a constructed element into its children. */
export function children(content: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let p = 0;
  while (p < content.length) {
    const t = readTlv(content, p);
    out.push({ tag: t.tag, value: t.value, end: t.end });
    p = t.end;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Uint8Array {
  if (t === undefined || t.tag !== tag) fail(`${what}: expected tag 0x${tag.toString(16)}`);
  return t.value;
}

/** A DER INTEGER's content as a non-negative bigint; minimal encoding enforced, negatives refused. */
export function decodeUnsignedInteger(v: Uint8Array): bigint {
  if (v.length === 0) fail('empty INTEGER');
  if (v.length > 1 && ((v[0] === 0 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0))) {
    fail('non-minimal INTEGER');
  }
  if (v[0]! & 0x80) fail('negative INTEGER');
  return bytesToBigInt(v);
}

/** Small non-negative INTEGER (versions). */
export function decodeSmallInteger(v: Uint8Array): number {
  const n = decodeUnsignedInteger(v);
  if (n > 0xffffn) fail('INTEGER too large');
  return Number(n);
}

export function decodeOid(v: Uint8Array): string {
  if (v.length === 0 || v.length > 64) fail('bad OBJECT IDENTIFIER length');
  const arcs: number[] = [];
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (acc === 0 && b === 0x80) fail('non-minimal OBJECT IDENTIFIER arc');
    if (acc > 0x1ffffff) fail('OBJECT IDENTIFIER arc too large');
    acc = acc * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(acc);
      acc = 0;
    } else if (i === v.length - 1) fail('truncated OBJECT IDENTIFIER');
  }
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** BIT STRING content with zero unused bits (all key and signature bit strings are octet-aligned). */
export function decodeOctetAlignedBitString(v: Uint8Array): Uint8Array {
  if (v.length === 0 || v[0] !== 0) fail('BIT STRING must have zero unused bits');
  return v.subarray(1);
}

// ---- writer ----

function encodeLength(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(...content);
  return concat(Uint8Array.of(tag), encodeLength(body.length), body);
}

export const sequence = (...items: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...items);
export const octetString = (v: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, v);
export const bitString = (v: Uint8Array): Uint8Array => tlv(TAG.BIT_STRING, Uint8Array.of(0), v);
/** [n] EXPLICIT, constructed context-specific. */
export const explicit = (n: number, v: Uint8Array): Uint8Array => tlv(0xa0 | n, v);

export function integer(v: bigint | number): Uint8Array {
  const n = BigInt(v);
  if (n < 0n) throw new GmError('GM_INVALID_ARGUMENT', 'negative INTEGER');
  let bytes = n === 0n ? Uint8Array.of(0) : bigIntToBytes(n, Math.ceil(n.toString(16).length / 2));
  if (bytes[0]! & 0x80) bytes = concat(Uint8Array.of(0), bytes);
  return tlv(TAG.INTEGER, bytes);
}

export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => Number(a));
  const first = arcs[0]! * 40 + arcs[1]!;
  const out: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [arc & 0x7f];
    for (let a = Math.floor(arc / 128); a > 0; a = Math.floor(a / 128)) chunk.unshift(0x80 | (a & 0x7f));
    out.push(...chunk);
  }
  return tlv(TAG.OID, Uint8Array.from(out));
}
