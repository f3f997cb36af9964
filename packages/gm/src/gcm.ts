/**
 * Galois/Counter Mode (NIST SP 800-38D) over any 16-byte block cipher, in pure TypeScript. With SM4 it is the
 * SM4-GCM of RFC 8998 and GB/T 36624. Algorithms 4 and 5 (§7.1, §7.2):
 *
 *   H  = E(K, 0^128)
 *   J0 = IV ‖ 0^31 ‖ 1                                   if len(IV) = 96
 *      = GHASH_H(IV ‖ 0^(s+64) ‖ [len(IV)]64)            otherwise (s pads IV to whole blocks)
 *   C  = GCTR_K(inc32(J0), P)
 *   S  = GHASH_H(A ‖ 0^v ‖ C ‖ 0^u ‖ [len(A)]64 ‖ [len(C)]64)
 *   T  = MSB_t(GCTR_K(J0, S))
 *
 * GHASH multiplies by H in GF(2^128) (x^128 + x^7 + x^2 + x + 1, bit-reflected) with Shoup's 8-bit tables on
 * 32-bit words: M[b] = b·H for every byte value b (4 KiB per key), and R[r] folding back the 8 bits shifted out at
 * each step. The tables are indexed by secret-dependent bytes, as in every table-driven GHASH: this code is not
 * hardened against cache-timing observers sharing the CPU.
 *
 * Decryption recomputes the tag over the ciphertext first and compares it in constant time; on mismatch it
 * throws GM_DECRYPT_FAILED and no plaintext is produced.
 */
import { constantTimeEqual } from './bytes.js';
import { GmError } from './errors.js';

/** The forward direction of a 16-byte block cipher under one key, plus an optional bulk CTR (e.g. OpenSSL's). */
export interface GcmBlockCipher {
  /** E(K, ·) on the 16 bytes at src[srcOff], written to dst[dstOff]. */
  encryptBlock(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void;
  /**
   * Optional: data ⊕ E(K, cb) ‖ E(K, cb + 1) ‖ … with the whole 128-bit block as a big-endian counter (SP 800-38A
   * CTR, as `openssl enc -*-ctr`). GCM increments only the low 32 bits (inc32); this module splits the input where
   * those bits would wrap, so a full-width counter gives the same result.
   */
  ctr?(counterBlock: Uint8Array, data: Uint8Array): Uint8Array;
}

export interface GcmResult {
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

export const GCM_MIN_TAG_LENGTH = 12;
export const GCM_MAX_TAG_LENGTH = 16;
/** SP 800-38D §5.2.1.1: len(P) ≤ 2^39 − 256 bits. */
const MAX_PLAINTEXT = 2 ** 36 - 32;

const EMPTY = new Uint8Array(0);

/** R[r]: r (the low byte of the last word) multiplied by x^8 and reduced, as the value XORed into the first word. */
const R8 = new Int32Array(256);
for (let r = 0; r < 256; r++) {
  let w0 = 0,
    w3 = r;
  for (let i = 0; i < 8; i++) {
    const lsb = w3 & 1;
    w3 >>>= 1;
    w0 = (w0 >>> 1) ^ (lsb ? 0xe1000000 : 0);
  }
  R8[r] = w0;
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

function writeU32(b: Uint8Array, o: number, x: number): void {
  b[o] = x >>> 24;
  b[o + 1] = x >>> 16;
  b[o + 2] = x >>> 8;
  b[o + 3] = x;
}

/** M[b] = b·H for b = 0 … 255, four words per entry; byte b is the element whose first byte is b. */
function shoupTable(h: Uint8Array): Int32Array {
  const m = new Int32Array(256 * 4);
  let w0 = readU32(h, 0),
    w1 = readU32(h, 4),
    w2 = readU32(h, 8),
    w3 = readU32(h, 12);
  // M[0x80] = H, M[0x40] = H·x, …, M[0x01] = H·x^7 (multiplying by x is a right shift in GCM's bit order).
  for (let b = 0x80; b > 0; b >>>= 1) {
    m[4 * b] = w0;
    m[4 * b + 1] = w1;
    m[4 * b + 2] = w2;
    m[4 * b + 3] = w3;
    const lsb = w3 & 1;
    w3 = (w3 >>> 1) | (w2 << 31);
    w2 = (w2 >>> 1) | (w1 << 31);
    w1 = (w1 >>> 1) | (w0 << 31);
    w0 = (w0 >>> 1) ^ (lsb ? 0xe1000000 : 0);
  }
  for (let i = 2; i < 256; i <<= 1) {
    for (let j = 1; j < i; j++) {
      for (let k = 0; k < 4; k++) m[4 * (i + j) + k] = m[4 * i + k]! ^ m[4 * j + k]!;
    }
  }
  return m;
}

/** GHASH state: Y (four words) and the key's table; `reset` starts a new hash, so one instance serves a key. */
class Ghash {
  private readonly y = new Int32Array(4);
  private readonly block = new Uint8Array(16);

  constructor(private readonly m: Int32Array) {}

  reset(): this {
    this.y.fill(0);
    return this;
  }

  /** Y = (Y ⊕ X)·H for the 16 bytes at data[o]. */
  private absorb(data: Uint8Array, o: number): void {
    const { y, m } = this;
    y[0]! ^= readU32(data, o);
    y[1]! ^= readU32(data, o + 4);
    y[2]! ^= readU32(data, o + 8);
    y[3]! ^= readU32(data, o + 12);
    let z0 = 0,
      z1 = 0,
      z2 = 0,
      z3 = 0;
    // Horner over the bytes, last (byte 15, the low byte of y[3]) first: Z = Z·x^8 ⊕ M[byte].
    for (let k = 3; k >= 0; k--) {
      const w = y[k]!;
      for (let s = 0; s < 32; s += 8) {
        const r = z3 & 0xff;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ R8[r]!;
        const i = ((w >>> s) & 0xff) << 2;
        z0 ^= m[i]!;
        z1 ^= m[i + 1]!;
        z2 ^= m[i + 2]!;
        z3 ^= m[i + 3]!;
      }
    }
    y[0] = z0;
    y[1] = z1;
    y[2] = z2;
    y[3] = z3;
  }

  /** Absorbs `data` zero-padded to whole blocks. */
  update(data: Uint8Array): this {
    const whole = data.length - (data.length % 16);
    for (let o = 0; o < whole; o += 16) this.absorb(data, o);
    if (whole < data.length) {
      this.block.fill(0);
      this.block.set(data.subarray(whole));
      this.absorb(this.block, 0);
    }
    return this;
  }

  /** Absorbs [a·8]64 ‖ [b·8]64 (two byte lengths as bit lengths) and writes Y to the 16 bytes of `out`. */
  finish(aBytes: number, bBytes: number, out: Uint8Array): void {
    const b = this.block;
    writeU32(b, 0, Math.floor(aBytes / 0x20000000));
    writeU32(b, 4, (aBytes * 8) >>> 0);
    writeU32(b, 8, Math.floor(bBytes / 0x20000000));
    writeU32(b, 12, (bBytes * 8) >>> 0);
    this.absorb(b, 0);
    for (let i = 0; i < 4; i++) writeU32(out, 4 * i, this.y[i]!);
  }
}

/**
 * GCM under one key: H and the GHASH table are computed once, then any number of messages with distinct IVs.
 * The GHASH state and the J0 / tag / counter blocks are reused across calls (each call runs to completion
 * synchronously, so they never interleave); what a call returns is always freshly allocated.
 */
export class Gcm {
  private readonly ghash: Ghash;
  /** J0 of the current call. */
  private readonly j0Block = new Uint8Array(16);
  /** E(K, J0) ⊕ S of the current call. */
  private readonly tagBlock = new Uint8Array(16);
  /** GCTR's counter and keystream blocks. */
  private readonly counterBlock = new Uint8Array(16);
  private readonly keystream = new Uint8Array(16);

  constructor(private readonly cipher: GcmBlockCipher) {
    const h = new Uint8Array(16);
    cipher.encryptBlock(h, 0, h, 0);
    this.ghash = new Ghash(shoupTable(h));
    h.fill(0);
  }

  /**
   * Authenticated encryption (Algorithm 4). `iv`: at least 1 byte, 12 recommended (and needed for interoperability
   * with most implementations); `tagLength`: 12 … 16 bytes.
   * @throws GmError GM_INVALID_ARGUMENT on a bad IV, tag length or an over-long plaintext
   */
  encrypt(iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY, tagLength = 16): GcmResult {
    checkTagLength(tagLength);
    if (plaintext.length > MAX_PLAINTEXT) throw new GmError('GM_INVALID_ARGUMENT', 'GCM plaintext too long');
    this.j0(iv);
    const ciphertext = this.gctr(this.inc32J0(), plaintext);
    this.tag(aad, ciphertext);
    return { ciphertext, tag: this.tagBlock.slice(0, tagLength) };
  }

  /**
   * Authenticated decryption (Algorithm 5). The tag (12 … 16 bytes) is checked before any plaintext is computed.
   * @throws GmError GM_DECRYPT_FAILED if the tag does not match; GM_INVALID_ARGUMENT on a bad IV or tag length
   */
  decrypt(iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    checkTagLength(tag.length);
    if (ciphertext.length > MAX_PLAINTEXT)
      throw new GmError('GM_INVALID_ARGUMENT', 'GCM ciphertext too long');
    this.j0(iv);
    this.tag(aad, ciphertext);
    if (!constantTimeEqual(this.tagBlock.subarray(0, tag.length), tag))
      throw new GmError('GM_DECRYPT_FAILED', 'GCM authentication tag mismatch');
    return this.gctr(this.inc32J0(), ciphertext);
  }

  /** Sets j0Block to J0 for `iv`. */
  private j0(iv: Uint8Array): void {
    if (!(iv instanceof Uint8Array) || iv.length === 0) {
      throw new GmError('GM_INVALID_ARGUMENT', 'GCM IV must be a non-empty Uint8Array');
    }
    const j0 = this.j0Block;
    if (iv.length === 12) {
      j0.set(iv);
      j0[12] = 0;
      j0[13] = 0;
      j0[14] = 0;
      j0[15] = 1;
      return;
    }
    this.ghash.reset().update(iv).finish(0, iv.length, j0);
  }

  /** Sets tagBlock to MSB_128(GCTR(J0, S)) = E(K, J0) ⊕ S. */
  private tag(aad: Uint8Array, ciphertext: Uint8Array): void {
    const t = this.tagBlock;
    const s = this.keystream;
    this.ghash.reset().update(aad).update(ciphertext).finish(aad.length, ciphertext.length, s);
    this.cipher.encryptBlock(this.j0Block, 0, t, 0);
    for (let i = 0; i < 16; i++) t[i]! ^= s[i]!;
  }

  /** Sets counterBlock to inc32(J0) and returns it. */
  private inc32J0(): Uint8Array {
    const cb = this.counterBlock;
    cb.set(this.j0Block);
    writeU32(cb, 12, readU32(cb, 12) + 1);
    return cb;
  }

  /** GCTR_K(icb, data) with inc32 counter steps (icb is copied to counterBlock unless it is that block). */
  private gctr(icb: Uint8Array, data: Uint8Array): Uint8Array {
    const n = data.length;
    const { cipher } = this;
    const cb = this.counterBlock;
    if (icb !== cb) cb.set(icb);
    if (cipher.ctr) {
      // Blocks available before the low 32 bits wrap; past that point inc32 continues from …‖00000000.
      const untilWrap = 2 ** 32 - (readU32(cb, 12) >>> 0);
      if (n <= untilWrap * 16) return cipher.ctr(cb, data);
      const first = untilWrap * 16;
      const out = new Uint8Array(n);
      out.set(cipher.ctr(cb, data.subarray(0, first)));
      const wrapped = cb.slice();
      writeU32(wrapped, 12, 0);
      out.set(cipher.ctr(wrapped, data.subarray(first)), first);
      return out;
    }
    const out = new Uint8Array(n);
    const ks = this.keystream;
    for (let o = 0; o < n; o += 16) {
      cipher.encryptBlock(cb, 0, ks, 0);
      const len = Math.min(16, n - o);
      for (let i = 0; i < len; i++) out[o + i] = data[o + i]! ^ ks[i]!;
      writeU32(cb, 12, readU32(cb, 12) + 1);
    }
    return out;
  }
}

function checkTagLength(n: number): void {
  if (!Number.isInteger(n) || n < GCM_MIN_TAG_LENGTH || n > GCM_MAX_TAG_LENGTH) {
    throw new GmError(
      'GM_INVALID_ARGUMENT',
      `GCM tag length must be ${GCM_MIN_TAG_LENGTH} to ${GCM_MAX_TAG_LENGTH} bytes`,
    );
  }
}
