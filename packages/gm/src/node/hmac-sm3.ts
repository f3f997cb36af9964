/** HMAC-SM3 through Node's OpenSSL (`createHmac('sm3')`): the same API and results as `../hmac-sm3.ts`. */
import { createHmac } from 'node:crypto';
import { GmError } from '../errors.js';
import type { Sm3Hasher } from '../sm3-js.js';

function checkKey(key: unknown): Uint8Array {
  if (!(key instanceof Uint8Array)) throw new GmError('GM_INVALID_ARGUMENT', 'HMAC key must be a Uint8Array');
  return key;
}

class NodeHmacSm3 implements Sm3Hasher {
  private readonly h;
  private finished = false;

  constructor(key: Uint8Array) {
    this.h = createHmac('sm3', checkKey(key));
  }

  update(data: Uint8Array | string): this {
    if (this.finished) throw new GmError('GM_INVALID_ARGUMENT', 'HMAC: update() after digest()');
    this.h.update(data);
    return this;
  }

  digest(): Uint8Array {
    if (this.finished) throw new GmError('GM_INVALID_ARGUMENT', 'HMAC: digest() called twice');
    this.finished = true;
    const b = this.h.digest();
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
}

/** A new streaming HMAC-SM3 under `key` (any length; keys longer than 64 bytes are hashed first). */
export function createHmacSm3(key: Uint8Array): Sm3Hasher {
  return new NodeHmacSm3(key);
}

/** HMAC-SM3 of `data` (a string is taken as UTF-8) under `key`, 32 bytes. */
export function hmacSm3(key: Uint8Array, data: Uint8Array | string): Uint8Array {
  const b = createHmac('sm3', checkKey(key)).update(data).digest();
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
