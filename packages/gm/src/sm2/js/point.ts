/**
 * SM2 curve points in Jacobian coordinates (x = X/Z², y = Y/Z³; Z = 0 is the point at infinity), with the
 * a = −3 doubling formula ("dbl-2001-b") and mixed Jacobian + affine addition ("madd-2007-bl") from the
 * Explicit-Formulas Database, and batch normalisation to affine (Montgomery's simultaneous inversion).
 */
import { P } from '../curve.js';
import { invert, modP } from './field.js';

export interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
}

export interface Affine {
  x: bigint;
  y: bigint;
}

export const INFINITY: Jacobian = { X: 1n, Y: 1n, Z: 0n };

export function fromAffine(p: Affine): Jacobian {
  return { X: p.x, Y: p.y, Z: 1n };
}

/** 2·P1, a = −3: δ = Z², γ = Y², β = Xγ, α = 3(X − δ)(X + δ), X3 = α² − 8β, Z3 = (Y + Z)² − γ − δ,
 *  Y3 = α(4β − X3) − 8γ². */
export function double(p1: Jacobian): Jacobian {
  if (p1.Z === 0n || p1.Y === 0n) return INFINITY;
  const delta = (p1.Z * p1.Z) % P;
  const gamma = (p1.Y * p1.Y) % P;
  const beta = (p1.X * gamma) % P;
  const alpha = (3n * (p1.X - delta) * (p1.X + delta)) % P;
  const X3 = modP(alpha * alpha - 8n * beta);
  const Z3 = modP((p1.Y + p1.Z) * (p1.Y + p1.Z) - gamma - delta);
  const Y3 = modP(alpha * (4n * beta - X3) - 8n * ((gamma * gamma) % P));
  return { X: X3, Y: Y3, Z: Z3 };
}

/** P1 + Q with Q affine (Z2 = 1). */
export function addMixed(p1: Jacobian, q: Affine): Jacobian {
  if (p1.Z === 0n) return fromAffine(q);
  const z1z1 = (p1.Z * p1.Z) % P;
  const u2 = (q.x * z1z1) % P;
  const s2 = (((q.y * p1.Z) % P) * z1z1) % P;
  const h = modP(u2 - p1.X);
  const r = modP(2n * (s2 - p1.Y));
  if (h === 0n) return r === 0n ? double(fromAffine(q)) : INFINITY;
  const hh = (h * h) % P;
  const i = 4n * hh;
  const j = (h * i) % P;
  const v = (p1.X * i) % P;
  const X3 = modP(r * r - j - 2n * v);
  const Y3 = modP(r * (v - X3) - 2n * ((p1.Y * j) % P));
  const Z3 = modP((p1.Z + h) * (p1.Z + h) - z1z1 - hh);
  return { X: X3, Y: Y3, Z: Z3 };
}

export function negate(q: Affine): Affine {
  return { x: q.x, y: q.y === 0n ? 0n : P - q.y };
}

/** Converts many points to affine with one inversion. No input may be infinity. */
export function normalizeAll(points: Jacobian[]): Affine[] {
  const n = points.length;
  const prefix: bigint[] = new Array<bigint>(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    prefix[i] = acc;
    acc = (acc * points[i]!.Z) % P;
  }
  let inv = invert(acc, P);
  const out: Affine[] = new Array<Affine>(n);
  for (let i = n - 1; i >= 0; i--) {
    const p = points[i]!;
    const zi = (inv * prefix[i]!) % P;
    inv = (inv * p.Z) % P;
    const zi2 = (zi * zi) % P;
    out[i] = { x: (p.X * zi2) % P, y: (((p.Y * zi2) % P) * zi) % P };
  }
  return out;
}

export function toAffine(p: Jacobian): Affine | undefined {
  if (p.Z === 0n) return undefined;
  return normalizeAll([p])[0];
}
