/**
 * A function of some bytes, kept by their exact bytes: the signer certificates and keys that come with every
 * record of a signer are parsed, imported or hashed once. Bounded: past `max` entries all are forgotten (a miss
 * only costs the work again).
 */

/** The bytes, one character each: an exact key, cheaper to build than base64 or hex. */
export const bytesKey = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** `fn` memoised by the exact bytes of its argument; `fn` must never return undefined. */
export function memoByBytes<V>(max: number, fn: (bytes: Uint8Array) => V): (bytes: Uint8Array) => V {
  const cache = new Map<string, V>();
  return (bytes) => {
    const k = bytesKey(bytes);
    let v = cache.get(k);
    if (v === undefined) {
      v = fn(bytes);
      if (cache.size >= max) cache.clear();
      cache.set(k, v);
    }
    return v;
  };
}
