import { describe, expect, it } from 'vitest';
import { canonicalJson, type CanonicalValue } from './canonical-json.js';
import { randomValue, seeded } from './canonical-random.test-support.js';

describe('canonicalJson', () => {
  it('sorts keys at every level, no whitespace, escapes as JSON', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: '患者"x"\n' }], é: true })).toBe(
      '{"a":[{"c":"患者\\"x\\"\\n","d":null}],"b":1,"é":true}',
    );
  });
  it('refuses non-integers (floats have several spellings)', () => {
    expect(() => canonicalJson(1.5)).toThrow(TypeError);
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
  });
});

/** The implementation before the concatenating one (map/join): the reference the current one must equal. */
function reference(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`canonicalJson: ${value} is not a safe integer`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(value[k] as CanonicalValue)}`).join(',')}}`;
}

/** The outcome of a serialiser: its text, or the class of what it threw. */
function outcome(f: () => string): string {
  try {
    return `ok:${f()}`;
  } catch (e) {
    return `throws:${(e as Error).constructor.name}`;
  }
}

describe('canonicalJson equals the reference serialiser', () => {
  it('on random nested values (unicode, escapes, surrogates, integers, nulls)', () => {
    const rnd = seeded(7);
    const differing: CanonicalValue[] = [];
    for (let n = 0; n < 5000; n++) {
      const v = randomValue(rnd, 4);
      if (canonicalJson(v) !== reference(v)) differing.push(v);
    }
    expect(differing).toEqual([]);
  });

  it('on values it refuses or that are not canonical values (same result, same error class)', () => {
    const odd: unknown[] = [
      1.5,
      Number.NaN,
      Infinity,
      -0,
      2 ** 53,
      [1, undefined],
      { a: undefined },
      // eslint-disable-next-line no-sparse-arrays
      [1, , 2],
      { b: [{ c: 0.1 }] },
      { [`k\u0000`]: 'x', k: 'y' },
    ];
    for (const v of odd)
      expect(outcome(() => canonicalJson(v as CanonicalValue))).toBe(
        outcome(() => reference(v as CanonicalValue)),
      );
  });
});
