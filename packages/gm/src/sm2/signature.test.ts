import { describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt, concat } from '../bytes.js';
import { TAG, children, decodeUnsignedInteger, expectTag, integer, readOnly, sequence } from '../der.js';
import { GmError } from '../errors.js';
import { N } from './curve.js';
import { derToRaw, rawToDer, toRawSignature } from './signature.js';

// The strict encodings on bigints (how signature.ts reads and writes them besides its in-place fast paths).
function refDerToRaw(der: Uint8Array): Uint8Array {
  let r: bigint;
  let s: bigint;
  try {
    const f = children(readOnly(der, TAG.SEQUENCE));
    if (f.length !== 2) throw new GmError('GM_INVALID_SIGNATURE_ENCODING', 'two INTEGERs');
    r = decodeUnsignedInteger(expectTag(f[0], TAG.INTEGER, 'R'));
    s = decodeUnsignedInteger(expectTag(f[1], TAG.INTEGER, 'S'));
  } catch {
    throw new GmError('GM_INVALID_SIGNATURE_ENCODING', 'not DER');
  }
  if (r < 1n || r >= N || s < 1n || s >= N) throw new GmError('GM_INVALID_SIGNATURE_ENCODING', 'range');
  return concat(bigIntToBytes(r, 32), bigIntToBytes(s, 32));
}

function refRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length !== 64) throw new GmError('GM_INVALID_SIGNATURE_ENCODING', 'length');
  const r = bytesToBigInt(raw.subarray(0, 32));
  const s = bytesToBigInt(raw.subarray(32));
  if (r < 1n || r >= N || s < 1n || s >= N) throw new GmError('GM_INVALID_SIGNATURE_ENCODING', 'range');
  return sequence(integer(r), integer(s));
}

/** 'throws <code>' or the hex of the result. */
function outcome(f: () => Uint8Array): string {
  try {
    return Buffer.from(f()).toString('hex');
  } catch (e) {
    if (e instanceof GmError) return `throws ${e.code}`;
    throw e;
  }
}

/** A deterministic generator (xorshift32), so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const b32 = (v: bigint): Uint8Array => bigIntToBytes(v, 32);
const EDGES = [1n, 2n, 0x7fn, 0x80n, 0xffn, 0x100n, (1n << 255n) - 1n, 1n << 255n, N - 2n, N - 1n];

function randomScalar(next: () => number): bigint {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = next() & 0xff;
  // Leading zero bytes now and then, to exercise short INTEGERs.
  const zeros = next() % 8 === 0 ? next() % 31 : 0;
  bytes.fill(0, 0, zeros);
  return (bytesToBigInt(bytes) % (N - 1n)) + 1n;
}

describe('SM2 signature encodings: the in-place paths equal the strict bigint ones', () => {
  const next = rng(0x5a17);
  const raws: Uint8Array[] = [];
  for (const r of EDGES) for (const s of EDGES) raws.push(concat(b32(r), b32(s)));
  for (let i = 0; i < 400; i++) raws.push(concat(b32(randomScalar(next)), b32(randomScalar(next))));

  it('raw → DER → raw on valid values', () => {
    for (const raw of raws) {
      const der = rawToDer(raw);
      expect(Buffer.from(der).toString('hex')).toBe(Buffer.from(refRawToDer(raw)).toString('hex'));
      expect(Buffer.from(derToRaw(der))).toEqual(Buffer.from(raw));
      expect(toRawSignature(raw, 'raw')).toBe(raw);
    }
  });

  it('raw values out of range or of the wrong length are refused alike', () => {
    const bad = [
      concat(b32(0n), b32(1n)),
      concat(b32(1n), b32(0n)),
      concat(b32(N), b32(1n)),
      concat(b32(1n), b32(N)),
      concat(new Uint8Array(32).fill(0xff), b32(1n)),
      new Uint8Array(63).fill(1),
      new Uint8Array(65).fill(1),
    ];
    for (const raw of bad) {
      expect(outcome(() => rawToDer(raw))).toBe(outcome(() => refRawToDer(raw)));
      expect(outcome(() => toRawSignature(raw, 'raw'))).toBe('throws GM_INVALID_SIGNATURE_ENCODING');
    }
  });

  it('every byte changed, dropped or added in a DER signature: the same result or the same refusal', () => {
    let compared = 0;
    const differ: string[] = [];
    for (const raw of raws.slice(0, 40)) {
      const der = rawToDer(raw);
      const variants: Uint8Array[] = [];
      for (let i = 0; i < der.length; i++) {
        for (const v of [0x00, 0x01, 0x02, 0x1f, 0x30, 0x7f, 0x80, 0x81, 0xff, der[i]! ^ 0x01, der[i]! + 1]) {
          const m = der.slice();
          m[i] = v & 0xff;
          variants.push(m);
        }
        variants.push(concat(der.subarray(0, i), der.subarray(i + 1)));
        variants.push(concat(der.subarray(0, i), Uint8Array.of(0), der.subarray(i)));
      }
      variants.push(der.subarray(0, der.length - 1), concat(der, Uint8Array.of(0)));
      for (const m of variants) {
        const got = outcome(() => derToRaw(m));
        if (got !== outcome(() => refDerToRaw(m))) differ.push(Buffer.from(m).toString('hex'));
        compared++;
      }
    }
    expect(differ).toEqual([]);
    expect(compared).toBeGreaterThan(10_000);
  });

  it('non-minimal, negative, zero, too large and long-form encodings', () => {
    const int = (content: number[]) => [0x02, content.length, ...content];
    const seq = (...items: number[][]) => {
      const body = items.flat();
      return Uint8Array.from([0x30, body.length, ...body]);
    };
    const one = int([1]);
    const cases = [
      seq(int([0, 1]), one), // non-minimal
      seq(int([0xff, 0x80]), one), // non-minimal negative
      seq(int([0x80]), one), // negative
      seq(int([0]), one), // zero
      seq(int([0, ...b32(N)]), one), // n
      seq(int([...b32(N - 1n)]), one), // top bit set without the 00
      seq(int([0, ...b32(N - 1n)]), one), // n-1, correct
      seq(int([0, 0, ...b32(N - 1n)]), one), // 34 bytes
      seq(one, one, one), // three INTEGERs
      seq(one), // one INTEGER
      Uint8Array.from([0x30, 0x81, 0x06, ...int([1]), ...int([1])]), // long-form length
      Uint8Array.from([0x30, 0x06, 0x02, 0x81, 0x01, 0x01, ...int([1])]), // long-form INTEGER length
      Uint8Array.from([0x31, 0x06, ...int([1]), ...int([1])]), // SET
      Uint8Array.from([0x30, 0x80, ...int([1]), ...int([1]), 0, 0]), // indefinite
      new Uint8Array(0),
    ];
    for (const c of cases) expect(outcome(() => derToRaw(c))).toBe(outcome(() => refDerToRaw(c)));
    expect(outcome(() => derToRaw(seq(int([0, ...b32(N - 1n)]), one)))).not.toMatch(/^throws/);
  });
});
