/**
 * Hardened DER/BER intake (X.690). Every byte string from outside goes through {@link scanDer} before asn1js or
 * `@peculiar/asn1-schema` sees it: the TLV structure is walked once with a depth limit, every length is bounded
 * by the bytes that remain, the total size is bounded, and in strict mode the DER rules that matter for
 * signatures are enforced (X.690 §10: definite minimal lengths, minimal INTEGERs, BOOLEAN 00/FF, primitive
 * strings). Signatures are verified over the exact bytes received, so nothing here re-encodes.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { PkiError } from './errors.js';

export interface DerLimits {
  /** Maximum nesting of constructed values (default 64). */
  readonly maxDepth?: number;
  /** Maximum input size in bytes (default 16 MiB). */
  readonly maxSize?: number;
  /** 'der' (default) rejects indefinite and non-minimal lengths and non-DER primitives; 'ber' accepts them. */
  readonly mode?: 'der' | 'ber';
  /** Accept bytes after the top-level value (default false). */
  readonly allowTrailing?: boolean;
}

export const DEFAULT_MAX_DEPTH = 64;
export const DEFAULT_MAX_SIZE = 16 * 1024 * 1024;

/** One TLV located in a buffer: `start` is the tag's offset, `valueStart`/`end` delimit the contents. */
export interface Tlv {
  /** The first identifier octet (class, constructed bit, and low tag number or 0x1f). */
  readonly tagByte: number;
  /** The tag number (high-tag-number form decoded). */
  readonly tagNumber: number;
  readonly constructed: boolean;
  readonly start: number;
  readonly valueStart: number;
  /** Offset after the contents; for indefinite length, after the end-of-contents octets. */
  readonly end: number;
  readonly indefinite: boolean;
}

function invalid(message: string, offset: number): PkiError {
  return new PkiError('PKI_ASN1_INVALID', `${message} at offset ${offset}`);
}

/** A TLV header as read by {@link readHeaderInto}: one mutable record reused across a whole walk. */
export interface Header {
  tagByte: number;
  tagNumber: number;
  constructed: boolean;
  start: number;
  valueStart: number;
  end: number;
  indefinite: boolean;
}

export const newHeader = (): Header => ({
  tagByte: 0,
  tagNumber: 0,
  constructed: false,
  start: 0,
  valueStart: 0,
  end: 0,
  indefinite: false,
});

/**
 * {@link readHeader} into `h` (no allocation): for walks that visit headers one after the other and keep
 * only the offsets they need.
 */
export function readHeaderInto(
  bytes: Uint8Array,
  offset: number,
  limit: number,
  mode: 'der' | 'ber',
  h: Header,
): void {
  let p = offset;
  if (p >= limit) throw invalid('truncated tag', p);
  const tagByte = bytes[p++] ?? 0;
  const constructed = (tagByte & 0x20) !== 0;
  let tagNumber = tagByte & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    let first = true;
    for (;;) {
      if (p >= limit) throw invalid('truncated tag', p);
      const b = bytes[p++] ?? 0;
      if (first && b === 0x80) throw invalid('non-minimal tag number', p - 1);
      first = false;
      if (tagNumber > 0x00ffffff) throw invalid('tag number too large', p - 1);
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (mode === 'der' && tagNumber < 0x1f) throw invalid('non-minimal tag number', offset);
  }
  h.tagByte = tagByte;
  h.tagNumber = tagNumber;
  h.constructed = constructed;
  h.start = offset;
  h.indefinite = false;
  if (p >= limit) throw invalid('truncated length', p);
  const lb = bytes[p++] ?? 0;
  if (lb < 0x80) {
    const end = p + lb;
    if (end > limit) throw invalid(`length ${lb} exceeds the remaining input`, offset);
    h.valueStart = p;
    h.end = end;
    return;
  }
  if (lb === 0x80) {
    if (mode === 'der') throw invalid('indefinite length in DER', offset);
    if (!constructed) throw invalid('indefinite length on a primitive value', offset);
    h.valueStart = p;
    h.end = -1;
    h.indefinite = true;
    return;
  }
  const n = lb & 0x7f;
  if (n === 0x7f) throw invalid('reserved length octet', offset);
  if (n > 6) throw invalid('length field too long', offset);
  if (p + n > limit) throw invalid('truncated length', p);
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (bytes[p + i] ?? 0);
  if (mode === 'der' && (bytes[p] === 0 || len < 0x80)) throw invalid('non-minimal length', offset);
  p += n;
  if (len > limit - p) throw invalid(`length ${len} exceeds the remaining input`, offset);
  h.valueStart = p;
  h.end = p + len;
}

/**
 * Reads one TLV header at `offset` and bounds its length by `limit`. For an indefinite length, `end` is not
 * known without walking the children; it is set to -1 here and resolved by {@link scanDer}.
 */
export function readHeader(
  bytes: Uint8Array,
  offset: number,
  limit: number,
  mode: 'der' | 'ber' = 'der',
): Tlv {
  const h = newHeader();
  readHeaderInto(bytes, offset, limit, mode, h);
  return h;
}

const UNIVERSAL = 0x00;

function checkPrimitive(bytes: Uint8Array, t: Header): void {
  if ((t.tagByte & 0xc0) !== UNIVERSAL) return;
  const len = t.end - t.valueStart;
  const v0 = bytes[t.valueStart] ?? 0;
  const v1 = bytes[t.valueStart + 1] ?? 0;
  switch (t.tagNumber) {
    case 1: // BOOLEAN
      if (len !== 1 || (v0 !== 0 && v0 !== 0xff)) throw invalid('BOOLEAN is not DER', t.start);
      break;
    case 2: // INTEGER
    case 10: // ENUMERATED
      if (len === 0) throw invalid('empty INTEGER', t.start);
      if (len > 1 && ((v0 === 0 && (v1 & 0x80) === 0) || (v0 === 0xff && (v1 & 0x80) !== 0))) {
        throw invalid('non-minimal INTEGER', t.start);
      }
      break;
    case 3: // BIT STRING
      if (len === 0 || v0 > 7 || (len === 1 && v0 !== 0)) throw invalid('malformed BIT STRING', t.start);
      break;
    case 5: // NULL
      if (len !== 0) throw invalid('NULL with contents', t.start);
      break;
    case 6: // OBJECT IDENTIFIER
    case 13: {
      // RELATIVE-OID
      if (len === 0) throw invalid('empty OBJECT IDENTIFIER', t.start);
      let startOfArc = true;
      for (let i = t.valueStart; i < t.end; i++) {
        const b = bytes[i] ?? 0;
        if (startOfArc && b === 0x80) throw invalid('non-minimal OID arc', i);
        startOfArc = (b & 0x80) === 0;
      }
      if (!startOfArc) throw invalid('truncated OID arc', t.end - 1);
      break;
    }
    default:
      break;
  }
}

const CONSTRUCTED_ONLY_IN_BER = new Set([3, 4, 12, 19, 20, 22, 26, 28, 30]);

/**
 * Walks the TLV at `offset` and everything inside it, reading headers into `h`; returns the offset after it
 * (for an indefinite length, after its end-of-contents octets).
 */
function walk(
  bytes: Uint8Array,
  offset: number,
  limit: number,
  depth: number,
  maxDepth: number,
  mode: 'der' | 'ber',
  h: Header,
): number {
  if (depth > maxDepth)
    throw new PkiError('PKI_DEPTH_LIMIT', `nesting deeper than ${maxDepth} at offset ${offset}`);
  readHeaderInto(bytes, offset, limit, mode, h);
  if (!h.constructed) {
    if (mode === 'der') checkPrimitive(bytes, h);
    return h.end;
  }
  if (mode === 'der' && (h.tagByte & 0xc0) === UNIVERSAL && CONSTRUCTED_ONLY_IN_BER.has(h.tagNumber)) {
    throw invalid('constructed string in DER', h.start);
  }
  let p = h.valueStart;
  if (h.indefinite) {
    for (;;) {
      if (p + 2 > limit) throw invalid('missing end-of-contents', p);
      if (bytes[p] === 0 && bytes[p + 1] === 0) return p + 2;
      p = walk(bytes, p, limit, depth + 1, maxDepth, mode, h);
    }
  }
  const end = h.end;
  while (p < end) p = walk(bytes, p, end, depth + 1, maxDepth, mode, h);
  return end;
}

/**
 * {@link scanDer}'s walk of one value and everything inside it: the TLV at `offset`, bounded by `limit`, at
 * nesting `depth` (the top level is 1), headers read into `h`; returns the offset after it. For a reader that
 * reads the levels above itself — each header bounded by its parent, every child of a constructed value
 * visited up to its end, no level deeper than the limit — and hands each value it does not descend into to
 * this walk: together they check exactly what scanDer checks. Throws as scanDer does.
 */
export function walkValue(
  bytes: Uint8Array,
  offset: number,
  limit: number,
  depth: number,
  limits: DerLimits,
  h: Header,
): number {
  return walk(bytes, offset, limit, depth, limits.maxDepth ?? DEFAULT_MAX_DEPTH, limits.mode ?? 'der', h);
}

/** The nesting depth of a TLV that passed {@link scanDer} (a primitive value is 1). */
export function depthOf(bytes: Uint8Array, mode: 'der' | 'ber' = 'der'): number {
  const h = newHeader();
  const deepest = (offset: number, limit: number): [number, number] => {
    readHeaderInto(bytes, offset, limit, mode, h);
    if (!h.constructed) return [h.end, 1];
    let p = h.valueStart;
    const indefinite = h.indefinite;
    const end = indefinite ? limit : h.end;
    let d = 0;
    while (p < end) {
      if (indefinite && bytes[p] === 0 && bytes[p + 1] === 0) return [p + 2, d + 1];
      const [next, inner] = deepest(p, end);
      p = next;
      if (inner > d) d = inner;
    }
    return [end, d + 1];
  };
  return deepest(0, bytes.length)[1];
}

/**
 * Walks the whole TLV structure of `bytes` and returns the top-level element. Throws PkiError
 * PKI_SIZE_LIMIT, PKI_DEPTH_LIMIT or PKI_ASN1_INVALID; never anything else for any input.
 */
export function scanDer(bytes: Uint8Array, limits: DerLimits = {}): Tlv {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxSize = limits.maxSize ?? DEFAULT_MAX_SIZE;
  const mode = limits.mode ?? 'der';
  if (!(bytes instanceof Uint8Array)) throw new PkiError('PKI_INVALID_ARGUMENT', 'input is not a Uint8Array');
  if (bytes.length > maxSize) {
    throw new PkiError('PKI_SIZE_LIMIT', `input of ${bytes.length} bytes exceeds the limit of ${maxSize}`);
  }
  if (bytes.length === 0) throw invalid('empty input', 0);

  const top = readHeader(bytes, 0, bytes.length, mode);
  const end = walk(bytes, 0, bytes.length, 1, maxDepth, mode, newHeader());
  if (!limits.allowTrailing && end !== bytes.length) {
    throw invalid(`${bytes.length - end} trailing bytes`, end);
  }
  return top.indefinite ? { ...top, end } : top;
}

/** The direct children of a constructed TLV (definite or indefinite length), as located TLVs. */
export function childrenOf(bytes: Uint8Array, parent: Tlv, mode: 'der' | 'ber' = 'ber'): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.valueStart;
  const limit = parent.indefinite ? parent.end - 2 : parent.end;
  while (p < limit) {
    const h = readHeader(bytes, p, limit, mode);
    const t = h.indefinite ? scanDer(bytes.subarray(p, limit), { mode: 'ber', allowTrailing: true }) : h;
    const located = h.indefinite ? { ...h, end: p + t.end } : h;
    out.push(located);
    p = located.end;
  }
  return out;
}

/**
 * Node's ranged compare (`Buffer#compare(target, targetStart, targetEnd)`: memcmp, no view made; it takes any
 * Uint8Array as `this` and target), used from {@link NATIVE_COMPARE_FROM} bytes on: a byte loop in JS costs
 * about 1.8 ns a byte here, the call about 85 ns plus 0.2 ns a byte (at 91 bytes, 175 against 89 ns).
 * Undefined off Node — the browser verifier loads this module before it installs its small Buffer, which has no
 * ranged compare — and the byte loop does all lengths there.
 */
const bufferMethods: Buffer | undefined =
  typeof Buffer === 'function' && typeof (Buffer.prototype as Buffer).compare === 'function'
    ? (Buffer.prototype as Buffer)
    : undefined;
const NATIVE_COMPARE_FROM = 64;

/** Whether two byte strings are equal (not constant-time: for public values such as names and digests). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (bufferMethods !== undefined && a.length >= NATIVE_COMPARE_FROM)
    return bufferMethods.compare.call(a, b) === 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `bytes[from, to)` equals `b` (not constant-time, as {@link sameBytes}; no view made). */
export function sameBytesAt(b: Uint8Array, bytes: Uint8Array, from: number, to: number): boolean {
  if (to - from !== b.length) return false;
  if (bufferMethods !== undefined && b.length >= NATIVE_COMPARE_FROM)
    return from >= 0 && to <= bytes.length && bufferMethods.compare.call(b, bytes, from, to) === 0;
  for (let i = 0; i < b.length; i++) if (b[i] !== bytes[from + i]) return false;
  return true;
}

/** Copies of short byte strings are cut from shared slabs: one small view each instead of a new buffer. */
const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_PIECE = 4096;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/**
 * A copy of `view` (which may then be changed without touching the input). Copies of up to 4 KiB share a
 * 64 KiB backing buffer with other such copies — only ever copies made here, of received (public) encodings,
 * never key material — so a copy's `.buffer` is not its own.
 */
export function copyOf(view: Uint8Array): Uint8Array {
  const n = view.length;
  if (n > SLAB_MAX_PIECE) return new Uint8Array(view);
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += (n + 7) & ~7;
  out.set(view);
  return out;
}

/** The exact bytes of a located TLV (a view, not a copy). */
export function tlvBytes(bytes: Uint8Array, t: Tlv): Uint8Array {
  return bytes.subarray(t.start, t.end);
}

/**
 * Scans `bytes` and parses them into an `@peculiar/asn1-schema` type. Any failure of the schema parser is
 * reported as PKI_ASN1_INVALID.
 */
export function parseDer<T>(bytes: Uint8Array, type: new () => T, limits: DerLimits = {}): T {
  scanDer(bytes, limits);
  try {
    return AsnConvert.parse(bytes, type);
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', `not a valid ${type.name}: ${(e as Error).message}`, { cause: e });
  }
}

/** Decodes PEM (any label, or the expected one) to DER; passes DER through. */
export function fromPem(input: Uint8Array | string, label?: string): Uint8Array {
  if (typeof input !== 'string') {
    if (input[0] === 0x2d /* '-' */) return fromPem(new TextDecoder().decode(input), label);
    return input;
  }
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(input);
  if (!m) throw new PkiError('PKI_ASN1_INVALID', 'no PEM block found');
  if (label !== undefined && m[1] !== label) {
    throw new PkiError('PKI_ASN1_INVALID', `expected PEM label ${label}, found ${m[1] ?? ''}`);
  }
  const body = (m[2] ?? '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new PkiError('PKI_ASN1_INVALID', 'PEM body is not base64');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
