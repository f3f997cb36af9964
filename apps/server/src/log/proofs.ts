/**
 * Serving proofs, the third piece: inclusion and consistency proofs from the stored tree (O(log n) node reads,
 * `@yizheng/ledger`'s proof builder over the Kysely node store), the stored checkpoints, and the check the
 * evidence `verify` use case runs on a record's leaf.
 */
import type { Sm2PublicKey } from '@yizheng/gm';
import {
  consistencyProof,
  inclusionProof,
  isLedgerError,
  verifyInclusion,
  type LedgerErrorCode,
} from '@yizheng/ledger';
import { nodeLogHasher } from '@yizheng/ledger/node';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { YzError } from '../errors.js';
import { openStoredCheckpoint } from './checkpoints.js';
import {
  checkpointRowAt,
  KyselyNodeStore,
  latestCheckpointRow,
  readLeaf,
  readLogState,
  readTree,
  type CheckpointRow,
} from './repo.js';

/** A tree size or index as a caller may hold it (query strings arrive as decimal text). */
export type LogNumber = number | string | bigint;

export interface LogCheckpoint {
  origin: string;
  hash: 'sm3' | 'sha256';
  size: number;
  rootHash: Uint8Array;
  /** The C2SP signed note, exactly as signed. */
  note: string;
  createdAt: string;
}

export interface InclusionProof {
  index: number;
  treeSize: number;
  leafHash: Uint8Array;
  proof: Uint8Array[];
}

export interface ConsistencyProof {
  from: number;
  to: number;
  proof: Uint8Array[];
}

const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

function toNumber(value: LogNumber, what: string): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : NaN;
  else n = DECIMAL.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new YzError('LOG_PARAMETER_INVALID', `${what} is not a non-negative safe integer`);
  }
  return n;
}

async function withLog(db: Kysely<Database>, row: CheckpointRow): Promise<LogCheckpoint> {
  const state = await readLogState(db);
  return { origin: state.origin, hash: state.hash, ...row };
}

/** The newest signed checkpoint, or undefined before the first one is published. */
export async function latestCheckpoint(db: Kysely<Database>): Promise<LogCheckpoint | undefined> {
  const row = await latestCheckpointRow(db);
  return row === undefined ? undefined : withLog(db, row);
}

/** The signed checkpoint at `size` (LOG_CHECKPOINT_NOT_FOUND when none was published at that size). */
export async function checkpointAt(db: Kysely<Database>, size: LogNumber): Promise<LogCheckpoint> {
  const n = toNumber(size, 'size');
  const row = await checkpointRowAt(db, n);
  if (row === undefined) throw new YzError('LOG_CHECKPOINT_NOT_FOUND', `size ${n}`);
  return withLog(db, row);
}

/**
 * The inclusion proof of leaf `index` in the tree of `treeSize` leaves (default: the latest signed checkpoint's
 * size). Errors: LOG_PARAMETER_INVALID, LOG_SIZE_OUT_OF_RANGE (0 or not integrated yet), LOG_INDEX_OUT_OF_RANGE,
 * LOG_NOT_READY (no size given and no checkpoint yet).
 */
export async function proveInclusion(options: {
  db: Kysely<Database>;
  index: LogNumber;
  treeSize?: LogNumber | undefined;
}): Promise<InclusionProof> {
  const { db } = options;
  const index = toNumber(options.index, 'index');
  let treeSize: number;
  if (options.treeSize === undefined) {
    const latest = await latestCheckpointRow(db);
    if (latest === undefined) throw new YzError('LOG_NOT_READY');
    treeSize = latest.size;
  } else {
    treeSize = toNumber(options.treeSize, 'size');
  }
  const tree = await readTree(db);
  if (treeSize === 0 || treeSize > tree.size) {
    throw new YzError('LOG_SIZE_OUT_OF_RANGE', `size ${treeSize}, integrated size ${tree.size}`);
  }
  if (index >= treeSize) throw new YzError('LOG_INDEX_OUT_OF_RANGE', `index ${index}, size ${treeSize}`);
  const hasher = nodeLogHasher((await readLogState(db)).hash);
  const store = new KyselyNodeStore(db);
  const [proof, leaf] = await Promise.all([
    inclusionProof(hasher, store, index, treeSize),
    store.getNodes([{ level: 0, index }]),
  ]);
  return { index, treeSize, leafHash: leaf[0]!, proof };
}

/**
 * The consistency proof from tree size `from` to `to` (0 < from ≤ to ≤ integrated size; empty when equal).
 * Errors: LOG_PARAMETER_INVALID (not numbers, from = 0, from > to), LOG_SIZE_OUT_OF_RANGE.
 */
export async function proveConsistency(options: {
  db: Kysely<Database>;
  from: LogNumber;
  to: LogNumber;
}): Promise<ConsistencyProof> {
  const { db } = options;
  const from = toNumber(options.from, 'from');
  const to = toNumber(options.to, 'to');
  if (from === 0) throw new YzError('LOG_PARAMETER_INVALID', 'from must be at least 1');
  if (from > to) throw new YzError('LOG_PARAMETER_INVALID', `from ${from} is larger than to ${to}`);
  const tree = await readTree(db);
  if (to > tree.size) throw new YzError('LOG_SIZE_OUT_OF_RANGE', `to ${to}, integrated size ${tree.size}`);
  const hasher = nodeLogHasher((await readLogState(db)).hash);
  const proof = await consistencyProof(hasher, new KyselyNodeStore(db), from, to);
  return { from, to, proof };
}

/** Why a stored entry is not (yet) proven to be the leaf at its index under the latest signed checkpoint. */
export type LogEntryFailure =
  /** No leaf at that index. */
  | 'leaf-missing'
  /** The leaf's stored entry bytes differ from the record's entry. */
  | 'entry-mismatch'
  /** The stored leaf hash is not HASH(0x00 || entry). */
  | 'leaf-hash-mismatch'
  /** The tree's stored leaf node differs from the entry's leaf hash. */
  | 'node-mismatch'
  /** The latest checkpoint's signature, origin or form does not verify with the platform key. */
  | 'checkpoint-invalid'
  /** The inclusion proof from the stored nodes does not lead to the signed root. */
  | 'inclusion-failed';

export type LogEntryVerdict =
  | {
      status: 'included';
      index: number;
      leafHash: Uint8Array;
      checkpoint: LogCheckpoint;
      proof: Uint8Array[];
    }
  /** Sequenced, but no signed checkpoint covers it yet (integration runs asynchronously). */
  | { status: 'pending'; index: number; leafHash: Uint8Array }
  | { status: 'tampered'; index: number; failure: LogEntryFailure; detail: string };

/**
 * Checks that `entry` is the leaf at `index` and that the leaf is included under the latest signed checkpoint,
 * verified with the platform's public key by `@yizheng/ledger`'s verifier (not trusting the stored root).
 */
export async function verifyLogEntry(options: {
  db: Kysely<Database>;
  index: number;
  entry: Uint8Array;
  publicKey: Sm2PublicKey;
}): Promise<LogEntryVerdict> {
  const { db, index, entry } = options;
  const tampered = (failure: LogEntryFailure, detail: string): LogEntryVerdict => ({
    status: 'tampered',
    index,
    failure,
    detail,
  });
  const state = await readLogState(db);
  const hasher = nodeLogHasher(state.hash);
  const leafHash = hasher.hashLeaf(entry);
  const leaf = await readLeaf(db, index);
  if (leaf === undefined) return tampered('leaf-missing', `no leaf at index ${index}`);
  if (!sameBytes(leaf.entry, entry)) return tampered('entry-mismatch', `leaf ${index} holds other bytes`);
  if (!sameBytes(leaf.leafHash, leafHash)) {
    return tampered('leaf-hash-mismatch', `stored leaf hash of ${index} is not the hash of its entry`);
  }
  const row = await latestCheckpointRow(db);
  if (row === undefined || index >= row.size) return { status: 'pending', index, leafHash };
  let size: number;
  let root: Uint8Array;
  try {
    const opened = openStoredCheckpoint(row.note, options.publicKey, state.origin);
    size = opened.checkpoint.size;
    root = opened.checkpoint.rootHash;
  } catch (e) {
    if (isLedgerError(e)) return tampered('checkpoint-invalid', `${e.code}: ${e.message}`);
    throw e;
  }
  if (size !== row.size) return tampered('checkpoint-invalid', `stored size ${row.size}, signed ${size}`);
  if (index >= size) return { status: 'pending', index, leafHash };
  const store = new KyselyNodeStore(db);
  let proof: Uint8Array[];
  try {
    const [node] = await store.getNodes([{ level: 0, index }]);
    if (!sameBytes(node!, leafHash)) return tampered('node-mismatch', `tree leaf node ${index} differs`);
    proof = await inclusionProof(hasher, store, index, size);
    verifyInclusion(hasher, index, size, leafHash, proof, root);
  } catch (e) {
    if (isLedgerError(e)) return tampered(failureOf(e.code), `${e.code}: ${e.message}`);
    throw e;
  }
  return {
    status: 'included',
    index,
    leafHash,
    checkpoint: { origin: state.origin, hash: state.hash, ...row },
    proof,
  };
}

function failureOf(code: LedgerErrorCode): LogEntryFailure {
  return code === 'LEDGER_NODE_MISSING' ? 'node-mismatch' : 'inclusion-failed';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
