import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

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
