/**
 * Confidentiality modes of GB/T 17964-2021 / NIST SP 800-38A over any 16-byte block cipher, and PKCS#7 padding
 * (RFC 5652 §6.3). Pure TypeScript. Byte-for-byte what `openssl enc -sm4-ecb|-sm4-cbc|-sm4-ctr` produces:
 *   ECB  C[i] = E(P[i])
 *   CBC  C[i] = E(P[i] ⊕ C[i-1]),  C[-1] = IV
 *   CTR  C[i] = P[i] ⊕ E(IV + i)  (the whole 128-bit block is a big-endian counter; the last block may be partial)
 */
import { GmError } from './errors.js';

export const BLOCK_SIZE = 16;

/** A 16-byte block cipher with an expanded key. Each call reads 16 bytes at src[srcOff] and writes dst[dstOff]. */
export interface BlockCipher {
  encryptBlock(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void;
  decryptBlock(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void;
}

/** The PKCS#7 padding block for a message of `length` bytes: n bytes of value n, 1 ≤ n ≤ 16. */
export function pkcs7Padding(length: number): Uint8Array {
  const n = BLOCK_SIZE - (length % BLOCK_SIZE);
  return new Uint8Array(n).fill(n);
}

export function pkcs7Pad(data: Uint8Array): Uint8Array {
  const pad = pkcs7Padding(data.length);
  const out = new Uint8Array(data.length + pad.length);
  out.set(data);
  out.set(pad, data.length);
  return out;
}

/**
 * Strips PKCS#7 padding. The last 16 bytes are all examined whatever the padding length claims, and validity is
 * accumulated without branching, so the time taken does not reveal which padding byte was wrong.
 * @throws GmError GM_INVALID_PADDING
 */
export function pkcs7Unpad(data: Uint8Array): Uint8Array {
  const len = data.length;
  if (len === 0 || len % BLOCK_SIZE !== 0)
    throw new GmError('GM_INVALID_PADDING', 'padded data is not whole blocks');
  const n = data[len - 1]!;
  // bad = 1 if n == 0 or n > 16.
  let bad = ((n - 1) >>> 31) | ((BLOCK_SIZE - n) >>> 31);
  for (let i = 1; i <= BLOCK_SIZE; i++) {
    const inPad = ((i - n - 1) >>> 31) & 1; // 1 iff i ≤ n
    const diff = data[len - i]! ^ n;
    bad |= inPad & ((diff | -diff) >>> 31);
  }
  if (bad !== 0) throw new GmError('GM_INVALID_PADDING', 'invalid PKCS#7 padding');
  return data.subarray(0, len - n);
}

function requireBlocks(data: Uint8Array): void {
  if (data.length % BLOCK_SIZE !== 0) {
    throw new GmError('GM_INVALID_ARGUMENT', 'data length must be a multiple of 16 bytes without padding');
  }
}

export function ecbEncrypt(cipher: BlockCipher, data: Uint8Array): Uint8Array {
  requireBlocks(data);
  const out = new Uint8Array(data.length);
  for (let o = 0; o < data.length; o += BLOCK_SIZE) cipher.encryptBlock(data, o, out, o);
  return out;
}

export function ecbDecrypt(cipher: BlockCipher, data: Uint8Array): Uint8Array {
  requireBlocks(data);
  const out = new Uint8Array(data.length);
  for (let o = 0; o < data.length; o += BLOCK_SIZE) cipher.decryptBlock(data, o, out, o);
  return out;
}

export function cbcEncrypt(cipher: BlockCipher, iv: Uint8Array, data: Uint8Array): Uint8Array {
  requireBlocks(data);
  const out = new Uint8Array(data.length);
  let prev = iv;
  let prevOff = 0;
  for (let o = 0; o < data.length; o += BLOCK_SIZE) {
    for (let i = 0; i < BLOCK_SIZE; i++) out[o + i] = data[o + i]! ^ prev[prevOff + i]!;
    cipher.encryptBlock(out, o, out, o);
    prev = out;
    prevOff = o;
  }
  return out;
}

export function cbcDecrypt(cipher: BlockCipher, iv: Uint8Array, data: Uint8Array): Uint8Array {
  requireBlocks(data);
  const out = new Uint8Array(data.length);
  for (let o = 0; o < data.length; o += BLOCK_SIZE) {
    cipher.decryptBlock(data, o, out, o);
    const prev = o === 0 ? iv : data;
    const p = o === 0 ? 0 : o - BLOCK_SIZE;
    for (let i = 0; i < BLOCK_SIZE; i++) out[o + i]! ^= prev[p + i]!;
  }
  return out;
}

/** CTR: encryption and decryption are the same operation. The counter block wraps modulo 2^128. */
export function ctrCrypt(cipher: BlockCipher, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  const counter = Uint8Array.from(iv);
  const ks = new Uint8Array(BLOCK_SIZE);
  for (let o = 0; o < data.length; o += BLOCK_SIZE) {
    cipher.encryptBlock(counter, 0, ks, 0);
    const n = Math.min(BLOCK_SIZE, data.length - o);
    for (let i = 0; i < n; i++) out[o + i] = data[o + i]! ^ ks[i]!;
    for (let i = BLOCK_SIZE - 1; i >= 0; i--) {
      const c = (counter[i]! + 1) & 0xff;
      counter[i] = c;
      if (c !== 0) break;
    }
  }
  return out;
}
