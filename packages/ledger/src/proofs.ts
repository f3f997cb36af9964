/**
 * Serving proofs, the third piece of the log: inclusion (RFC 9162 §2.1.3.1) and consistency (§2.1.4.1) proofs
 * and past roots, assembled from stored perfect-subtree nodes in one batched read of O(log n) nodes. Ephemeral
 * nodes on a ragged right edge are folded from their perfect parts (see {@link ProofEntryPlan}).
 *
 * The caller must only ask about sizes the tree has reached; a node beyond the integrated size is missing from
 * the store and reported as `LEDGER_NODE_MISSING`.
 */
import { foldRight } from './compact-range.js';
import { LedgerError } from './errors.js';
import type { LogHasher } from './hash.js';
import { type NodeStore, readNodes } from './node-store.js';
import { type TreeNumber, toTreeNumber } from './numbers.js';
import {
  consistencyProofPlan,
  inclusionProofPlan,
  nodeKey,
  perfectSubtrees,
  planNodes,
  type ProofEntryPlan,
} from './tree-math.js';

/** The audit path for leaf `index` in the tree of `size` leaves. */
export async function inclusionProof(
  hasher: LogHasher,
  store: NodeStore,
  index: TreeNumber,
  size: TreeNumber,
): Promise<Uint8Array[]> {
  const i = toTreeNumber(index, 'index');
  const n = toTreeNumber(size, 'size');
  if (i >= n) {
    throw new LedgerError('LEDGER_INDEX_OUT_OF_RANGE', `index ${i} is not below tree size ${n}`, {
      context: { index: i, size: n },
    });
  }
  return assemble(hasher, store, inclusionProofPlan(i, n));
}

/** The consistency proof between tree sizes 0 < m ≤ n (empty when m = n). */
export async function consistencyProof(
  hasher: LogHasher,
  store: NodeStore,
  m: TreeNumber,
  n: TreeNumber,
): Promise<Uint8Array[]> {
  const first = toTreeNumber(m, 'm');
  const second = toTreeNumber(n, 'n');
  if (first === 0 || first > second) {
    throw new LedgerError(
      'LEDGER_INDEX_OUT_OF_RANGE',
      `no consistency proof from size ${first} to ${second}`,
      {
        context: { m: first, n: second },
      },
    );
  }
  return assemble(hasher, store, consistencyProofPlan(first, second));
}

/** MTH(D[0:size]) of a tree that has reached `size`, from the O(log size) nodes of its compact range. */
export async function rootAt(hasher: LogHasher, store: NodeStore, size: TreeNumber): Promise<Uint8Array> {
  const n = toTreeNumber(size, 'size');
  return foldRight(hasher, await readNodes(hasher, store, perfectSubtrees(n)));
}

async function assemble(
  hasher: LogHasher,
  store: NodeStore,
  plans: readonly ProofEntryPlan[],
): Promise<Uint8Array[]> {
  const ids = planNodes(plans);
  const hashes = await readNodes(hasher, store, ids);
  const byKey = new Map(ids.map((id, i) => [nodeKey(id), hashes[i]!]));
  return plans.map((plan) =>
    foldRight(
      hasher,
      plan.nodes.map((id) => byKey.get(nodeKey(id))!),
    ),
  );
}
