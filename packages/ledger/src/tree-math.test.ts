import { describe, expect, it } from 'vitest';
import {
  bitCeil,
  bitLength,
  consistencyPath,
  consistencyProofPlan,
  inclusionPath,
  inclusionProofLength,
  inclusionProofPlan,
  isSubtree,
  largestPowerOfTwoBelow,
  nodeKey,
  nodeRange,
  perfectSubtrees,
  planNodes,
  popCount,
  rangeNodes,
  shiftRight,
  trailingZeros,
} from './tree-math.js';

const ids = (s: string): { level: number; index: number }[] =>
  s === ''
    ? []
    : s.split(' ').map((p) => {
        const [level, index] = p.split('/').map(Number) as [number, number];
        return { level, index };
      });
const ranges = (s: string): { begin: number; end: number }[] =>
  s === ''
    ? []
    : s.split(' ').map((p) => {
        const [begin, end] = p.split('-').map(Number) as [number, number];
        return { begin, end };
      });

describe('bit helpers', () => {
  it.each([
    [0, 0],
    [1, 1],
    [2, 2],
    [255, 8],
    [256, 9],
    [2 ** 32, 33],
    [Number.MAX_SAFE_INTEGER, 53],
  ])('bitLength(%d) = %d', (x, want) => {
    expect(bitLength(x)).toBe(want);
  });

  it.each([
    [1, 0],
    [8, 3],
    [12, 2],
    [2 ** 40, 40],
    [2 ** 52 + 2 ** 33, 33],
  ])('trailingZeros(%d) = %d', (x, want) => {
    expect(trailingZeros(x)).toBe(want);
  });

  it.each([
    [0, 0],
    [7, 3],
    [2 ** 40 + 1, 2],
    [Number.MAX_SAFE_INTEGER, 53],
  ])('popCount(%d) = %d', (x, want) => {
    expect(popCount(x)).toBe(want);
  });

  it('shifts and ceilings beyond 32 bits', () => {
    expect(shiftRight(2 ** 45 + 7, 44)).toBe(2);
    expect(bitCeil(1)).toBe(1);
    expect(bitCeil(5)).toBe(8);
    expect(bitCeil(2 ** 40 + 1)).toBe(2 ** 41);
  });
});

describe('largestPowerOfTwoBelow (RFC 9162 §2.1.1 split point k < n ≤ 2k)', () => {
  it.each([
    [2, 1],
    [3, 2],
    [4, 2],
    [5, 4],
    [8, 4],
    [9, 8],
    [1000, 512],
    [2 ** 50, 2 ** 49],
    [2 ** 50 + 1, 2 ** 50],
  ])('n = %d → k = %d', (n, k) => {
    expect(largestPowerOfTwoBelow(n)).toBe(k);
  });
  it('needs n ≥ 2', () => {
    expect(() => largestPowerOfTwoBelow(1)).toThrow(RangeError);
  });
});

describe('node addressing', () => {
  it.each([
    ['0/0', 0, 1],
    ['0/5', 5, 6],
    ['3/1', 8, 16],
    ['2/3', 12, 16],
  ])('%s covers [%d, %d)', (id, begin, end) => {
    const node = ids(id)[0]!;
    expect(nodeRange(node)).toEqual({ begin, end });
    expect(nodeKey(node)).toBe(id);
  });
});

describe('perfect subtree decomposition', () => {
  it.each([
    [0, ''],
    [1, '0/0'],
    [2, '1/0'],
    [3, '1/0 0/2'],
    [7, '2/0 1/2 0/6'],
    [8, '3/0'],
    [13, '3/0 2/2 0/12'],
  ])('[0, %d) → %s', (size, want) => {
    expect(perfectSubtrees(size)).toEqual(ids(want));
  });

  it.each([
    [1, 4, '0/1 1/1'],
    [3, 13, '0/3 2/1 2/2 0/12'],
    [5, 6, '0/5'],
    [8, 8, ''],
    [2, 8, '1/1 2/1'],
  ])('[%d, %d) → %s', (begin, end, want) => {
    expect(rangeNodes(begin, end)).toEqual(ids(want));
  });

  it('is large-number safe', () => {
    expect(perfectSubtrees(2 ** 40 + 3)).toEqual([
      { level: 40, index: 0 },
      { level: 1, index: 2 ** 39 },
      { level: 0, index: 2 ** 40 + 2 },
    ]);
  });

  it.each([
    [0, 1, true],
    [0, 7, true],
    [4, 6, true],
    [4, 7, true],
    [4, 9, false],
    [1, 3, false],
    [2, 5, false],
    [3, 3, false],
    [8, 16, true],
  ])('isSubtree(%d, %d) = %s', (begin, end, want) => {
    expect(isSubtree(begin, end)).toBe(want);
  });
});

describe("inclusion proof paths (RFC 9162 §2.1.3.1; the RFC's own example tree of 7 leaves)", () => {
  // RFC 9162 §2.1.5: the audit path for d0 is [b, h, l]; for d3 [c, g, l]; for d4 [f, j, k]; for d6 [i, k].
  it.each([
    [0, 7, '1-2 2-4 4-7'],
    [3, 7, '2-3 0-2 4-7'],
    [4, 7, '5-6 6-7 0-4'],
    [6, 7, '4-6 0-4'],
    [0, 1, ''],
    [5, 8, '4-5 6-8 0-4'],
  ])('PATH(%d, D[%d]) = %s', (index, size, want) => {
    expect(inclusionPath(index, size)).toEqual(ranges(want));
    expect(inclusionProofLength(index, size)).toBe(ranges(want).length);
  });

  it('plans ragged right edges as folds of stored perfect nodes', () => {
    const plan = inclusionProofPlan(0, 7);
    expect(plan.map((p) => p.nodes)).toEqual([ids('0/1'), ids('1/1'), ids('1/2 0/6')]);
    expect(planNodes(plan)).toEqual(ids('0/1 1/1 1/2 0/6'));
  });
});

describe('consistency proof paths (RFC 9162 §2.1.4.1 and the §2.1.5 example)', () => {
  // The RFC: PROOF(3, D[7]) = [c, d, g, l]; PROOF(4, D[7]) = [l]; PROOF(6, D[7]) = [i, j, k].
  it.each([
    [3, 7, '2-3 3-4 0-2 4-7'],
    [4, 7, '4-7'],
    [6, 7, '4-6 6-7 0-4'],
    [7, 7, ''],
    [1, 2, '1-2'],
    [2, 5, '2-4 4-5'],
  ])('PROOF(%d, D[%d]) = %s', (m, n, want) => {
    expect(consistencyPath(m, n)).toEqual(ranges(want));
  });

  it('plans every entry from perfect nodes', () => {
    expect(consistencyProofPlan(3, 7).map((p) => p.nodes)).toEqual([
      ids('0/2'),
      ids('0/3'),
      ids('1/0'),
      ids('1/2 0/6'),
    ]);
  });

  it('rejects sizes outside its contract', () => {
    expect(() => consistencyPath(0, 3)).toThrow(RangeError);
    expect(() => consistencyPath(4, 3)).toThrow(RangeError);
    expect(() => inclusionPath(3, 3)).toThrow(RangeError);
  });
});
