/**
 * HMAC (RFC 2104, GB/T 15852.2) over any hash with a 64-byte block, such as SM3. Pure TypeScript.
 *
 *   HMAC(K, m) = H((K0 ⊕ opad) ‖ H((K0 ⊕ ipad) ‖ m))
 *
 * where K0 is K right-padded with zeros to B = 64 bytes, or H(K) padded so when K is longer than B;
 * ipad = 0x36 repeated B times, opad = 0x5c repeated B times.
 */
import { toBytes, wipe } from './bytes.js';
import { GmError } from './errors.js';
import type { HashFactory, Hasher } from './sm2/hash.js';

const BLOCK = 64;

/** A streaming HMAC; `digest()` ends it (a later `update` or `digest` throws `GM_INVALID_ARGUMENT`). */
export class Hmac {
  private readonly inner: Hasher;
  private readonly outerKey: Uint8Array;
  private finished = false;

  constructor(
    private readonly hash: HashFactory,
    key: Uint8Array,
  ) {
    if (!(key instanceof Uint8Array))
      throw new GmError('GM_INVALID_ARGUMENT', 'HMAC key must be a Uint8Array');
    const k0 = new Uint8Array(BLOCK);
    k0.set(key.length > BLOCK ? hash().update(key).digest() : key);
    const pad = new Uint8Array(BLOCK);
    for (let i = 0; i < BLOCK; i++) pad[i] = k0[i]! ^ 0x36;
    this.inner = hash().update(pad);
    for (let i = 0; i < BLOCK; i++) pad[i] = k0[i]! ^ 0x5c;
    this.outerKey = pad;
    wipe(k0);
  }

  update(data: Uint8Array | string): this {
    if (this.finished) throw new GmError('GM_INVALID_ARGUMENT', 'HMAC: update() after digest()');
    this.inner.update(toBytes(data));
    return this;
  }

  digest(): Uint8Array {
    if (this.finished) throw new GmError('GM_INVALID_ARGUMENT', 'HMAC: digest() called twice');
    this.finished = true;
    const mac = this.hash().update(this.outerKey).update(this.inner.digest()).digest();
    wipe(this.outerKey);
    return mac;
  }
}
