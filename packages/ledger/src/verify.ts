/**
 * The client side of the log: verifying inclusion (RFC 9162 §2.1.3.2) and consistency (§2.1.4.2) proofs.
 * Usable alone, in a browser: no Node built-ins, the hash is injected. Every number may come from an attacker
 * and is validated; every failure is a {@link LedgerError}.
 */
import { bytesEqual, expectHash } from './bytes.js';
import { LedgerError } from './errors.js';
import type { LogHasher } from './hash.js';
import { type TreeNumber, toTreeNumber } from './numbers.js';
import { consistencyProofLength, inclusionProofLength, isPowerOfTwo } from './tree-math.js';

const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/**
 * Recomputes the root of a tree of `size` leaves from leaf `index`, its leaf hash and its inclusion proof
 * (RFC 9162 §2.1.3.2, steps 1–4). Throws unless 0 ≤ index < size and the proof has the right shape.
 */
export function rootFromInclusionProof(
  hasher: LogHasher,
  index: TreeNumber,
  size: TreeNumber,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  const i = toTreeNumber(index, 'index');
  const n = toTreeNumber(size, 'size');
  if (i >= n) {
    throw new LedgerError('LEDGER_INDEX_OUT_OF_RANGE', `leaf index ${i} is not below tree size ${n}`, {
      context: { index: i, size: n },
    });
  }
  expectHash(leafHash, hasher.size, 'leaf hash', 'LEDGER_BAD_ARGUMENT');
  const path = checkProof(hasher, proof);
  const want = inclusionProofLength(i, n);
  if (path.length !== want) {
    throw new LedgerError('LEDGER_PROOF_SIZE', `inclusion proof has ${path.length} hashes, want ${want}`, {
      context: { index: i, size: n, length: path.length, want },
    });
  }
  // 2. Set fn to leaf_index and sn to tree_size - 1.  3. Set r to hash.
  let fn = i;
  let sn = n - 1;
  let r = leafHash;
  // 4. For each value p in the inclusion_path array:
  for (const p of path) {
    // a. If sn is 0, the proof is too long.
    if (sn === 0) throw proofSize('inclusion proof is too long', i, n);
    // b. If LSB(fn) is set, or if fn is equal to sn, p is a left sibling …
    if (isOdd(fn) || fn === sn) {
      r = hasher.hashChildren(p, r);
      // … and while fn is a left child with no right sibling, it is carried up unchanged.
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      // Otherwise p is a right sibling.
      r = hasher.hashChildren(r, p);
    }
    // c. Right-shift both fn and sn one time.
    fn = half(fn);
    sn = half(sn);
  }
  // 5. sn must be 0 (the path reached the root).
  if (sn !== 0) throw proofSize('inclusion proof is too short', i, n);
  return r;
}

/** Verifies that `leafHash` is the leaf at `index` of the tree of `size` leaves with root `root`. */
export function verifyInclusion(
  hasher: LogHasher,
  index: TreeNumber,
  size: TreeNumber,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  expectHash(root, hasher.size, 'root', 'LEDGER_BAD_ARGUMENT');
  const calculated = rootFromInclusionProof(hasher, index, size, leafHash, proof);
  if (!bytesEqual(calculated, root)) {
    throw new LedgerError('LEDGER_ROOT_MISMATCH', 'inclusion proof does not lead to the expected root', {
      context: { index: String(index), size: String(size) },
    });
  }
}

/**
 * Verifies that the tree of size `m` with root `rootM` is a prefix of the tree of size `n` with root `rootN`
 * (RFC 9162 §2.1.4.2). Requires 0 < m ≤ n; for m = n the proof must be empty and the roots equal.
 */
export function verifyConsistency(
  hasher: LogHasher,
  m: TreeNumber,
  n: TreeNumber,
  proof: readonly Uint8Array[],
  rootM: Uint8Array,
  rootN: Uint8Array,
): void {
  const first = toTreeNumber(m, 'm');
  const second = toTreeNumber(n, 'n');
  if (first > second) {
    throw new LedgerError(
      'LEDGER_INDEX_OUT_OF_RANGE',
      `first size ${first} is larger than second size ${second}`,
      {
        context: { m: first, n: second },
      },
    );
  }
  if (first === 0) {
    throw new LedgerError(
      'LEDGER_INDEX_OUT_OF_RANGE',
      'a consistency proof from the empty tree proves nothing',
      {
        context: { m: first, n: second },
      },
    );
  }
  const path = checkProof(hasher, proof);
  const want = consistencyProofLength(first, second);
  if (path.length !== want) {
    throw new LedgerError('LEDGER_PROOF_SIZE', `consistency proof has ${path.length} hashes, want ${want}`, {
      context: { m: first, n: second, length: path.length, want },
    });
  }
  // 1. If first is equal to second, the roots must be equal (and the proof empty, checked above). That is the
  //    whole claim, so only equality is checked, as transparency-dev/merkle does (its vectors pass equal roots
  //    of any length here).
  if (first === second) {
    if (!(rootM instanceof Uint8Array) || !(rootN instanceof Uint8Array)) {
      throw new LedgerError('LEDGER_BAD_ARGUMENT', 'roots must be byte arrays');
    }
    if (!bytesEqual(rootM, rootN)) {
      throw new LedgerError('LEDGER_ROOT_MISMATCH', 'equal tree sizes with different roots', {
        context: { m: first, n: second },
      });
    }
    return;
  }
  expectHash(rootM, hasher.size, 'first root', 'LEDGER_BAD_ARGUMENT');
  expectHash(rootN, hasher.size, 'second root', 'LEDGER_BAD_ARGUMENT');
  // 2. If first is an exact power of 2, prepend first_hash to the consistency_path array.
  const nodes = isPowerOfTwo(first) ? [rootM, ...path] : path;
  // 3. Set fn to first - 1 and sn to second - 1.
  let fn = first - 1;
  let sn = second - 1;
  // 4. If LSB(fn) is set, right-shift both fn and sn equally until LSB(fn) is not set.
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5. Set both fr and sr to the first value in the consistency_path array.
  let fr = nodes[0]!;
  let sr = nodes[0]!;
  // 6. For each subsequent value c in the consistency_path array:
  for (const c of nodes.slice(1)) {
    // a. If sn is 0, the proof is too long.
    if (sn === 0) throw proofSize('consistency proof is too long', first, second);
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if (isOdd(fn) || fn === sn) {
      fr = hasher.hashChildren(c, fr);
      sr = hasher.hashChildren(c, sr);
      // If LSB(fn) is not set, right-shift both fn and sn equally until either LSB(fn) is set or fn is 0.
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hasher.hashChildren(sr, c);
    }
    // c. Finally, right-shift both fn and sn one time.
    fn = half(fn);
    sn = half(sn);
  }
  // 7. fr must equal first_hash, sr second_hash, and sn must be 0.
  if (sn !== 0) throw proofSize('consistency proof is too short', first, second);
  if (!bytesEqual(fr, rootM)) {
    throw new LedgerError('LEDGER_ROOT_MISMATCH', 'consistency proof does not lead to the first root', {
      context: { m: first, n: second, which: 'first' },
    });
  }
  if (!bytesEqual(sr, rootN)) {
    throw new LedgerError('LEDGER_ROOT_MISMATCH', 'consistency proof does not lead to the second root', {
      context: { m: first, n: second, which: 'second' },
    });
  }
}

/** Checks that `proof` is an array of hashes of the log's size; returns it. */
export function checkProof(hasher: LogHasher, proof: unknown): readonly Uint8Array[] {
  if (!Array.isArray(proof)) {
    throw new LedgerError('LEDGER_BAD_ARGUMENT', 'proof must be an array of hashes');
  }
  if (proof.length > 64 * 2) {
    throw new LedgerError(
      'LEDGER_PROOF_SIZE',
      `proof has ${proof.length} hashes, far more than any tree needs`,
    );
  }
  proof.forEach((p: unknown, i) => {
    expectHash(p, hasher.size, `proof hash ${i}`, 'LEDGER_PROOF_INVALID');
  });
  return proof as readonly Uint8Array[];
}

function proofSize(message: string, a: number, b: number): LedgerError {
  return new LedgerError('LEDGER_PROOF_SIZE', message, { context: { a, b } });
}
