/** One negative test per error code, through the public face, asserting the code; and no raw TypeError/RangeError. */
import { describe, expect, it } from 'vitest';
import {
  createLogHasher,
  inclusionProof,
  consistencyProof,
  integrate,
  InMemoryNodeStore,
  isLedgerError,
  type LedgerError,
  openCheckpoint,
  rootAt,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
  CompactRange,
  type LedgerErrorCode,
  type NodeStore,
} from './index.js';
import { sha256LogHasher as hasher } from './node.js';
import { expectCode, expectRejectCode } from './testing/expect-code.js';

const leaf = (i: number): Uint8Array => hasher.hashLeaf(Uint8Array.of(i));

async function tree(
  n: number,
): Promise<{ store: InMemoryNodeStore; root: Uint8Array; leaves: Uint8Array[] }> {
  const store = new InMemoryNodeStore();
  const leaves = Array.from({ length: n }, (_, i) => leaf(i));
  const r = await integrate(hasher, store, 0, leaves);
  store.putNodes(r.nodes);
  return { store, root: r.root, leaves };
}

describe('error codes', () => {
  it('LEDGER_PROOF_INVALID: a proof hash of the wrong length', async () => {
    const { store, root, leaves } = await tree(5);
    const proof = await inclusionProof(hasher, store, 1, 5);
    proof[1] = proof[1]!.subarray(0, 31);
    expectCode(() => {
      verifyInclusion(hasher, 1, 5, leaves[1]!, proof, root);
    }, 'LEDGER_PROOF_INVALID');
    expectCode(() => {
      verifyInclusion(hasher, 1, 5, leaves[1]!, [null, 'x'] as unknown as Uint8Array[], root);
    }, 'LEDGER_PROOF_INVALID');
  });

  it('LEDGER_PROOF_SIZE: one hash too many or too few', async () => {
    const { store, root, leaves } = await tree(6);
    const proof = await inclusionProof(hasher, store, 2, 6);
    expectCode(() => {
      verifyInclusion(hasher, 2, 6, leaves[2]!, proof.slice(1), root);
    }, 'LEDGER_PROOF_SIZE');
    expectCode(() => {
      verifyInclusion(hasher, 2, 6, leaves[2]!, [...proof, root], root);
    }, 'LEDGER_PROOF_SIZE');
    const c = await consistencyProof(hasher, store, 3, 6);
    const root3 = await rootAt(hasher, store, 3);
    expectCode(() => {
      verifyConsistency(hasher, 3, 6, c.slice(0, -1), root3, root);
    }, 'LEDGER_PROOF_SIZE');
    expectCode(() => {
      verifyConsistency(hasher, 6, 6, [root], root, root);
    }, 'LEDGER_PROOF_SIZE');
    expectCode(() => {
      verifyInclusion(
        hasher,
        2,
        6,
        leaves[2]!,
        Array.from({ length: 1000 }, () => root),
        root,
      );
    }, 'LEDGER_PROOF_SIZE');
  });

  it('LEDGER_ROOT_MISMATCH: right shape, wrong tree', async () => {
    const { store, root, leaves } = await tree(7);
    const proof = await inclusionProof(hasher, store, 4, 7);
    expectCode(() => {
      verifyInclusion(hasher, 4, 7, leaves[3]!, proof, root);
    }, 'LEDGER_ROOT_MISMATCH');
    const root4 = await rootAt(hasher, store, 4);
    const c = await consistencyProof(hasher, store, 4, 7);
    expectCode(() => {
      verifyConsistency(hasher, 4, 7, c, root4, root4);
    }, 'LEDGER_ROOT_MISMATCH');
    expectCode(() => {
      verifyConsistency(hasher, 7, 7, [], root4, root);
    }, 'LEDGER_ROOT_MISMATCH');
    expectCode(() => {
      verifySubtreeConsistency(hasher, 4, 6, 7, [leaf(0), leaf(1)], root4, root);
    }, 'LEDGER_ROOT_MISMATCH');
  });

  it('LEDGER_INDEX_OUT_OF_RANGE: index ≥ size, m > n, m = 0', async () => {
    const { store, root, leaves } = await tree(4);
    expectCode(() => {
      verifyInclusion(hasher, 4, 4, leaves[0]!, [], root);
    }, 'LEDGER_INDEX_OUT_OF_RANGE');
    expectCode(() => rootFromInclusionProof(hasher, 0, 0, leaves[0]!, []), 'LEDGER_INDEX_OUT_OF_RANGE');
    expectCode(() => {
      verifyConsistency(hasher, 5, 4, [], root, root);
    }, 'LEDGER_INDEX_OUT_OF_RANGE');
    expectCode(() => {
      verifyConsistency(hasher, 0, 4, [], root, root);
    }, 'LEDGER_INDEX_OUT_OF_RANGE');
    expectCode(() => {
      verifySubtreeInclusion(hasher, 4, 0, 4, leaves[0]!, [], root);
    }, 'LEDGER_INDEX_OUT_OF_RANGE');
    expectCode(() => {
      verifySubtreeConsistency(hasher, 0, 4, 3, [], root, root);
    }, 'LEDGER_INDEX_OUT_OF_RANGE');
    await expectRejectCode(inclusionProof(hasher, store, 4, 4), 'LEDGER_INDEX_OUT_OF_RANGE');
    await expectRejectCode(consistencyProof(hasher, store, 0, 4), 'LEDGER_INDEX_OUT_OF_RANGE');
    await expectRejectCode(consistencyProof(hasher, store, 4, 3), 'LEDGER_INDEX_OUT_OF_RANGE');
  });

  it('LEDGER_CHECKPOINT_INVALID and LEDGER_CHECKPOINT_SIGNATURE', () => {
    expectCode(() => openCheckpoint('origin\n1\nnot base64\n', []), 'LEDGER_CHECKPOINT_INVALID');
    const unsigned = `origin\n0\n${Buffer.from(hasher.emptyRoot()).toString('base64')}\n\n— someone AAAAAAE=\n`;
    expectCode(() => openCheckpoint(unsigned, []), 'LEDGER_CHECKPOINT_SIGNATURE');
  });

  it('LEDGER_NODE_MISSING: a size the tree has not reached, or a store that answers wrongly', async () => {
    const { store } = await tree(5);
    await expectRejectCode(inclusionProof(hasher, store, 1, 9), 'LEDGER_NODE_MISSING');
    await expectRejectCode(rootAt(hasher, store, 6), 'LEDGER_NODE_MISSING');
    const short: NodeStore = { getNodes: () => Promise.resolve([]) };
    await expectRejectCode(integrate(hasher, short, 5, []), 'LEDGER_NODE_MISSING');
    const wrong: NodeStore = { getNodes: (ids) => Promise.resolve(ids.map(() => new Uint8Array(3))) };
    await expectRejectCode(consistencyProof(hasher, wrong, 2, 5), 'LEDGER_NODE_MISSING');
  });

  it('LEDGER_BAD_ARGUMENT: numbers, hashes and options of the wrong form', async () => {
    const { store, root, leaves } = await tree(4);
    const badNumbers: unknown[] = [
      -1,
      1.5,
      Number.NaN,
      Infinity,
      2 ** 53,
      -1n,
      2n ** 64n,
      '',
      '-1',
      '01',
      '1e3',
      ' 1',
      '0x10',
      '9223372036854775810',
      null,
      undefined,
      {},
      [],
      true,
    ];
    for (const bad of badNumbers) {
      const n = bad as number;
      expectCode(() => {
        verifyInclusion(hasher, n, 4, leaves[0]!, [], root);
      }, 'LEDGER_BAD_ARGUMENT');
      expectCode(() => {
        verifyInclusion(hasher, 0, n, leaves[0]!, [], root);
      }, 'LEDGER_BAD_ARGUMENT');
      expectCode(() => {
        verifyConsistency(hasher, n, 4, [], root, root);
      }, 'LEDGER_BAD_ARGUMENT');
      expectCode(() => {
        verifyConsistency(hasher, 1, n, [], root, root);
      }, 'LEDGER_BAD_ARGUMENT');
      await expectRejectCode(inclusionProof(hasher, store, n, 4), 'LEDGER_BAD_ARGUMENT');
      await expectRejectCode(integrate(hasher, store, n, []), 'LEDGER_BAD_ARGUMENT');
    }
    expectCode(() => {
      verifyInclusion(hasher, 0, 4, new Uint8Array(31), [], root);
    }, 'LEDGER_BAD_ARGUMENT');
    expectCode(() => {
      verifyInclusion(hasher, 0, 4, leaves[0]!, 'proof' as unknown as Uint8Array[], root);
    }, 'LEDGER_BAD_ARGUMENT');
    expectCode(() => {
      verifySubtreeInclusion(hasher, 2, 2, 5, leaves[0]!, [], root);
    }, 'LEDGER_BAD_ARGUMENT');
    await expectRejectCode(integrate(hasher, store, 4, [new Uint8Array(5)]), 'LEDGER_BAD_ARGUMENT');
    expectCode(() => createLogHasher('md5' as 'sm3', () => new Uint8Array(32)), 'LEDGER_BAD_ARGUMENT');
    expectCode(
      () => createLogHasher('sm3', () => new Uint8Array(20)).hash(new Uint8Array(0)),
      'LEDGER_BAD_ARGUMENT',
    );
    expectCode(() => new CompactRange(hasher, 0, 3, []), 'LEDGER_BAD_ARGUMENT');
    expectCode(() => {
      new CompactRange(hasher, 0, 1, [leaf(0)]).appendNode(1, leaf(1));
    }, 'LEDGER_BAD_ARGUMENT');
    expectCode(() => {
      new CompactRange(hasher).merge(new CompactRange(hasher, 2));
    }, 'LEDGER_BAD_ARGUMENT');
    expectCode(() => {
      store.putNodes([{ id: { level: 0, index: 0 }, hash: leaf(9) }]);
    }, 'LEDGER_BAD_ARGUMENT');
  });

  it('accepts sizes as numbers, bigints and decimal strings up to 2^53 - 1', async () => {
    const { store, root, leaves } = await tree(4);
    const proof = await inclusionProof(hasher, store, '3', 4n);
    verifyInclusion(hasher, 3n, '4', leaves[3]!, proof, root);
    expectCode(() => {
      verifyInclusion(hasher, 0, Number.MAX_SAFE_INTEGER, leaves[0]!, [], root);
    }, 'LEDGER_PROOF_SIZE');
    expectCode(() => {
      verifyConsistency(hasher, '9007199254740990', '9007199254740991', [root], root, root);
    }, 'LEDGER_PROOF_SIZE');
  });

  it('never lets garbage escape as a TypeError or RangeError', () => {
    const garbage: unknown[] = [
      undefined,
      null,
      0,
      -1,
      'x',
      {},
      [],
      [null],
      [new Uint8Array(32), 7],
      new Uint8Array(0),
      2n ** 70n,
    ];
    const ok = new Uint8Array(32);
    const codes = new Set<LedgerErrorCode>();
    for (const g of garbage) {
      const calls: (() => unknown)[] = [
        () => {
          verifyInclusion(hasher, g as number, 3, ok, [], ok);
        },
        () => {
          verifyInclusion(hasher, 1, 3, g as Uint8Array, [ok, ok], ok);
        },
        () => {
          verifyInclusion(hasher, 1, 3, ok, g as Uint8Array[], ok);
        },
        () => {
          verifyInclusion(hasher, 1, 3, ok, [ok, ok], g as Uint8Array);
        },
        () => {
          verifyConsistency(hasher, 2, g as number, [ok], ok, ok);
        },
        () => {
          verifyConsistency(hasher, 2, 3, g as Uint8Array[], ok, ok);
        },
        () => {
          verifyConsistency(hasher, 2, 3, [ok, ok], g as Uint8Array, ok);
        },
        () => {
          verifyConsistency(hasher, 2, 2, [], g as Uint8Array, ok);
        },
        () => {
          verifySubtreeConsistency(hasher, 2, 3, 4, g as Uint8Array[], ok, ok);
        },
        () => {
          verifySubtreeConsistency(hasher, 1, 1, 4, [], g as Uint8Array, ok);
        },
        () => {
          verifySubtreeInclusion(hasher, 2, 2, 4, ok, [ok], g as Uint8Array);
        },
        () => {
          openCheckpoint(g as string, []);
        },
      ];
      for (const call of calls) {
        try {
          call();
        } catch (e) {
          expect(isLedgerError(e), String(e)).toBe(true);
          codes.add((e as LedgerError).code);
        }
      }
    }
    expect(codes.size).toBeGreaterThan(3);
  });
});
