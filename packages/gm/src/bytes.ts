/** Byte helpers shared by every module of the package. Browser-safe: no Node imports. */
import { GmError } from './errors.js';

export type Bytes = Uint8Array;

const HEX = '0123456789abcdef';

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const v = b[i]!;
    s += HEX[v >> 4]! + HEX[v & 15]!;
  }
  return s;
}

/** Hex digit values by character code (either case); -1 for anything else. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE[HEX.charCodeAt(i)] = i;
  HEX_VALUE[HEX.toUpperCase().charCodeAt(i)] = i;
}

/** Strict hex decoding: even length, hex digits only (either case). */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new GmError('GM_INVALID_ARGUMENT', 'not a hex string of even length');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    // A code past the table reads as undefined, taken as -1: every non-hex character is refused.
    const hi = HEX_VALUE[hex.charCodeAt(2 * i)] ?? -1;
    const lo = HEX_VALUE[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) throw new GmError('GM_INVALID_ARGUMENT', 'not a hex string of even length');
    out[i] = (hi << 4) | lo;
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Accepts bytes or a string (encoded as UTF-8). */
export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? utf8(data) : data;
}

/** Constant-time equality (time depends only on the lengths). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function bytesToBigInt(b: Uint8Array): bigint {
  let hex = toHex(b);
  if (hex === '') hex = '0';
  return BigInt('0x' + hex);
}

/** Big-endian, left-padded to `len` bytes. Throws if the value does not fit. */
export function bigIntToBytes(v: bigint, len: number): Uint8Array {
  if (v < 0n) throw new GmError('GM_INVALID_ARGUMENT', 'negative integer');
  const hex = v.toString(16);
  if (hex.length > len * 2) throw new GmError('GM_INVALID_ARGUMENT', `integer does not fit in ${len} bytes`);
  return fromHex(hex.padStart(len * 2, '0'));
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // Web Crypto is present in Node >= 19 and every browser; getRandomValues takes at most 65536 bytes a call.
  for (let o = 0; o < n; o += 65536)
    globalThis.crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

/** Overwrite a secret buffer (best effort in a garbage-collected runtime). */
export function wipe(b: Uint8Array): void {
  b.fill(0);
}
