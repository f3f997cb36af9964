/**
 * Structure-aware mutations of DER/BER inputs for the fuzz targets, driven by a seeded PRNG so a run is
 * reproducible from its seed. Mutations: bit flips, interesting bytes, byte insertion and deletion, length
 * field tweaks (±1, zero, indefinite, oversized, non-minimal long form, 64 MiB), tag changes, truncation,
 * splicing a TLV from another input, duplication, and deep nesting (up to 10,000 levels).
 */

/** SplitMix64-seeded xorshift128+ — fast, deterministic, good enough to pick mutations. */
export class Prng {
  private s0: bigint;
  private s1: bigint;

  constructor(seed: number | bigint) {
    let z = BigInt.asUintN(64, BigInt(seed));
    const next = (): bigint => {
      z = BigInt.asUintN(64, z + 0x9e3779b97f4a7c15n);
      let x = z;
      x = BigInt.asUintN(64, (x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n);
      x = BigInt.asUintN(64, (x ^ (x >> 27n)) * 0x94d049bb133111ebn);
      return x ^ (x >> 31n);
    };
    this.s0 = next();
    this.s1 = next() | 1n;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  u32(): number {
    let s1 = this.s0;
    const s0 = this.s1;
    this.s0 = s0;
    s1 = BigInt.asUintN(64, s1 ^ (s1 << 23n));
    this.s1 = s1 ^ s0 ^ (s1 >> 17n) ^ (s0 >> 26n);
    return Number(BigInt.asUintN(64, this.s1 + s0) >> 32n);
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** A TLV header found by the lenient walk: where its length octets are and what it spans. */
export interface TlvSpan {
  readonly start: number;
  readonly lengthStart: number;
  readonly lengthEnd: number;
  readonly valueStart: number;
  readonly end: number;
  readonly constructed: boolean;
}

/**
 * Locates TLVs (definite lengths only) without ever throwing: stops descending where the bytes stop making
 * sense. At most `max` spans.
 */
export function tlvSpans(bytes: Uint8Array, max = 4096): TlvSpan[] {
  const out: TlvSpan[] = [];
  const walk = (from: number, to: number, depth: number): void => {
    let p = from;
    while (p < to && out.length < max && depth < 64) {
      const start = p;
      const tag = bytes[p++];
      if (tag === undefined) return;
      if ((tag & 0x1f) === 0x1f) {
        while (p < to && ((bytes[p] ?? 0) & 0x80) !== 0) p++;
        p++;
      }
      const lengthStart = p;
      const lb = bytes[p++];
      if (lb === undefined || p > to) return;
      let len = lb;
      if (lb >= 0x80) {
        const n = lb & 0x7f;
        if (n === 0 || n > 4 || p + n > to) return;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + (bytes[p++] ?? 0);
      }
      const valueStart = p;
      const end = valueStart + len;
      if (end > to) return;
      const constructed = (tag & 0x20) !== 0;
      out.push({ start, lengthStart, lengthEnd: valueStart, valueStart, end, constructed });
      if (constructed) walk(valueStart, end, depth + 1);
      p = end;
    }
  };
  walk(0, bytes.length, 0);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** DER length octets for `n`. */
function lengthOctets(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const b: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) b.unshift(x % 256);
  return Uint8Array.of(0x80 | b.length, ...b);
}

const INTERESTING = [
  0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x30, 0x31, 0xa0, 0x06, 0x02, 0x03, 0x04,
];

type Mutator = (input: Uint8Array, rng: Prng, corpus: readonly Uint8Array[]) => Uint8Array;

const bitFlip: Mutator = (x, rng) => {
  const m = Uint8Array.from(x);
  for (let k = 1 + rng.below(4); k > 0 && m.length > 0; k--) {
    const i = rng.below(m.length);
    m[i] = (m[i] ?? 0) ^ (1 << rng.below(8));
  }
  return m;
};

const interestingByte: Mutator = (x, rng) => {
  if (x.length === 0) return Uint8Array.of(rng.pick(INTERESTING));
  const m = Uint8Array.from(x);
  m[rng.below(m.length)] = rng.pick(INTERESTING);
  return m;
};

const insertBytes: Mutator = (x, rng) => {
  const at = rng.below(x.length + 1);
  return concat(x.subarray(0, at), rng.bytes(1 + rng.below(16)), x.subarray(at));
};

const deleteBytes: Mutator = (x, rng) => {
  if (x.length < 2) return x;
  const at = rng.below(x.length);
  const n = 1 + rng.below(Math.min(64, x.length - at));
  return concat(x.subarray(0, at), x.subarray(at + n));
};

const truncate: Mutator = (x, rng) => x.subarray(0, rng.below(x.length));

const appendGarbage: Mutator = (x, rng) => concat(x, rng.bytes(1 + rng.below(8)));

const lengthTweak: Mutator = (x, rng) => {
  const spans = tlvSpans(x);
  if (spans.length === 0) return bitFlip(x, rng, []);
  const s = rng.pick(spans);
  const len = s.end - s.valueStart;
  const choices: Uint8Array[] = [
    lengthOctets(len + 1),
    lengthOctets(Math.max(0, len - 1)),
    Uint8Array.of(0),
    Uint8Array.of(0x80), // indefinite
    Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0x84, 0x04, 0x00, 0x00, 0x00), // 64 MiB
    Uint8Array.of(0x88, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0x82, 0x00, len & 0x7f), // non-minimal long form
    Uint8Array.of(0x81, len & 0x7f),
    Uint8Array.of(0x85, 0, 0, 0, 0, 0),
  ];
  return concat(x.subarray(0, s.lengthStart), rng.pick(choices), x.subarray(s.lengthEnd));
};

const tagChange: Mutator = (x, rng) => {
  const spans = tlvSpans(x);
  if (spans.length === 0) return interestingByte(x, rng, []);
  const s = rng.pick(spans);
  const m = Uint8Array.from(x);
  m[s.start] = rng.below(2) === 0 ? rng.pick(INTERESTING) : rng.u32() & 0xff;
  return m;
};

/** Replaces one TLV with a TLV taken from another input (or the same one). */
const splice: Mutator = (x, rng, corpus) => {
  const donor = corpus.length > 0 ? rng.pick(corpus) : x;
  const a = tlvSpans(x);
  const b = tlvSpans(donor);
  if (a.length === 0 || b.length === 0) return insertBytes(x, rng, corpus);
  const s = rng.pick(a);
  const d = rng.pick(b);
  return concat(x.subarray(0, s.start), donor.subarray(d.start, d.end), x.subarray(s.end));
};

/** Repeats a TLV in place (duplicate elements of a SET/SEQUENCE). */
const duplicate: Mutator = (x, rng) => {
  const spans = tlvSpans(x);
  if (spans.length === 0) return x;
  const s = rng.pick(spans);
  return concat(x.subarray(0, s.end), x.subarray(s.start, s.end), x.subarray(s.end));
};

/** Wraps a TLV's contents in many levels of SEQUENCE or [0] (definite or indefinite lengths). */
const deepNest: Mutator = (x, rng) => {
  const spans = tlvSpans(x).filter((s) => s.constructed);
  const depth = rng.pick([70, 200, 1000, 10_000]);
  const indefinite = rng.below(2) === 0;
  const tag = rng.pick([0x30, 0xa0, 0x31, 0x24]);
  let inner: Uint8Array = spans.length === 0 ? x : x.subarray(rng.pick(spans).valueStart);
  if (inner.length > 256) inner = inner.subarray(0, 256);
  let nested: Uint8Array;
  if (indefinite) {
    const open = new Uint8Array(depth * 2);
    for (let i = 0; i < depth; i++) open.set([tag, 0x80], i * 2);
    nested = concat(open, inner, new Uint8Array(depth * 2));
  } else {
    // Inside out: the length of each level, then one buffer written from the outside in.
    const lengths = [inner.length];
    for (let i = 0; i < depth; i++) {
      const l = lengths[i] ?? 0;
      lengths.push(1 + lengthOctets(l).length + l);
    }
    nested = new Uint8Array(lengths[depth] ?? 0);
    let o = 0;
    for (let i = depth - 1; i >= 0; i--) {
      const l = lengthOctets(lengths[i] ?? 0);
      nested[o++] = tag;
      nested.set(l, o);
      o += l.length;
    }
    nested.set(inner, o);
  }
  if (spans.length === 0) return nested;
  const s = rng.pick(spans);
  return concat(x.subarray(0, s.valueStart), nested, x.subarray(s.end));
};

const MUTATORS: readonly Mutator[] = [
  bitFlip,
  bitFlip,
  interestingByte,
  interestingByte,
  insertBytes,
  deleteBytes,
  truncate,
  appendGarbage,
  lengthTweak,
  lengthTweak,
  lengthTweak,
  tagChange,
  splice,
  splice,
  duplicate,
  deepNest,
];

/** One to four stacked mutations of `input`. */
export function mutate(input: Uint8Array, rng: Prng, corpus: readonly Uint8Array[] = []): Uint8Array {
  let out = input;
  for (let k = 1 + rng.below(4); k > 0; k--) out = rng.pick(MUTATORS)(out, rng, corpus);
  return out;
}
