/**
 * SM2 signature encodings.
 *
 * GM/T 0009-2012 clause 7.3:
 *   SM2Signature ::= SEQUENCE { R INTEGER, S INTEGER }
 * and the raw form r ‖ s, each 32 bytes big-endian. Parsing is strict: DER only (minimal integers, no trailing
 * bytes), and r, s ∈ [1, n-1] (GB/T 32918.2 clause 7.1 B1, B2) — anything else is GM_INVALID_SIGNATURE_ENCODING.
 */
import { bigIntToBytes, bytesToBigInt, concat } from '../bytes.js';
import { TAG, children, decodeUnsignedInteger, expectTag, integer, readOnly, sequence } from '../der.js';
import { GmError } from '../errors.js';
import { N } from './curve.js';

export type SignatureFormat = 'der' | 'raw';

function bad(msg: string, cause?: unknown): never {
  throw new GmError('GM_INVALID_SIGNATURE_ENCODING', msg, cause === undefined ? undefined : { cause });
}

function checkRange(r: bigint, s: bigint): void {
  if (r < 1n || r >= N) bad('r is outside [1, n-1]');
  if (s < 1n || s >= N) bad('s is outside [1, n-1]');
}

/** n, big-endian, for the range check on bytes. */
const N_BYTES = bigIntToBytes(N, 32);

/** 1 ≤ v < n for the 32 big-endian bytes of `b` at `at`. */
function inRangeAt(b: Uint8Array, at: number): boolean {
  let nonZero = 0;
  for (let i = 0; i < 32; i++) nonZero |= b[at + i]!;
  if (nonZero === 0) return false;
  for (let i = 0; i < 32; i++) {
    const d = b[at + i]! - N_BYTES[i]!;
    if (d !== 0) return d < 0;
  }
  return false;
}

/**
 * The content of a DER INTEGER (`len` bytes at `from`) right-aligned into 32 bytes of `out` at `at`: false unless
 * it is minimal, non-negative and fits (then the strict path decides).
 */
function copyInteger(der: Uint8Array, from: number, len: number, out: Uint8Array, at: number): boolean {
  const first = der[from]!;
  if (first & 0x80) return false;
  if (len > 1 && first === 0 && (der[from + 1]! & 0x80) === 0) return false;
  let start = from;
  let n = len;
  if (n === 33) {
    if (first !== 0) return false;
    start++;
    n--;
  }
  out.set(der.subarray(start, start + n), at + 32 - n);
  return true;
}

/**
 * The common shape, read in place: 30 L 02 lr r 02 ls s with short lengths and both values in range. Anything
 * else (undefined) goes to the strict path, which accepts or refuses it exactly as before.
 */
function derToRawFast(der: Uint8Array): Uint8Array | undefined {
  const n = der.length;
  if (n < 8 || n > 72 || der[0] !== 0x30 || der[1] !== n - 2 || der[2] !== 0x02) return undefined;
  const lr = der[3]!;
  const so = 4 + lr;
  if (lr < 1 || lr > 33 || so + 3 > n || der[so] !== 0x02) return undefined;
  const ls = der[so + 1]!;
  if (ls < 1 || ls > 33 || so + 2 + ls !== n) return undefined;
  const out = new Uint8Array(64);
  if (!copyInteger(der, 4, lr, out, 0) || !copyInteger(der, so + 2, ls, out, 32)) return undefined;
  if (!inRangeAt(out, 0) || !inRangeAt(out, 32)) return undefined;
  return out;
}

/** DER SM2Signature → 64-byte r ‖ s. */
export function derToRaw(der: Uint8Array): Uint8Array {
  const fast = derToRawFast(der);
  if (fast !== undefined) return fast;
  let r: bigint;
  let s: bigint;
  try {
    const f = children(readOnly(der, TAG.SEQUENCE));
    if (f.length !== 2) bad('SM2Signature has exactly two INTEGERs');
    r = decodeUnsignedInteger(expectTag(f[0], TAG.INTEGER, 'R'));
    s = decodeUnsignedInteger(expectTag(f[1], TAG.INTEGER, 'S'));
  } catch (e) {
    if (e instanceof GmError && e.code === 'GM_INVALID_SIGNATURE_ENCODING') throw e;
    bad(`not a DER SM2Signature: ${(e as Error).message}`, e);
  }
  checkRange(r, s);
  return concat(bigIntToBytes(r, 32), bigIntToBytes(s, 32));
}

/** The minimal DER INTEGER content of the 32 unsigned bytes of `raw` at `at`: leading zeros off, 00 if the top bit is set. */
function integerBytes(raw: Uint8Array, at: number): Uint8Array {
  let i = at;
  while (i < at + 31 && raw[i] === 0) i++;
  const v = raw.subarray(i, at + 32);
  if ((v[0]! & 0x80) === 0) return v;
  const out = new Uint8Array(v.length + 1);
  out.set(v, 1);
  return out;
}

/** 64-byte r ‖ s → DER SM2Signature. */
export function rawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 64 && inRangeAt(raw, 0) && inRangeAt(raw, 32)) {
    // In place: 30 L 02 lr r 02 ls s (at most 70 bytes, so every length is one byte).
    const r = integerBytes(raw, 0);
    const s = integerBytes(raw, 32);
    const out = new Uint8Array(6 + r.length + s.length);
    out[0] = 0x30;
    out[1] = 4 + r.length + s.length;
    out[2] = 0x02;
    out[3] = r.length;
    out.set(r, 4);
    out[4 + r.length] = 0x02;
    out[5 + r.length] = s.length;
    out.set(s, 6 + r.length);
    return out;
  }
  const { r, s } = splitRaw(raw);
  return sequence(integer(r), integer(s));
}

export function splitRaw(raw: Uint8Array): { r: bigint; s: bigint } {
  if (raw.length !== 64) bad('a raw SM2 signature is 64 bytes (r ‖ s)');
  const r = bytesToBigInt(raw.subarray(0, 32));
  const s = bytesToBigInt(raw.subarray(32));
  checkRange(r, s);
  return { r, s };
}

/** Normalises a signature of the given format to checked raw r ‖ s. */
export function toRawSignature(sig: Uint8Array, format: SignatureFormat): Uint8Array {
  if (format === 'der') return derToRaw(sig);
  if (sig.length !== 64 || !inRangeAt(sig, 0) || !inRangeAt(sig, 32)) splitRaw(sig); // throws the reason
  return sig;
}
