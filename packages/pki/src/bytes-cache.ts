/**
 * A bounded cache keyed by exact bytes. Entries are found by a cheap fingerprint (the length and the last four
 * bytes: a signature or a public key for what is cached here) and confirmed by comparing all the bytes, so a
 * lookup costs no string building and no hashing of the whole input; two byte strings with one fingerprint
 * just take turns in one slot. The least recently used entry goes when full.
 */
export class BytesCache<V> {
  private readonly map = new Map<number, { readonly bytes: Uint8Array; readonly value: V }>();
  /** The fingerprint of the most recently used entry, already last in the map's order (-1: none). */
  private last = -1;
  constructor(private readonly max: number) {}

  private static fingerprint(b: Uint8Array): number {
    const n = b.length;
    const tail = n >= 4 ? ((b[n - 4]! << 24) | (b[n - 3]! << 16) | (b[n - 2]! << 8) | b[n - 1]!) >>> 0 : 0;
    return (n % 0x200000) * 0x100000000 + tail;
  }

  get(bytes: Uint8Array): V | undefined {
    const k = BytesCache.fingerprint(bytes);
    const e = this.map.get(k);
    if (e === undefined || Buffer.compare(e.bytes, bytes) !== 0) return undefined;
    if (k !== this.last) {
      this.map.delete(k);
      this.map.set(k, e);
      this.last = k;
    }
    return e.value;
  }

  /** Keeps `value` for a copy of `bytes`. */
  set(bytes: Uint8Array, value: V): void {
    if (this.max <= 0) return;
    const k = BytesCache.fingerprint(bytes);
    this.map.delete(k);
    this.map.set(k, { bytes: new Uint8Array(bytes), value });
    this.last = k;
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
      if (this.map.size === 0) this.last = -1;
    }
  }
}
