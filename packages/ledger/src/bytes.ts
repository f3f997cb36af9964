/** Small byte helpers shared by the verifier and the checkpoint code (no Node built-ins). */
import { LedgerError, type LedgerErrorCode } from './errors.js';

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Throws `code` unless `value` is a Uint8Array of exactly `size` bytes. */
export function expectHash(value: unknown, size: number, what: string, code: LedgerErrorCode): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new LedgerError(code, `${what} is not a byte array`);
  }
  if (value.length !== size) {
    throw new LedgerError(code, `${what} is ${value.length} bytes, want ${size}`, {
      context: { length: value.length },
    });
  }
  return value;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map<string, number>(Array.from({ length: B64.length }, (_, i) => [B64.charAt(i), i]));

/** Standard base64 (RFC 4648 §4) with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    const n = (b0 << 16) | ((b1 ?? 0) << 8) | (b2 ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += b1 === undefined ? '=' : B64[(n >> 6) & 63]!;
    out += b2 === undefined ? '=' : B64[n & 63]!;
  }
  return out;
}

/**
 * Strict standard base64: only the RFC 4648 §4 alphabet, padding required, no whitespace, and canonical (the
 * unused bits of the last symbol are zero), so every byte string has exactly one accepted encoding.
 * Returns `undefined` for anything else.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text[i + j]!;
      let v: number | undefined;
      if (c === '=' && last && j >= 4 - pad) v = 0;
      else v = B64_INDEX.get(c);
      if (v === undefined) return undefined;
      n = (n << 6) | v;
    }
    const bytes = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    const take = last ? 3 - pad : 3;
    if (last && pad > 0 && (n & (pad === 2 ? 0xffff : 0xff)) !== 0) return undefined;
    for (let k = 0; k < take; k++) out[o++] = bytes[k]!;
  }
  return out;
}
