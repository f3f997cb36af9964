/** Deterministic pseudo-random test data (xorshift32: reproducible, not cryptographic). Tests only. */
export interface Seeded {
  bytes(n: number): Uint8Array;
  /** An integer in [0, max). */
  int(max: number): number;
}

export function seeded(seed: number): Seeded {
  let s = seed | 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  return {
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
    int: (max) => next() % max,
  };
}
