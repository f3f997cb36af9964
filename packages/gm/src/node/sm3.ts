/**
 * SM3 (GB/T 32905) for the Node entry: the same API and results as `../sm3-js.ts`.
 * - One-shot over bytes: the native addon's C SM3 (`native/sm3.c`) when it is built and passes its
 *   known-answer check — one N-API call, no EVP context — measured at 1 KiB about 1.3 µs (20%) under the
 *   thinnest OpenSSL path on Node 20 (`crypto.hash` with a 'binary' digest decoded by hand, itself faster
 *   than `createHash` and `crypto.hash(…, 'buffer')`). That path stays for strings longer than
 *   {@link MAX_NATIVE_STRING_UNITS} (hashed as UTF-8 by OpenSSL, without a copy) and whenever the addon is
 *   missing; shorter strings are encoded into a reused buffer and hashed natively.
 * - Streaming: OpenSSL's Hash object.
 */
import * as crypto from 'node:crypto';
import { GmError } from '../errors.js';
import { loadNativeSm3 } from '../sm2/native-engine.js';
import type { Sm3Hasher } from '../sm3-js.js';

/** `crypto.hash` (Node ≥ 20.12 and 21.7); older runtimes fall back to createHash. */
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

function asBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function fromLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

class NodeSm3 implements Sm3Hasher {
  private readonly h = crypto.createHash('sm3');
  private finished = false;

  update(data: Uint8Array | string): this {
    if (this.finished) throw new GmError('GM_INVALID_ARGUMENT', 'SM3: update() after digest()');
    this.h.update(data);
    return this;
  }

  digest(): Uint8Array {
    if (this.finished) throw new GmError('GM_INVALID_ARGUMENT', 'SM3: digest() called twice');
    this.finished = true;
    return asBytes(this.h.digest());
  }
}

/** A new streaming SM3 computation (OpenSSL). */
export function createSm3(): Sm3Hasher {
  return new NodeSm3();
}

const opensslSm3: (data: Uint8Array | string) => Uint8Array = oneShot
  ? (data) => fromLatin1(oneShot('sm3', data, 'binary'))
  : (data) => asBytes(crypto.createHash('sm3').update(data).digest());

const native = loadNativeSm3().sm3;

/**
 * Strings of up to this many UTF-16 code units are hashed by the native SM3 from a reused UTF-8 buffer
 * (`TextEncoder#encodeInto`: at most 3 bytes a unit, lone surrogates as U+FFFD, as OpenSSL's path and `utf8()`
 * encode them), which at 1 KiB is about 0.9 µs under OpenSSL's; longer ones by OpenSSL, which needs no buffer.
 */
export const MAX_NATIVE_STRING_UNITS = 16 * 1024;
const encoder = new TextEncoder();
let scratch: Uint8Array | undefined;

function nativeOfString(hash: (b: Uint8Array) => Uint8Array, s: string): Uint8Array {
  if (s.length > MAX_NATIVE_STRING_UNITS) return opensslSm3(s);
  const buf = (scratch ??= new Uint8Array(MAX_NATIVE_STRING_UNITS * 3));
  const { written } = encoder.encodeInto(s, buf);
  try {
    return hash(buf.subarray(0, written));
  } finally {
    buf.fill(0, 0, written); // what was hashed (a token, say) is not left behind
  }
}

/** SM3 of `data` (a string is hashed as UTF-8), 32 bytes. */
export const sm3: (data: Uint8Array | string) => Uint8Array = native
  ? (data) => (typeof data === 'string' ? nativeOfString(native, data) : native(data))
  : opensslSm3;
