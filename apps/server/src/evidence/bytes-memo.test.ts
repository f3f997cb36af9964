import { describe, expect, it } from 'vitest';
import { bytesKey, memoByBytes } from './bytes-memo.js';

describe('memoByBytes', () => {
  it('computes once per distinct bytes (not per array), views included, and forgets all past its bound', () => {
    const calls: number[] = [];
    const f = memoByBytes(2, (b) => {
      calls.push(b.length);
      return { sum: b.reduce((a, x) => a + x, 0) };
    });
    const a = Uint8Array.from([1, 2, 3]);
    const first = f(a);
    expect(f(Uint8Array.from([1, 2, 3]))).toBe(first); // other array, same bytes
    const padded = Uint8Array.from([9, 1, 2, 3, 9]);
    expect(f(padded.subarray(1, 4))).toBe(first); // a view of the same bytes
    expect(calls).toEqual([3]);
    expect(f(Uint8Array.from([1, 2, 4])).sum).toBe(7); // one byte differs: computed
    expect(calls).toEqual([3, 3]);
    f(Uint8Array.from([5])); // a third entry: the cache is cleared first
    f(a);
    expect(calls).toEqual([3, 3, 1, 3]);
  });

  it('keys are exact: lengths and every byte count', () => {
    expect(bytesKey(Uint8Array.from([0, 255]))).not.toBe(bytesKey(Uint8Array.from([0, 255, 0])));
    expect(bytesKey(Uint8Array.from([0x80]))).not.toBe(bytesKey(Uint8Array.from([0x81])));
    expect(bytesKey(new Uint8Array(0))).toBe('');
  });
});
