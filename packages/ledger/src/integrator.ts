/**
 * Integration, the second of the log's three pieces (sequencing → integration → serving proofs). The sequencer
 * has already given each leaf a durable index; the integrator folds a batch of leaf hashes into the tree and
 * returns the perfect-subtree nodes that became complete, for the caller to persist in the same transaction as
 * the new tree size. It reads only the O(log n) nodes of the old tree's compact range.
 */
import { CompactRange } from './compact-range.js';
import { LedgerError } from './errors.js';
import type { LogHasher } from './hash.js';
import { type NodeStore, readNodes, type StoredNode } from './node-store.js';
import { type TreeNumber, toTreeNumber } from './numbers.js';
import { perfectSubtrees } from './tree-math.js';

export interface IntegrationResult {
  /** Tree size after the batch. */
  readonly newSize: number;
  /** MTH(D[0:newSize]). */
  readonly root: Uint8Array;
  /** Every perfect node completed by the batch, leaves included, lowest first per leaf. */
  readonly nodes: StoredNode[];
}

/**
 * Appends `leafHashes` (RFC 9162 leaf hashes, HASH(0x00 || entry)) to the tree of size `oldSize` held in
 * `store`. Pure with respect to the store: nothing is written; persist `nodes` and `newSize` together.
 */
export async function integrate(
  hasher: LogHasher,
  store: NodeStore,
  oldSize: TreeNumber,
  leafHashes: readonly Uint8Array[],
): Promise<IntegrationResult> {
  const size = toTreeNumber(oldSize, 'oldSize');
  const input: unknown = leafHashes;
  if (!Array.isArray(input)) {
    throw new LedgerError('LEDGER_BAD_ARGUMENT', 'leafHashes must be an array');
  }
  leafHashes.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== hasher.size) {
      throw new LedgerError('LEDGER_BAD_ARGUMENT', `leaf hash ${i} is not ${hasher.size} bytes`, {
        context: { leaf: i },
      });
    }
  });
  if (!Number.isSafeInteger(size + leafHashes.length)) {
    throw new LedgerError('LEDGER_BAD_ARGUMENT', 'the tree would exceed 2^53 - 1 leaves');
  }
  const frontier = await readNodes(hasher, store, perfectSubtrees(size));
  const range = new CompactRange(hasher, 0, size, frontier);
  const nodes: StoredNode[] = [];
  const visit = (id: StoredNode['id'], hash: Uint8Array): void => {
    nodes.push({ id, hash });
  };
  for (const leaf of leafHashes) range.append(leaf, visit);
  return { newSize: range.end, root: range.rootHash(), nodes };
}
