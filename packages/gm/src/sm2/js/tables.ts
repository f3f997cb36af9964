/**
 * Scalar multiplication strategies.
 * - Fixed-base window table: T[i][j] = j·16^i·Q (j = 1..15) for the 64 four-bit windows of a 256-bit scalar,
 *   in affine form; k·Q is then at most 64 mixed additions and no doublings. Built once for G, and per
 *   public key for signers seen repeatedly (LRU-cached by the engine).
 * - wNAF (width 5) for a variable base seen once: 256 doublings and about 43 additions.
 */
import type { Affine, Jacobian } from './point.js';
import { INFINITY, addMixed, double, fromAffine, negate, normalizeAll } from './point.js';

const WINDOWS = 64;

export type WindowTable = Affine[][];

export function buildWindowTable(q: Affine): WindowTable {
  const jac: Jacobian[] = [];
  let base = fromAffine(q);
  for (let i = 0; i < WINDOWS; i++) {
    let acc = base;
    jac.push(acc);
    for (let j = 2; j <= 15; j++) {
      acc = addMixedJ(acc, base);
      jac.push(acc);
    }
    // next base = 16·base
    base = double(double(double(double(base))));
  }
  const flat = normalizeAll(jac);
  const table: WindowTable = [];
  for (let i = 0; i < WINDOWS; i++) table.push(flat.slice(i * 15, i * 15 + 15));
  return table;
}

/** Jacobian + Jacobian by normalising the second operand (used only while building tables). */
function addMixedJ(p: Jacobian, q: Jacobian): Jacobian {
  const [qa] = normalizeAll([q]);
  return addMixed(p, qa!);
}

/** k·Q from a window table (k < 2^256). */
export function multiplyByTable(table: WindowTable, k: bigint): Jacobian {
  let r = INFINITY;
  for (let i = 0; i < WINDOWS; i++) {
    const d = Number((k >> BigInt(4 * i)) & 15n);
    if (d !== 0) r = addMixed(r, table[i]![d - 1]!);
  }
  return r;
}

/** Width-w non-adjacent form, least significant digit first. */
export function wnaf(k: bigint, w = 5): number[] {
  const out: number[] = [];
  const full = 1 << w;
  const half = full >> 1;
  let x = k;
  while (x > 0n) {
    let d = 0;
    if (x & 1n) {
      d = Number(x & BigInt(full - 1));
      if (d >= half) d -= full;
      x -= BigInt(d);
    }
    out.push(d);
    x >>= 1n;
  }
  return out;
}

/** Odd multiples Q, 3Q, …, (2^(w-1) − 1)Q in affine form, for wNAF. */
export function oddMultiples(q: Affine, w = 5): Affine[] {
  const count = 1 << (w - 2);
  const twoQ = normalizeAll([double(fromAffine(q))])[0]!;
  const jac: Jacobian[] = [fromAffine(q)];
  for (let i = 1; i < count; i++) jac.push(addMixed(jac[i - 1]!, twoQ));
  return normalizeAll(jac);
}

/** Adds t·Q (by wNAF) into the accumulator walk; returns acc + t·Q. */
export function multiplyWnaf(q: Affine, k: bigint, start: Jacobian = INFINITY): Jacobian {
  const digits = wnaf(k);
  const odd = oddMultiples(q);
  let r: Jacobian = INFINITY;
  for (let i = digits.length - 1; i >= 0; i--) {
    r = double(r);
    const d = digits[i]!;
    if (d > 0) r = addMixed(r, odd[(d - 1) >> 1]!);
    else if (d < 0) r = addMixed(r, negate(odd[(-d - 1) >> 1]!));
  }
  if (start.Z === 0n) return r;
  if (r.Z === 0n) return start;
  return addJacobian(start, r);
}

/** General Jacobian addition through normalising one operand. */
export function addJacobian(p: Jacobian, q: Jacobian): Jacobian {
  if (p.Z === 0n) return q;
  if (q.Z === 0n) return p;
  return addMixedJ(p, q);
}
