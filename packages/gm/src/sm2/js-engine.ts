/**
 * The pure-TypeScript SM2 engine (BigInt). Runs unchanged in browsers (no Node imports).
 *
 * Speed: a fixed-base window table for G (built lazily once), a per-public-key window table in a bounded LRU
 * for signers verified repeatedly (built on the second verification of the same key; wNAF before that).
 *
 * Side channels: JavaScript BigInt arithmetic is not constant-time and this engine branches on scalar digits,
 * so it is meant for verification, for the browser (a user signing their own login challenge), and as a
 * portable fallback. Servers holding long-term keys use the native engine, the hardened path.
 */
import { bigIntToBytes, bytesToBigInt, concat, randomBytes } from '../bytes.js';
import { GmError } from '../errors.js';
import { GX, GY, N, P } from './curve.js';
import type { Sm2Engine } from './engine.js';
import { invert, modN } from './js/field.js';
import type { Affine, Jacobian } from './js/point.js';
import { toAffine } from './js/point.js';
import {
  addJacobian,
  buildWindowTable,
  multiplyByTable,
  multiplyWnaf,
  type WindowTable,
} from './js/tables.js';

export interface JsEngineOptions {
  /** Public keys whose precomputed tables are kept (LRU). Default 256. */
  keyCacheSize?: number;
}

let gTable: WindowTable | undefined;
function baseTable(): WindowTable {
  gTable ??= buildWindowTable({ x: GX, y: GY });
  return gTable;
}

function encodePoint(p: Jacobian): Uint8Array {
  const a = toAffine(p);
  if (!a) throw new GmError('GM_INVALID_ARGUMENT', 'result is the point at infinity');
  return concat(Uint8Array.of(4), bigIntToBytes(a.x, 32), bigIntToBytes(a.y, 32));
}

function decodePoint(b: Uint8Array): Affine {
  if (b.length !== 65 || b[0] !== 4)
    throw new GmError('GM_INVALID_ARGUMENT', 'expected a 65-byte uncompressed point');
  return { x: bytesToBigInt(b.subarray(1, 33)), y: bytesToBigInt(b.subarray(33)) };
}

function scalar(b: Uint8Array, what: string): bigint {
  if (b.length !== 32) throw new GmError('GM_INVALID_ARGUMENT', `${what} must be 32 bytes`);
  return bytesToBigInt(b);
}

export function createJsEngine(options: JsEngineOptions = {}): Sm2Engine {
  const cacheSize = options.keyCacheSize ?? 256;
  /** key (latin1 of the 65 bytes) → table, or null when seen once (table not built yet). */
  const cache = new Map<string, WindowTable | null>();

  function tableFor(pub: Uint8Array, q: Affine): WindowTable | undefined {
    if (cacheSize <= 0) return undefined;
    const id = String.fromCharCode(...pub);
    const hit = cache.get(id);
    if (hit !== undefined) {
      cache.delete(id); // refresh LRU position
      const table = hit ?? buildWindowTable(q);
      cache.set(id, table);
      return table;
    }
    cache.set(id, null);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
    return undefined;
  }

  return {
    name: 'js',
    description: 'pure TypeScript (BigInt, window tables, per-key cache)',

    publicKeyFromPrivate(d: Uint8Array): Uint8Array {
      const k = modN(scalar(d, 'private key'), N);
      if (k === 0n) throw new GmError('GM_INVALID_ARGUMENT', 'result is the point at infinity');
      return encodePoint(multiplyByTable(baseTable(), k));
    },

    /** GB/T 32918.2 clause 6.1 A3–A7. */
    sign(eBytes: Uint8Array, dBytes: Uint8Array, kBytes?: Uint8Array): Uint8Array {
      const e = scalar(eBytes, 'digest');
      const d = scalar(dBytes, 'private key');
      if (d < 1n || d > N - 2n) throw new GmError('GM_INVALID_KEY', 'private key out of range [1, n-2]');
      const dInv = invert(1n + d, N);
      for (;;) {
        // A3: k ∈ [1, n-1]
        let k: bigint;
        if (kBytes) {
          k = scalar(kBytes, 'k');
          if (k < 1n || k >= N) throw new GmError('GM_INVALID_ARGUMENT', 'k out of range');
        } else {
          k = bytesToBigInt(randomBytes(32));
          if (k < 1n || k >= N) continue;
        }
        // A4: (x1, y1) = [k]G
        const x1 = toAffine(multiplyByTable(baseTable(), k))!.x;
        // A5: r = (e + x1) mod n; retry if r = 0 or r + k = n
        const r = modN(e + x1, N);
        if (r === 0n || r + k === N) {
          if (kBytes) throw new GmError('GM_INVALID_ARGUMENT', 'the given k yields r = 0 or r + k = n');
          continue;
        }
        // A6: s = ((1 + d)⁻¹ · (k − r·d)) mod n; retry if s = 0
        const s = modN(dInv * modN(k - r * d, N), N);
        if (s === 0n) {
          if (kBytes) throw new GmError('GM_INVALID_ARGUMENT', 'the given k yields s = 0');
          continue;
        }
        return concat(bigIntToBytes(r, 32), bigIntToBytes(s, 32)); // A7
      }
    },

    /** GB/T 32918.2 clause 7.1 B1–B7. */
    verify(eBytes: Uint8Array, rs: Uint8Array, pub: Uint8Array): boolean {
      if (rs.length !== 64) throw new GmError('GM_INVALID_ARGUMENT', 'signature must be 64 bytes');
      const r = bytesToBigInt(rs.subarray(0, 32));
      const s = bytesToBigInt(rs.subarray(32));
      if (r < 1n || r >= N || s < 1n || s >= N) return false; // B1, B2
      const e = scalar(eBytes, 'digest');
      const t = modN(r + s, N); // B5
      if (t === 0n) return false;
      const q = decodePoint(pub);
      // B6: (x1, y1) = [s]G + [t]P
      const sg = multiplyByTable(baseTable(), s);
      const table = tableFor(pub, q);
      const sum = table ? addJacobian(sg, multiplyByTable(table, t)) : multiplyWnaf(q, t, sg);
      if (sum.Z === 0n) return false;
      // B7: R = (e + x1) mod n = r ⇔ x1 ≡ r − e (mod n); x1 < p < 2n, so x1 ∈ {c, c + n}. Compare in
      // Jacobian form (X = x1·Z²) to avoid an inversion.
      const z2 = (sum.Z * sum.Z) % P;
      const c = modN(r - e, N);
      if ((c * z2) % P === sum.X) return true;
      const c2 = c + N;
      return c2 < P && (c2 * z2) % P === sum.X;
    },

    multiply(point: Uint8Array, k: Uint8Array): Uint8Array {
      const kk = modN(scalar(k, 'scalar'), N);
      if (kk === 0n) throw new GmError('GM_INVALID_ARGUMENT', 'result is the point at infinity');
      return encodePoint(multiplyWnaf(decodePoint(point), kk));
    },
  };
}
