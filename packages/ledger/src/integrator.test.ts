/**
 * The independent-root check: leaves go through the integrator in random batches and every root, inclusion
 * proof and consistency proof is checked against a naive recursive MTH written from the RFC in the test
 * helpers, for both log hashes.
 */
import { describe, expect, it } from 'vitest';
import { CompactRange } from './compact-range.js';
import { LedgerError } from './errors.js';
import type { LogHasher } from './hash.js';
import { integrate, type IntegrationResult } from './integrator.js';
import { InMemoryNodeStore } from './node-store.js';
import { sha256LogHasher, sm3LogHasher } from './node.js';
import { consistencyProof, inclusionProof, rootAt } from './proofs.js';
import { expectCode } from './testing/expect-code.js';
import { randomBytes, referenceLeafHash, referenceRoot, seededRandom } from './testing/reference.js';
import { nodeKey } from './tree-math.js';
import { verifySubtreeConsistency } from './subtree-verify.js';
import { verifyConsistency, verifyInclusion } from './verify.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Builds a log of `leaves` through the integrator in the given batch sizes; returns the store and roots per size. */
async function buildLog(
  hasher: LogHasher,
  leaves: readonly Uint8Array[],
  batchSizes: readonly number[],
): Promise<{ store: InMemoryNodeStore; results: IntegrationResult[] }> {
  const store = new InMemoryNodeStore();
  const results: IntegrationResult[] = [];
  let size = 0;
  let b = 0;
  while (size < leaves.length) {
    const take = Math.min(batchSizes[b++ % batchSizes.length]!, leaves.length - size);
    const result = await integrate(hasher, store, size, leaves.slice(size, size + take));
    store.putNodes(result.nodes);
    results.push(result);
    size = result.newSize;
  }
  return { store, results };
}

describe.each([
  ['sha256', sha256LogHasher],
  ['sm3', sm3LogHasher],
])('integrator and proofs with %s', (_name, hasher) => {
  const hash = (d: Uint8Array): Uint8Array => hasher.hash(d);
  const random = seededRandom(9162);
  const N = 300;
  const leaves = Array.from({ length: N }, () =>
    referenceLeafHash(randomBytes(random, 1 + Math.floor(random() * 64)), hash),
  );
  const batches = Array.from({ length: 50 }, () => 1 + Math.floor(random() * 17));

  it('the empty tree hashes to HASH("")', async () => {
    const store = new InMemoryNodeStore();
    const result = await integrate(hasher, store, 0, []);
    expect(result).toEqual({ newSize: 0, root: hash(new Uint8Array(0)), nodes: [] });
    expect(await rootAt(hasher, store, 0)).toEqual(hash(new Uint8Array(0)));
  });

  it('matches the reference root after every random batch and at every size', async () => {
    const { store, results } = await buildLog(hasher, leaves, batches);
    for (const r of results) {
      expect(hex(r.root)).toBe(hex(referenceRoot(leaves.slice(0, r.newSize), hash)));
    }
    expect(results.at(-1)!.newSize).toBe(N);
    for (let size = 0; size <= N; size++) {
      expect(hex(await rootAt(hasher, store, size))).toBe(hex(referenceRoot(leaves.slice(0, size), hash)));
    }
    // Only perfect subtrees are stored: 2N − popcount(N) of them.
    expect(store.count).toBe(2 * N - 4);
  });

  it('stores exactly the same nodes whatever the batching', async () => {
    const one = await buildLog(hasher, leaves, [1]);
    const big = await buildLog(hasher, leaves, [N]);
    const mixed = await buildLog(hasher, leaves, batches);
    const keys = (rs: IntegrationResult[]): string[] =>
      rs.flatMap((r) => r.nodes.map((n) => `${nodeKey(n.id)}=${hex(n.hash)}`)).sort();
    expect(keys(big.results)).toEqual(keys(one.results));
    expect(keys(mixed.results)).toEqual(keys(one.results));
    expect(hex(big.results[0]!.root)).toBe(hex(one.results.at(-1)!.root));
  });

  it('serves an inclusion proof for every leaf of the tree of size N that verifies', async () => {
    const { store, results } = await buildLog(hasher, leaves, batches);
    const root = results.at(-1)!.root;
    for (let i = 0; i < N; i++) {
      const proof = await inclusionProof(hasher, store, i, N);
      verifyInclusion(hasher, i, N, leaves[i]!, proof, root);
    }
  });

  it('serves inclusion proofs at past sizes', async () => {
    const { store } = await buildLog(hasher, leaves, batches);
    for (const size of [1, 2, 3, 5, 64, 65, 127, 200, 299]) {
      const root = referenceRoot(leaves.slice(0, size), hash);
      for (const i of [0, Math.floor(size / 2), size - 1]) {
        verifyInclusion(hasher, i, size, leaves[i]!, await inclusionProof(hasher, store, i, size), root);
      }
    }
  });

  it('serves consistency proofs for every 0 < m ≤ n ≤ 70 that verify', async () => {
    const { store } = await buildLog(hasher, leaves.slice(0, 70), batches);
    const roots = Array.from({ length: 71 }, (_, n) => referenceRoot(leaves.slice(0, n), hash));
    for (let n = 1; n <= 70; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = await consistencyProof(hasher, store, m, n);
        verifyConsistency(hasher, m, n, proof, roots[m]!, roots[n]!);
        // A subtree [0, m) is the tree of size m: the subtree verifier accepts the same proofs.
        verifySubtreeConsistency(hasher, 0, m, n, proof, roots[m]!, roots[n]!);
      }
    }
  });

  it('shuffled batch boundaries give the same root as one-by-one appends', async () => {
    const oneByOne = new CompactRange(hasher);
    for (const leaf of leaves) oneByOne.append(leaf);
    for (let trial = 0; trial < 5; trial++) {
      const sizes: number[] = [];
      for (let left = N; left > 0;) {
        const take = Math.min(left, 1 + Math.floor(random() * 40));
        sizes.push(take);
        left -= take;
      }
      // Fisher–Yates over the batch sizes: a different cut of the same sequence each trial.
      for (let i = sizes.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!];
      }
      const { results } = await buildLog(hasher, leaves, sizes);
      expect(hex(results.at(-1)!.root)).toBe(hex(oneByOne.rootHash()));
    }
  });

  it('merges compact ranges built separately', () => {
    for (const cut of [0, 1, 5, 64, 100, 257, N]) {
      const left = new CompactRange(hasher);
      const right = new CompactRange(hasher, cut);
      leaves.slice(0, cut).forEach((l) => {
        left.append(l);
      });
      leaves.slice(cut).forEach((l) => {
        right.append(l);
      });
      left.merge(right);
      expect(left.end).toBe(N);
      expect(hex(left.rootHash())).toBe(hex(referenceRoot(leaves, hash)));
    }
  });

  it('a compact range over a subtree hashes to its MTH', () => {
    const range = new CompactRange(hasher, 64);
    leaves.slice(64, 100).forEach((l) => {
      range.append(l);
    });
    expect(hex(range.rootHash())).toBe(hex(referenceRoot(leaves.slice(64, 100), hash)));
    const copy = new CompactRange(hasher, range.begin, range.end, range.hashes());
    expect(copy.nodeIds()).toEqual(range.nodeIds());
    expect(hex(copy.clone().rootHash())).toBe(hex(range.rootHash()));
  });

  it('rejects every mutated proof with a LedgerError', async () => {
    const n = 97;
    const { store } = await buildLog(hasher, leaves.slice(0, n), batches);
    const rootN = referenceRoot(leaves.slice(0, n), hash);
    for (let trial = 0; trial < 300; trial++) {
      const i = Math.floor(random() * n);
      const m = 1 + Math.floor(random() * (n - 1));
      const inc = await inclusionProof(hasher, store, i, n);
      const con = await consistencyProof(hasher, store, m, n);
      const rootM = referenceRoot(leaves.slice(0, m), hash);
      const mutate = (proof: Uint8Array[]): Uint8Array[] => {
        const out: Uint8Array[] = proof.map((p) => p.slice());
        const k = Math.floor(random() * Math.max(out.length, 1));
        const target = out[k];
        switch (trial % 3) {
          case 0:
            if (target !== undefined) target[Math.floor(random() * 32)]! ^= 1 << Math.floor(random() * 8);
            else out.push(new Uint8Array(32));
            break;
          case 1:
            out.splice(k, 1);
            if (proof.length === 0) out.push(leaves[0]!);
            break;
          default:
            out.splice(k, 0, leaves[k]!);
        }
        return out;
      };
      expectCode(
        () => {
          verifyInclusion(hasher, i, n, leaves[i]!, mutate(inc), rootN);
        },
        trial % 3 === 0 ? 'LEDGER_ROOT_MISMATCH' : 'LEDGER_PROOF_SIZE',
      );
      if (m < n) {
        expectCode(
          () => {
            verifyConsistency(hasher, m, n, mutate(con), rootM, rootN);
          },
          trial % 3 === 0 ? 'LEDGER_ROOT_MISMATCH' : 'LEDGER_PROOF_SIZE',
        );
      }
      // Right proof, wrong claim: a neighbouring index or size.
      if (i + 1 < n) {
        expect(() => {
          verifyInclusion(hasher, i + 1, n, leaves[i]!, inc, rootN);
        }).toThrow(LedgerError);
      }
    }
  });

  it('detects a tampered node through the proofs', async () => {
    const { store, results } = await buildLog(hasher, leaves.slice(0, 20), [7]);
    const root = results.at(-1)!.root;
    store.tamper({ level: 0, index: 3 }, new Uint8Array(32));
    const proof = await inclusionProof(hasher, store, 2, 20);
    expectCode(() => {
      verifyInclusion(hasher, 2, 20, leaves[2]!, proof, root);
    }, 'LEDGER_ROOT_MISMATCH');
  });
});
