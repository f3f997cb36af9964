/**
 * The transparency-dev/merkle SHA-256 test vectors (github.com/transparency-dev/merkle, testdata/), read in place
 * from the shared checkout: every file under inclusion/, consistency/, subtreeinclusion/ and subtreeconsistency/.
 * Happy paths must verify; every `wantErr: true` case must be rejected with one of our error codes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLedgerError, type LedgerErrorCode } from './errors.js';
import { sha256LogHasher as hasher } from './node.js';
import { verifySubtreeConsistency, verifySubtreeInclusion } from './subtree-verify.js';
import { verifyConsistency, verifyInclusion } from './verify.js';

const root = fileURLToPath(new URL('../../../../shared/testdata/merkle/', import.meta.url));

const CODES: readonly LedgerErrorCode[] = [
  'LEDGER_PROOF_INVALID',
  'LEDGER_PROOF_SIZE',
  'LEDGER_ROOT_MISMATCH',
  'LEDGER_INDEX_OUT_OF_RANGE',
  'LEDGER_BAD_ARGUMENT',
];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = `${dir}/${name}`;
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (name.endsWith('.json')) out.push(path);
  }
  return out;
}

const b64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'base64'));
// Go's nil slice: `"proof": null` is an empty proof.
const proofOf = (p: string[] | null): Uint8Array[] => (p ?? []).map(b64);

interface Vector {
  desc: string;
  wantErr: boolean;
}

function load<T extends Vector>(folder: string): [string, T][] {
  const all = files(`${root}${folder}`);
  return all.map((f) => [f.slice(root.length), JSON.parse(readFileSync(f, 'utf8')) as T]);
}

/** Where a mutation has one unambiguous reason to fail, the exact code (file name prefix → code). */
const EXACT: readonly [RegExp, LedgerErrorCode][] = [
  [/^modified-proof/, 'LEDGER_ROOT_MISMATCH'],
  [/^swapped-roots/, 'LEDGER_ROOT_MISMATCH'],
  [/^random-root/, 'LEDGER_ROOT_MISMATCH'],
  [
    /^(truncated-proof|empty-proof|removed-component|inserted-component|trailing-root|preceding-root)/,
    'LEDGER_PROOF_SIZE',
  ],
  [/^(trailing|preceding)-garbage/, 'LEDGER_PROOF_INVALID'],
  [/^(invalid-subtree|invalid-large-subtree|start-equals-end|start-larger-than-end)/, 'LEDGER_BAD_ARGUMENT'],
  [/^(oob-left|oob-right|size1-is-greater-than-size2)/, 'LEDGER_INDEX_OUT_OF_RANGE'],
];

/** Runs `check`; for a happy path it must not throw, otherwise it must throw one of our codes. */
function expectOutcome(v: Vector, check: () => void, file = ''): void {
  let thrown: unknown;
  try {
    check();
  } catch (e) {
    thrown = e;
  }
  if (v.wantErr) {
    expect(thrown, 'must be rejected').toBeDefined();
    expect(isLedgerError(thrown), `not a LedgerError: ${String(thrown)}`).toBe(true);
    const code = (thrown as { code: LedgerErrorCode }).code;
    expect(CODES).toContain(code);
    const base = file.slice(file.lastIndexOf('/') + 1);
    const exact = EXACT.find(([re]) => re.test(base));
    if (exact !== undefined) expect(code, base).toBe(exact[1]);
  } else {
    expect(thrown).toBeUndefined();
  }
}

interface InclusionVector extends Vector {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
}

interface ConsistencyVector extends Vector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
}

interface SubtreeInclusionVector extends Vector {
  leafIdx: number;
  start: number;
  end: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
}

interface SubtreeConsistencyVector extends Vector {
  start: number;
  end: number;
  size: number;
  root1: string;
  root2: string;
  proof: string[] | null;
}

describe('transparency-dev/merkle vectors', () => {
  const inclusion = load<InclusionVector>('inclusion');
  const consistency = load<ConsistencyVector>('consistency');
  const subInclusion = load<SubtreeInclusionVector>('subtreeinclusion');
  const subConsistency = load<SubtreeConsistencyVector>('subtreeconsistency');

  it('finds the vector files', () => {
    expect(inclusion.length).toBeGreaterThan(50);
    expect(consistency.length).toBeGreaterThan(50);
    expect(subInclusion.length).toBeGreaterThan(50);
    expect(subConsistency.length).toBeGreaterThan(50);
    const happy = [...inclusion, ...consistency].filter(([, v]) => !v.wantErr).length;
    expect(happy).toBeGreaterThan(5);
  });

  it.each(inclusion)('inclusion %s', (name, v) => {
    expectOutcome(
      v,
      () => {
        verifyInclusion(hasher, v.leafIdx, v.treeSize, b64(v.leafHash), proofOf(v.proof), b64(v.root));
      },
      name,
    );
    if (!v.wantErr) {
      // The same proof with the numbers as they arrive from a query string or a bigint-aware JSON parser.
      verifyInclusion(
        hasher,
        String(v.leafIdx),
        BigInt(v.treeSize),
        b64(v.leafHash),
        proofOf(v.proof),
        b64(v.root),
      );
    }
  });

  it.each(consistency)('consistency %s', (name, v) => {
    expectOutcome(
      v,
      () => {
        verifyConsistency(hasher, v.size1, v.size2, proofOf(v.proof), b64(v.root1), b64(v.root2));
      },
      name,
    );
  });

  it.each(subInclusion)('subtree inclusion %s', (name, v) => {
    const check = (): void => {
      verifySubtreeInclusion(
        hasher,
        v.leafIdx,
        v.start,
        v.end,
        b64(v.leafHash),
        proofOf(v.proof),
        b64(v.root),
      );
    };
    expectOutcome(v, check, name);
  });

  it.each(subConsistency)('subtree consistency %s', (name, v) => {
    expectOutcome(
      v,
      () => {
        verifySubtreeConsistency(
          hasher,
          v.start,
          v.end,
          v.size,
          proofOf(v.proof),
          b64(v.root1),
          b64(v.root2),
        );
      },
      name,
    );
  });
});
