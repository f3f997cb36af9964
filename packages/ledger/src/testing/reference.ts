/**
 * Test-only references, written straight from the RFC text and independent of the library's tree code:
 * a recursive MTH (RFC 9162 §2.1.1) and a seeded PRNG so that "random" tests are deterministic.
 */
import { createHash } from 'node:crypto';

export function sha256(data: Uint8Array): Uint8Array {
  return Uint8Array.from(createHash('sha256').update(data).digest());
}

/** MTH(D[n]) over leaf hashes, by the RFC's recursion: split at the largest power of two < n. */
export function referenceRoot(
  leafHashes: readonly Uint8Array[],
  hash: (d: Uint8Array) => Uint8Array,
): Uint8Array {
  const n = leafHashes.length;
  if (n === 0) return hash(new Uint8Array(0));
  if (n === 1) return leafHashes[0]!;
  let k = 1;
  while (k * 2 < n) k *= 2;
  const left = referenceRoot(leafHashes.slice(0, k), hash);
  const right = referenceRoot(leafHashes.slice(k), hash);
  return hash(Uint8Array.from([0x01, ...left, ...right]));
}

/** RFC 9162 leaf hash, written out independently. */
export function referenceLeafHash(entry: Uint8Array, hash: (d: Uint8Array) => Uint8Array): Uint8Array {
  return hash(Uint8Array.from([0x00, ...entry]));
}

/** mulberry32: a tiny seeded PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}
