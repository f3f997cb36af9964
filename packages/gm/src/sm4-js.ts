/**
 * SM4 block cipher (GB/T 32907-2016) in pure TypeScript: 128-bit block, 128-bit key, 32 rounds.
 *
 * Round function (§6.1), for i = 0 … 31:
 *   X[i+4] = F(X[i], X[i+1], X[i+2], X[i+3], rk[i]) = X[i] ⊕ T(X[i+1] ⊕ X[i+2] ⊕ X[i+3] ⊕ rk[i])
 *   T(·) = L(τ(·)),  τ = the S-box on each byte,  L(B) = B ⊕ (B <<< 2) ⊕ (B <<< 10) ⊕ (B <<< 18) ⊕ (B <<< 24)
 * and the output is R(X[32], X[33], X[34], X[35]) = (X[35], X[34], X[33], X[32]) (§6.2).
 * Key schedule (§7.3): K[0..3] = MK ⊕ FK, rk[i] = K[i+4] = K[i] ⊕ T'(K[i+1] ⊕ K[i+2] ⊕ K[i+3] ⊕ CK[i]),
 * where T' uses L'(B) = B ⊕ (B <<< 13) ⊕ (B <<< 23). Decryption uses the round keys in reverse order (§6.3).
 *
 * T is computed with four 256-entry tables (τ and L combined, one per byte position).
 */
import type { BlockCipher } from './cipher-modes.js';
import { GmError } from './errors.js';

/** §6.2 S-box. */
// prettier-ignore
const SBOX = new Uint8Array([
  0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
  0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
  0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
  0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
  0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
  0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
  0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
  0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
  0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
  0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
  0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
  0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
  0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
  0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
  0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
  0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
]);

/** §7.3 system parameter FK. */
const FK = [0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc];

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** T tables: T0[a] = L(S[a] << 24); Tk is T0 rotated right by 8k bits (L commutes with rotation). */
const T0 = new Int32Array(256);
const T1 = new Int32Array(256);
const T2 = new Int32Array(256);
const T3 = new Int32Array(256);
for (let a = 0; a < 256; a++) {
  const b = SBOX[a]! << 24;
  const t = b ^ rotl(b, 2) ^ rotl(b, 10) ^ rotl(b, 18) ^ rotl(b, 24);
  T0[a] = t;
  T1[a] = rotl(t, 24);
  T2[a] = rotl(t, 16);
  T3[a] = rotl(t, 8);
}

/** τ then L' (key schedule only). */
function tPrime(x: number): number {
  const b =
    (SBOX[x >>> 24]! << 24) |
    (SBOX[(x >>> 16) & 0xff]! << 16) |
    (SBOX[(x >>> 8) & 0xff]! << 8) |
    SBOX[x & 0xff]!;
  return b ^ rotl(b, 13) ^ rotl(b, 23);
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

/** 32 rounds with the round keys `rk` on the block at src[so], written to dst[do] (may be the same place). */
function crypt(rk: Int32Array, src: Uint8Array, so: number, dst: Uint8Array, dOff: number): void {
  let x0 = readU32(src, so),
    x1 = readU32(src, so + 4),
    x2 = readU32(src, so + 8),
    x3 = readU32(src, so + 12);
  for (let i = 0; i < 32; i += 4) {
    let t = x1 ^ x2 ^ x3 ^ rk[i]!;
    x0 ^= T0[t >>> 24]! ^ T1[(t >>> 16) & 0xff]! ^ T2[(t >>> 8) & 0xff]! ^ T3[t & 0xff]!;
    t = x2 ^ x3 ^ x0 ^ rk[i + 1]!;
    x1 ^= T0[t >>> 24]! ^ T1[(t >>> 16) & 0xff]! ^ T2[(t >>> 8) & 0xff]! ^ T3[t & 0xff]!;
    t = x3 ^ x0 ^ x1 ^ rk[i + 2]!;
    x2 ^= T0[t >>> 24]! ^ T1[(t >>> 16) & 0xff]! ^ T2[(t >>> 8) & 0xff]! ^ T3[t & 0xff]!;
    t = x0 ^ x1 ^ x2 ^ rk[i + 3]!;
    x3 ^= T0[t >>> 24]! ^ T1[(t >>> 16) & 0xff]! ^ T2[(t >>> 8) & 0xff]! ^ T3[t & 0xff]!;
  }
  writeU32(dst, dOff, x3);
  writeU32(dst, dOff + 4, x2);
  writeU32(dst, dOff + 8, x1);
  writeU32(dst, dOff + 12, x0);
}

/** SM4 with one key: the round keys are expanded once. */
export class Sm4 implements BlockCipher {
  private readonly rkEnc = new Int32Array(32);
  private readonly rkDec = new Int32Array(32);

  /** @throws GmError GM_INVALID_ARGUMENT unless `key` is 16 bytes. */
  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.length !== 16) {
      throw new GmError('GM_INVALID_ARGUMENT', 'SM4 key must be 16 bytes');
    }
    let k0 = readU32(key, 0) ^ FK[0]!,
      k1 = readU32(key, 4) ^ FK[1]!,
      k2 = readU32(key, 8) ^ FK[2]!,
      k3 = readU32(key, 12) ^ FK[3]!;
    for (let i = 0; i < 32; i++) {
      // CK[i] bytes are (4i + j) · 7 mod 256, j = 0 … 3.
      const b = 28 * i;
      const ck =
        ((b & 0xff) << 24) | (((b + 7) & 0xff) << 16) | (((b + 14) & 0xff) << 8) | ((b + 21) & 0xff) | 0;
      const k = k0 ^ tPrime(k1 ^ k2 ^ k3 ^ ck);
      this.rkEnc[i] = k;
      this.rkDec[31 - i] = k;
      k0 = k1;
      k1 = k2;
      k2 = k3;
      k3 = k;
    }
  }

  encryptBlock(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    crypt(this.rkEnc, src, srcOff, dst, dstOff);
  }

  decryptBlock(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    crypt(this.rkDec, src, srcOff, dst, dstOff);
  }

  /** Overwrites the round keys (best effort). */
  wipe(): void {
    this.rkEnc.fill(0);
    this.rkDec.fill(0);
  }
}
