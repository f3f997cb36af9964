/** HMAC-SM3 in pure TypeScript (the browser entry's). `node/hmac-sm3.ts` is the same API over OpenSSL. */
import { Hmac } from './hmac.js';
import { createSm3, type Sm3Hasher } from './sm3-js.js';

/** A new streaming HMAC-SM3 under `key` (any length; keys longer than 64 bytes are hashed first). */
export function createHmacSm3(key: Uint8Array): Sm3Hasher {
  return new Hmac(createSm3, key);
}

/** HMAC-SM3 of `data` (a string is taken as UTF-8) under `key`, 32 bytes. */
export function hmacSm3(key: Uint8Array, data: Uint8Array | string): Uint8Array {
  return new Hmac(createSm3, key).update(data).digest();
}
