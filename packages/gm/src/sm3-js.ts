/**
 * SM3 cryptographic hash (GB/T 32905-2016) in pure TypeScript: browser-safe, no Node built-ins.
 * The Node entry uses `node/sm3.ts` instead (the native addon's C SM3, OpenSSL as the fallback); all give
 * identical results.
 *
 * GB/T 32905 §5.3: the message is padded with 1, zeros and its 64-bit bit length to a multiple of 512 bits,
 * then V(i+1) = CF(V(i), B(i)) from V(0) = IV. Message expansion (§5.3.2):
 *   W[j]  = P1(W[j-16] ⊕ W[j-9] ⊕ (W[j-3] <<< 15)) ⊕ (W[j-13] <<< 7) ⊕ W[j-6]   (16 ≤ j ≤ 67)
 *   W'[j] = W[j] ⊕ W[j+4]                                                      (0 ≤ j ≤ 63)
 * Compression function CF (§5.3.3), for j = 0 … 63:
 *   SS1 = ((A <<< 12) + E + (T[j] <<< (j mod 32))) <<< 7;   SS2 = SS1 ⊕ (A <<< 12)
 *   TT1 = FF[j](A, B, C) + D + SS2 + W'[j];                 TT2 = GG[j](E, F, G) + H + SS1 + W[j]
 *   D = C; C = B <<< 9; B = A; A = TT1; H = G; G = F <<< 19; F = E; E = P0(TT2)
 * and V(i+1) = ABCDEFGH ⊕ V(i).
 */
import { toBytes } from './bytes.js';
import { GmError } from './errors.js';
import type { Hasher } from './sm2/hash.js';

/**
 * A streaming SM3 (or HMAC-SM3) computation. Strings are hashed as their UTF-8 encoding. `digest()` ends the
 * computation: calling `update` or `digest` afterwards throws `GM_INVALID_ARGUMENT`.
 */
export interface Sm3Hasher extends Hasher {
  update(data: Uint8Array | string): Sm3Hasher;
  digest(): Uint8Array;
}

/** SM3 digest length in bytes. */
export const SM3_DIGEST_LENGTH = 32;
/** SM3 block length in bytes (the HMAC block size B). */
export const SM3_BLOCK_LENGTH = 64;

/** §4.1 initial value IV. */
const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];

/** §4.2 constants T[j], pre-rotated: TJ[j] = T[j] <<< (j mod 32). */
const TJ = new Int32Array(64);
for (let j = 0; j < 64; j++) {
  const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
  const r = j % 32;
  TJ[j] = r === 0 ? t : (t << r) | (t >>> (32 - r));
}

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** CF(V, B): compresses the 64-byte block at `data[off]` into `v`, using `w` (68 words) as scratch. */
function compress(v: Int32Array, w: Int32Array, data: Uint8Array, off: number): void {
  for (let j = 0; j < 16; j++, off += 4) {
    w[j] = (data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!;
  }
  for (let j = 16; j < 68; j++) {
    const x = w[j - 16]! ^ w[j - 9]! ^ rotl(w[j - 3]!, 15);
    w[j] = x ^ rotl(x, 15) ^ rotl(x, 23) ^ rotl(w[j - 13]!, 7) ^ w[j - 6]!;
  }
  let a = v[0]!,
    b = v[1]!,
    c = v[2]!,
    d = v[3]!,
    e = v[4]!,
    f = v[5]!,
    g = v[6]!,
    h = v[7]!;
  // FF/GG are XOR for j < 16, majority / choice after (§4.3): two loops instead of a test per round.
  for (let j = 0; j < 16; j++) {
    const a12 = rotl(a, 12);
    const ss1 = rotl((a12 + e + TJ[j]!) | 0, 7);
    const wj = w[j]!;
    const tt1 = ((a ^ b ^ c) + d + (ss1 ^ a12) + (wj ^ w[j + 4]!)) | 0;
    const tt2 = ((e ^ f ^ g) + h + ss1 + wj) | 0;
    d = c;
    c = rotl(b, 9);
    b = a;
    a = tt1;
    h = g;
    g = rotl(f, 19);
    f = e;
    e = tt2 ^ rotl(tt2, 9) ^ rotl(tt2, 17);
  }
  for (let j = 16; j < 64; j++) {
    const a12 = rotl(a, 12);
    const ss1 = rotl((a12 + e + TJ[j]!) | 0, 7);
    const wj = w[j]!;
    const tt1 = (((a & b) | (a & c) | (b & c)) + d + (ss1 ^ a12) + (wj ^ w[j + 4]!)) | 0;
    const tt2 = (((e & f) | (~e & g)) + h + ss1 + wj) | 0;
    d = c;
    c = rotl(b, 9);
    b = a;
    a = tt1;
    h = g;
    g = rotl(f, 19);
    f = e;
    e = tt2 ^ rotl(tt2, 9) ^ rotl(tt2, 17);
  }
  v[0]! ^= a;
  v[1]! ^= b;
  v[2]! ^= c;
  v[3]! ^= d;
  v[4]! ^= e;
  v[5]! ^= f;
  v[6]! ^= g;
  v[7]! ^= h;
}

class Sm3 implements Sm3Hasher {
  private readonly v = Int32Array.from(IV);
  private readonly w = new Int32Array(68);
  private readonly buf = new Uint8Array(SM3_BLOCK_LENGTH);
  private bufLen = 0;
  /** Total bytes hashed (exact up to 2^53). */
  private total = 0;
  private finished = false;

  update(data: Uint8Array | string): this {
    if (this.finished) throw new GmError('GM_INVALID_ARGUMENT', 'SM3: update() after digest()');
    const d = toBytes(data);
    const n = d.length;
    this.total += n;
    let off = 0;
    if (this.bufLen > 0) {
      off = Math.min(SM3_BLOCK_LENGTH - this.bufLen, n);
      this.buf.set(d.subarray(0, off), this.bufLen);
      this.bufLen += off;
      if (this.bufLen < SM3_BLOCK_LENGTH) return this;
      compress(this.v, this.w, this.buf, 0);
      this.bufLen = 0;
    }
    for (; n - off >= SM3_BLOCK_LENGTH; off += SM3_BLOCK_LENGTH) compress(this.v, this.w, d, off);
    if (off < n) {
      this.buf.set(d.subarray(off), 0);
      this.bufLen = n - off;
    }
    return this;
  }

  digest(): Uint8Array {
    if (this.finished) throw new GmError('GM_INVALID_ARGUMENT', 'SM3: digest() called twice');
    this.finished = true;
    const { buf, v } = this;
    // §5.2 padding: 0x80, zeros to 56 mod 64, then the bit length as a 64-bit big-endian integer.
    buf[this.bufLen++] = 0x80;
    if (this.bufLen > 56) {
      buf.fill(0, this.bufLen);
      compress(v, this.w, buf, 0);
      this.bufLen = 0;
    }
    buf.fill(0, this.bufLen, 56);
    const hi = Math.floor(this.total / 0x20000000);
    const lo = (this.total * 8) >>> 0;
    writeU32(buf, 56, hi);
    writeU32(buf, 60, lo);
    compress(v, this.w, buf, 0);
    const out = new Uint8Array(SM3_DIGEST_LENGTH);
    for (let i = 0; i < 8; i++) writeU32(out, i * 4, v[i]!);
    buf.fill(0);
    this.w.fill(0);
    return out;
  }
}

function writeU32(b: Uint8Array, off: number, x: number): void {
  b[off] = x >>> 24;
  b[off + 1] = x >>> 16;
  b[off + 2] = x >>> 8;
  b[off + 3] = x;
}

/** A new streaming SM3 computation (pure TypeScript). */
export function createSm3(): Sm3Hasher {
  return new Sm3();
}

/** SM3 of `data` (a string is hashed as UTF-8), 32 bytes. */
export function sm3(data: Uint8Array | string): Uint8Array {
  return new Sm3().update(data).digest();
}
