/**
 * The SM2 key derivation function, GB/T 32918.4-2016 clause 5.4.3:
 *   ct = 0x00000001; for i = 1 .. ⌈klen/v⌉: Ha_i = Hv(Z ‖ ct); ct++
 *   K = Ha_1 ‖ … ‖ Ha_⌈klen/v⌉, truncated to klen bits.
 */
import type { HashFactory } from './hash.js';

export function kdf(hash: HashFactory, z: Uint8Array, klen: number): Uint8Array {
  const out = new Uint8Array(klen);
  const ct = new Uint8Array(4);
  const view = new DataView(ct.buffer);
  for (let i = 0, counter = 1; i < klen; i += 32, counter++) {
    view.setUint32(0, counter);
    const block = hash().update(z).update(ct).digest();
    out.set(block.subarray(0, Math.min(32, klen - i)), i);
  }
  return out;
}
