/**
 * Arithmetic in F_p and Z_n for the SM2 curve, on BigInt. Browser-safe.
 * Plain `%` reduction: on V8 a Solinas reduction written with BigInt shifts and adds is not faster than the
 * built-in division for 512-bit operands, since every BigInt operation allocates.
 */
import { A, B, P } from '../curve.js';

export function modP(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

export function modN(a: bigint, n: bigint): bigint {
  const r = a % n;
  return r < 0n ? r + n : r;
}

/** a⁻¹ mod m by the extended Euclidean algorithm (a ≠ 0 mod m; m prime). Variable-time. */
export function invert(a: bigint, m: bigint): bigint {
  let r0 = modN(a, m);
  if (r0 === 0n) throw new RangeError('zero has no inverse');
  let r1 = m;
  let s0 = 1n;
  let s1 = 0n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return modN(s0, m);
}

/** b^e mod m, square-and-multiply. */
export function powMod(b: bigint, e: bigint, m: bigint): bigint {
  let result = 1n;
  let base = modN(b, m);
  for (let x = e; x > 0n; x >>= 1n) {
    if (x & 1n) result = (result * base) % m;
    base = (base * base) % m;
  }
  return result;
}

/**
 * The y with y² = x³ + ax + b and the requested parity (GB/T 32918.1 clause A.5.2 point decompression),
 * or undefined if x is not the abscissa of a curve point. p ≡ 3 (mod 4), so √c = c^((p+1)/4).
 */
export function decompressY(x: bigint, yOdd: boolean): bigint | undefined {
  if (x < 0n || x >= P) return undefined;
  const c = modP(x * x * x + A * x + B);
  const y = powMod(c, (P + 1n) / 4n, P);
  if ((y * y) % P !== c) return undefined;
  if (y === 0n) return yOdd ? undefined : 0n;
  return (y & 1n) === (yOdd ? 1n : 0n) ? y : P - y;
}
