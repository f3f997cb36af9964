/**
 * SQL of the Merkle log, and the Kysely-backed {@link NodeStore} the ledger's integrator and proof builder read.
 * Hashes are stored as raw bytes (bytea / varbinary / blob); 64-bit integers are normalised with `Number()`.
 */
import { nodeLogHasher } from '@yizheng/ledger/node';
import {
  LedgerError,
  treeMath,
  type LogHasher,
  type NodeId,
  type NodeStore,
  type StoredNode,
} from '@yizheng/ledger';
import { MysqlAdapter, SqliteAdapter, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** Rows per multi-row INSERT (3–4 parameters each: far below every dialect's parameter limit). */
const INSERT_CHUNK = 500;

type Q = Kysely<Database>;

export const toBytes = (v: Uint8Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

export function isMysql(db: Q): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}

export function isSqlite(db: Q): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

export interface LogStateRow {
  nextIndex: number;
  hash: 'sm3' | 'sha256';
  origin: string;
}

export async function readLogState(db: Q): Promise<LogStateRow> {
  const row = await db
    .selectFrom('log_state')
    .select(['next_index', 'hash_alg', 'origin'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return { nextIndex: Number(row.next_index), hash: row.hash_alg, origin: row.origin };
}

/** The log's hasher, from its stored hash name. */
export async function logHasher(db: Q): Promise<LogHasher> {
  return nodeLogHasher((await readLogState(db)).hash);
}

export interface TreeRow {
  size: number;
  root: Uint8Array | undefined;
}

/**
 * The integrated tree size and root. With `lock`, the row is locked until the transaction ends (FOR UPDATE on
 * PostgreSQL and MySQL; SQLite transactions hold the database write lock from BEGIN IMMEDIATE anyway), which
 * serialises integrators and checkpoint publishers across processes.
 */
export async function readTree(db: Q, options: { lock?: boolean } = {}): Promise<TreeRow> {
  let q = db.selectFrom('log_tree').select(['size', 'root_hash']).where('id', '=', 1);
  if (options.lock === true && !isSqlite(db)) q = q.forUpdate();
  const row = await q.executeTakeFirstOrThrow();
  return { size: Number(row.size), root: row.root_hash === null ? undefined : toBytes(row.root_hash) };
}

export async function writeTree(db: Q, size: number, root: Uint8Array, at: string): Promise<void> {
  await db
    .updateTable('log_tree')
    .set({ size, root_hash: root, updated_at: at })
    .where('id', '=', 1)
    .execute();
}

export async function insertLeaves(
  db: Q,
  first: number,
  entries: readonly Uint8Array[],
  leafHashes: readonly Uint8Array[],
): Promise<void> {
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    const rows = entries.slice(i, i + INSERT_CHUNK).map((entry, j) => ({
      idx: first + i + j,
      entry,
      leaf_hash: leafHashes[i + j]!,
    }));
    await db.insertInto('log_leaves').values(rows).execute();
  }
}

/** Leaf hashes from `from` on, at most `limit`, in index order. */
export async function readLeafHashes(
  db: Q,
  from: number,
  limit: number,
): Promise<{ idx: number; leafHash: Uint8Array }[]> {
  const rows = await db
    .selectFrom('log_leaves')
    .select(['idx', 'leaf_hash'])
    .where('idx', '>=', from)
    .orderBy('idx')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ idx: Number(r.idx), leafHash: toBytes(r.leaf_hash) }));
}

export async function readLeaf(
  db: Q,
  index: number,
): Promise<{ entry: Uint8Array; leafHash: Uint8Array } | undefined> {
  const row = await db
    .selectFrom('log_leaves')
    .select(['entry', 'leaf_hash'])
    .where('idx', '=', index)
    .executeTakeFirst();
  return row === undefined ? undefined : { entry: toBytes(row.entry), leafHash: toBytes(row.leaf_hash) };
}

export async function insertNodes(db: Q, nodes: readonly StoredNode[]): Promise<void> {
  for (let i = 0; i < nodes.length; i += INSERT_CHUNK) {
    const rows = nodes
      .slice(i, i + INSERT_CHUNK)
      .map((n) => ({ level: n.id.level, idx: n.id.index, hash: n.hash }));
    await db.insertInto('log_nodes').values(rows).execute();
  }
}

/** The stored tree as the ledger sees it: one batched read per request of O(log n) nodes. */
export class KyselyNodeStore implements NodeStore {
  readonly #db: Q;
  constructor(db: Q) {
    this.#db = db;
  }

  async getNodes(ids: readonly NodeId[]): Promise<Uint8Array[]> {
    if (ids.length === 0) return [];
    const rows = await this.#db
      .selectFrom('log_nodes')
      .select(['level', 'idx', 'hash'])
      .where((eb) => eb.or(ids.map((id) => eb.and([eb('level', '=', id.level), eb('idx', '=', id.index)]))))
      .execute();
    const byKey = new Map(rows.map((r) => [`${r.level}/${Number(r.idx)}`, toBytes(r.hash)]));
    return ids.map((id) => {
      const hash = byKey.get(`${id.level}/${id.index}`);
      if (hash === undefined) {
        const key = treeMath.nodeKey(id);
        throw new LedgerError('LEDGER_NODE_MISSING', `node ${key} is not in log_nodes`, {
          context: { node: key },
        });
      }
      return hash;
    });
  }
}

export interface CheckpointRow {
  size: number;
  rootHash: Uint8Array;
  note: string;
  createdAt: string;
}

function checkpointOf(r: {
  size: number | string;
  root_hash: Uint8Array;
  note: string;
  created_at: string;
}): CheckpointRow {
  return { size: Number(r.size), rootHash: toBytes(r.root_hash), note: r.note, createdAt: r.created_at };
}

export async function latestCheckpointRow(db: Q): Promise<CheckpointRow | undefined> {
  const row = await db
    .selectFrom('log_checkpoints')
    .select(['size', 'root_hash', 'note', 'created_at'])
    .orderBy('size', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : checkpointOf(row);
}

export async function checkpointRowAt(db: Q, size: number): Promise<CheckpointRow | undefined> {
  const row = await db
    .selectFrom('log_checkpoints')
    .select(['size', 'root_hash', 'note', 'created_at'])
    .where('size', '=', size)
    .executeTakeFirst();
  return row === undefined ? undefined : checkpointOf(row);
}

export async function insertCheckpoint(db: Q, row: CheckpointRow): Promise<void> {
  await db
    .insertInto('log_checkpoints')
    .values({ size: row.size, root_hash: row.rootHash, note: row.note, created_at: row.createdAt })
    .execute();
}
