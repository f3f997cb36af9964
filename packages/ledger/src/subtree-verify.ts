/**
 * Subtree proofs, as defined by the IETF Merkle Tree Certificates draft (draft-ietf-plants-merkle-tree-certs,
 * "subtree inclusion" and "subtree consistency") and exercised by the transparency-dev/merkle test vectors.
 *
 * A subtree [start, end) is a leaf range with start < end and start a multiple of bitCeil(end − start); its hash
 * MTH(D[start:end]) is a node of every tree of size ≥ end. A subtree inclusion proof is an ordinary inclusion
 * proof inside that subtree; a subtree consistency proof shows that the subtree hash is part of the tree of
 * `size` leaves with a given root. With start = 0 both reduce to RFC 9162's inclusion and consistency proofs.
 *
 * The consistency check generalises RFC 9162 §2.1.4.2: it runs the same walk from leaf end − 1 up the tree of
 * `size` leaves, but only left siblings below the subtree's own height feed the recomputed subtree hash.
 */
import { bytesEqual, expectHash } from './bytes.js';
import { LedgerError } from './errors.js';
import type { LogHasher } from './hash.js';
import { type TreeNumber, toTreeNumber } from './numbers.js';
import { bitLength, isPowerOfTwo, isSubtree, shiftRight, trailingZeros } from './tree-math.js';
import { checkProof, verifyInclusion } from './verify.js';

/** Verifies that `leafHash` is leaf `index` of the subtree [start, end) whose hash is `subtreeRoot`. */
export function verifySubtreeInclusion(
  hasher: LogHasher,
  index: TreeNumber,
  start: TreeNumber,
  end: TreeNumber,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  subtreeRoot: Uint8Array,
): void {
  const i = toTreeNumber(index, 'index');
  const s = toTreeNumber(start, 'start');
  const e = toTreeNumber(end, 'end');
  if (!isSubtree(s, e)) throw notSubtree(s, e);
  if (i < s || i >= e) {
    throw new LedgerError('LEDGER_INDEX_OUT_OF_RANGE', `leaf ${i} is outside the subtree [${s}, ${e})`, {
      context: { index: i, start: s, end: e },
    });
  }
  verifyInclusion(hasher, i - s, e - s, leafHash, proof, subtreeRoot);
}

/**
 * Verifies that the subtree [start, end) with hash `subtreeRoot` is part of the tree of `size` leaves with root
 * `root`. An empty subtree (start = end ≤ size, hash HASH(""), empty proof) is vacuously consistent with any
 * tree, as in transparency-dev/merkle: it says nothing about `root`, which is not examined. When the subtree is
 * the whole tree only the equality of the two roots is checked.
 */
export function verifySubtreeConsistency(
  hasher: LogHasher,
  start: TreeNumber,
  end: TreeNumber,
  size: TreeNumber,
  proof: readonly Uint8Array[],
  subtreeRoot: Uint8Array,
  root: Uint8Array,
): void {
  const s = toTreeNumber(start, 'start');
  const e = toTreeNumber(end, 'end');
  const n = toTreeNumber(size, 'size');
  const path = checkProof(hasher, proof);
  if (!(subtreeRoot instanceof Uint8Array) || !(root instanceof Uint8Array)) {
    throw new LedgerError('LEDGER_BAD_ARGUMENT', 'roots must be byte arrays');
  }
  if (s > e) throw notSubtree(s, e);
  if (e > n) {
    throw new LedgerError('LEDGER_INDEX_OUT_OF_RANGE', `subtree end ${e} is beyond tree size ${n}`, {
      context: { start: s, end: e, size: n },
    });
  }
  if (s === e) {
    if (path.length !== 0) throw new LedgerError('LEDGER_PROOF_SIZE', 'an empty subtree has an empty proof');
    if (!bytesEqual(subtreeRoot, hasher.emptyRoot())) {
      throw new LedgerError('LEDGER_ROOT_MISMATCH', 'an empty subtree hashes to HASH("")');
    }
    return;
  }
  if (!isSubtree(s, e)) throw notSubtree(s, e);
  if (s === 0 && e === n) {
    if (path.length !== 0) throw new LedgerError('LEDGER_PROOF_SIZE', 'the whole tree has an empty proof');
    if (!bytesEqual(subtreeRoot, root)) {
      throw new LedgerError('LEDGER_ROOT_MISMATCH', 'the subtree is the whole tree but the roots differ');
    }
    return;
  }
  expectHash(subtreeRoot, hasher.size, 'subtree root', 'LEDGER_BAD_ARGUMENT');
  expectHash(root, hasher.size, 'root', 'LEDGER_BAD_ARGUMENT');
  if (path.length === 0) throw new LedgerError('LEDGER_PROOF_SIZE', 'empty subtree consistency proof');

  // Height of the subtree's own root, and of the rightmost perfect subtree inside it.
  const height = bitLength(e - s - 1);
  // When the subtree is perfect, or ends where the tree ends, its hash is itself a node on the path from leaf
  // end − 1 and the proof starts above it; otherwise the proof starts with the rightmost perfect part.
  const seeded = isPowerOfTwo(e - s) || e === n;
  let level = seeded ? height : trailingZeros(e - s);
  const nodes = seeded ? [subtreeRoot, ...path] : path;
  let fn = shiftRight(e - 1, level);
  let sn = shiftRight(n - 1, level);
  let fr = nodes[0]!;
  let sr = nodes[0]!;
  for (const c of nodes.slice(1)) {
    if (sn === 0) throw new LedgerError('LEDGER_PROOF_SIZE', 'subtree consistency proof is too long');
    if (fn === sn) {
      // On the right border of both: a left child with no right sibling is carried up unchanged.
      while (fn % 2 === 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
        level++;
      }
    }
    if (fn % 2 === 1) {
      // c is a left sibling; below the subtree's height it is inside the subtree.
      if (level < height) fr = hasher.hashChildren(c, fr);
      sr = hasher.hashChildren(c, sr);
    } else {
      // c is a right sibling, beyond the subtree.
      sr = hasher.hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
    level++;
  }
  if (sn !== 0) throw new LedgerError('LEDGER_PROOF_SIZE', 'subtree consistency proof is too short');
  if (!seeded && !bytesEqual(fr, subtreeRoot)) {
    throw new LedgerError(
      'LEDGER_ROOT_MISMATCH',
      'subtree consistency proof does not lead to the subtree root',
      {
        context: { start: s, end: e, size: n, which: 'subtree' },
      },
    );
  }
  if (!bytesEqual(sr, root)) {
    throw new LedgerError(
      'LEDGER_ROOT_MISMATCH',
      'subtree consistency proof does not lead to the tree root',
      {
        context: { start: s, end: e, size: n, which: 'tree' },
      },
    );
  }
}

function notSubtree(start: number, end: number): LedgerError {
  return new LedgerError('LEDGER_BAD_ARGUMENT', `[${start}, ${end}) is not a subtree`, {
    context: { start, end },
  });
}
