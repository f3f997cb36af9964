/**
 * The hash chain shared by the API log (接口日志) and the operation log (操作日志). Row n stores
 *
 *   prev_hash_n = hash_{n-1}            (GENESIS, 64 zeros, for the first row)
 *   hash_n      = hex SM3( "yizheng-log-v1\n" ‖ prev_hash_n ‖ "\n" ‖ canonicalJson(columns_n) )
 *
 * where columns_n are all the row's columns except `prev_hash` and `hash` (including `seq`), with `seq` as a
 * number. Sequence numbers are contiguous from 1: the next row takes max(seq) + 1 inside a transaction; two
 * writers racing for the same seq collide on the primary key and the loser retries. Changing, deleting or
 * reordering any row breaks the chain at that row, which {@link verifyChain} reports.
 */
import { sm3 } from '@yizheng/gm';
import { MysqlAdapter, PostgresAdapter, sql, type Kysely } from 'kysely';
import { isUniqueViolation } from '../db/connect.js';
import { insertRows } from '../db/insert-rows.js';
import type { ApiLogsTable, Database, OperationLogsTable } from '../db/schema.js';
import { canonicalJson } from './canonical-json.js';

export const GENESIS = '0'.repeat(64);
const DOMAIN = 'yizheng-log-v1\n';

export type ChainTable = 'api_logs' | 'operation_logs';
type Columns<T> = { [K in Exclude<keyof T, 'seq' | 'prev_hash' | 'hash'>]: T[K] };
export type ApiLogEntry = Columns<ApiLogsTable>;
export type OperationLogEntry = Columns<OperationLogsTable>;
export interface EntryFor {
  api_logs: ApiLogEntry;
  operation_logs: OperationLogEntry;
}

type Flat = Record<string, string | number | null>;

const API_LOG_COLUMNS = 13;
const textOrNull = (v: unknown): boolean => v === null || typeof v === 'string';

/**
 * canonicalJson of the columns. An API-log row (one per call: the hot case) of exactly its thirteen columns, each
 * of its declared type, is written by ONE `JSON.stringify` of an object literal in sorted key order, as
 * canonicalRecord does (JSON.stringify keeps the insertion order of non-index keys and escapes strings as
 * canonical JSON does; safe integers print alike), so the bytes are the same without sorting keys or
 * concatenating per-member strings. Anything else goes through the generic serialiser.
 */
function canonicalColumns(c: Flat): string {
  if (
    typeof c.at === 'string' &&
    typeof c.request_id === 'string' &&
    textOrNull(c.app_id) &&
    textOrNull(c.project_id) &&
    typeof c.method === 'string' &&
    typeof c.path === 'string' &&
    typeof c.params === 'string' &&
    typeof c.headers === 'string' &&
    Number.isSafeInteger(c.status) &&
    typeof c.response === 'string' &&
    Number.isSafeInteger(c.duration_ms) &&
    textOrNull(c.error_code) &&
    Number.isSafeInteger(c.seq) &&
    Object.keys(c).length === API_LOG_COLUMNS
  )
    return JSON.stringify({
      app_id: c.app_id,
      at: c.at,
      duration_ms: c.duration_ms,
      error_code: c.error_code,
      headers: c.headers,
      method: c.method,
      params: c.params,
      path: c.path,
      project_id: c.project_id,
      request_id: c.request_id,
      response: c.response,
      seq: c.seq,
      status: c.status,
    });
  return canonicalJson(c);
}

/** The hash of one row, given its predecessor's hash and its columns (seq included, prev_hash/hash excluded). */
export function chainHash(prevHash: string, columns: Flat): string {
  const body = canonicalColumns(columns);
  // sm3 hashes a string as its UTF-8 bytes (as TextEncoder encodes them), without the intermediate copy.
  const h = sm3(`${DOMAIN}${prevHash}\n${body}`);
  return Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('hex');
}

function normaliseRow(row: Record<string, unknown>): {
  seq: number;
  prevHash: string;
  hash: string;
  columns: Flat;
} {
  const columns: Flat = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'prev_hash' || k === 'hash') continue;
    if (k === 'seq') columns[k] = Number(v);
    else if (v === null || typeof v === 'string' || typeof v === 'number') columns[k] = v;
    else if (typeof v === 'bigint') columns[k] = Number(v);
    else columns[k] = JSON.stringify(v);
  }
  return { seq: Number(row.seq), prevHash: String(row.prev_hash), hash: String(row.hash), columns };
}

/** Advisory-lock keys (PostgreSQL) of the two chains; any constants distinct from other advisory locks. */
const CHAIN_LOCK: Readonly<Record<ChainTable, number>> = {
  api_logs: 0x59_5a_41_4c,
  operation_logs: 0x59_5a_4f_4c,
};

/**
 * The chain's head, read so that concurrent appenders inside their own transactions take turns instead of
 * racing for the same seq (a unique violation would abort the caller's whole transaction, with the change it
 * records, and answer its request with a 500):
 * - PostgreSQL takes a transaction-scoped advisory lock first; the head read after it is a new READ COMMITTED
 *   snapshot, so it sees the previous holder's committed row.
 * - MySQL/MariaDB lock the chain's row in `chain_locks` first (a record lock by primary key, held to the end of
 *   the transaction), then read the head with a locking read: under REPEATABLE READ a plain read would answer
 *   from the snapshot the caller's transaction may have taken before the previous holder committed. Locking the
 *   head itself without the row first would deadlock two appenders (both next-key-lock the gap after the head,
 *   then both insert into it).
 * - SQLite writers are already serialised by BEGIN IMMEDIATE.
 * A writer that takes no lock (the API-log group writer, which keeps its head) can still take a seq first; the
 * appender then fails with a unique violation, which {@link appendToChain} retries outside a caller's transaction.
 */
async function lockedHead(
  trx: Kysely<Database>,
  table: ChainTable,
): Promise<{ seq: number | string; hash: string } | undefined> {
  const adapter = trx.getExecutor().adapter;
  const mysql = adapter instanceof MysqlAdapter;
  if (adapter instanceof PostgresAdapter) {
    await sql`SELECT pg_advisory_xact_lock(${CHAIN_LOCK[table]})`.execute(trx);
  } else if (mysql) {
    await trx.selectFrom('chain_locks').select('name').where('name', '=', table).forUpdate().execute();
  }
  const head = trx
    .selectFrom(table as 'api_logs')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1);
  return (mysql ? head.forUpdate() : head).executeTakeFirst();
}

/** Appends one entry to a chain; resolves to its sequence number and hash. Retries a lost race a few times. */
export async function appendToChain<T extends ChainTable>(options: {
  db: Kysely<Database>;
  table: T;
  entry: EntryFor[T];
  maxAttempts?: number;
}): Promise<{ seq: number; hash: string }> {
  const { db, table, entry } = options;
  const maxAttempts = options.maxAttempts ?? 20;
  // Both tables share seq/prev_hash/hash; Kysely is told it is api_logs so one code path serves both.
  const t = table as 'api_logs';
  const append = async (trx: Kysely<Database>): Promise<{ seq: number; hash: string }> => {
    const last = await lockedHead(trx, table);
    const seq = last === undefined ? 1 : Number(last.seq) + 1;
    const prevHash = last === undefined ? GENESIS : last.hash;
    const columns = { ...(entry as Flat), seq };
    const hash = chainHash(prevHash, columns);
    await insertRows(trx, t, [{ ...(entry as ApiLogEntry), seq, prev_hash: prevHash, hash }]);
    return { seq, hash };
  };
  // Inside a caller's transaction the entry commits (or rolls back) with the change it records.
  if (db.isTransaction) return append(db);
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(append);
    } catch (e) {
      if (attempt < maxAttempts && isUniqueViolation(e)) continue;
      throw e;
    }
  }
}

/**
 * Appends several entries, in order, to a chain in ONE transaction (one commit for all): they take the
 * contiguous sequence numbers after the current head, each hashed over its predecessor exactly as
 * {@link appendToChain} does, so the chain is the same as after one append per entry. Throws (the transaction
 * rolls back, nothing is appended) on a lost race with another writer; the caller falls back to appendToChain.
 */
export async function appendManyToChain<T extends ChainTable>(options: {
  db: Kysely<Database>;
  table: T;
  entries: readonly EntryFor[T][];
}): Promise<{ seq: number; hash: string }[]> {
  const { db, entries } = options;
  const t = options.table as 'api_logs';
  if (entries.length === 0) return [];
  const append = async (trx: Kysely<Database>): Promise<{ seq: number; hash: string }[]> => {
    const last = await lockedHead(trx, options.table);
    let seq = last === undefined ? 0 : Number(last.seq);
    let prevHash = last === undefined ? GENESIS : last.hash;
    const rows: (ApiLogEntry & { seq: number; prev_hash: string; hash: string })[] = [];
    for (const entry of entries) {
      seq++;
      const hash = chainHash(prevHash, { ...(entry as Flat), seq });
      rows.push({ ...(entry as ApiLogEntry), seq, prev_hash: prevHash, hash });
      prevHash = hash;
    }
    // Bounded statements: a few hundred rows per INSERT keeps under every dialect's parameter limit.
    for (let i = 0; i < rows.length; i += 200) await insertRows(trx, t, rows.slice(i, i + 200));
    return rows.map((r) => ({ seq: r.seq, hash: r.hash }));
  };
  if (db.isTransaction) return append(db);
  return db.transaction().execute(append);
}

export type ChainVerdict =
  | { ok: true; count: number; head: string }
  | {
      ok: false;
      count: number;
      seq: number;
      reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap';
    };

/** Recomputes the whole chain in order, in pages; reports the first row that does not fit. */
export async function verifyChain(options: {
  db: Kysely<Database>;
  table: ChainTable;
  pageSize?: number;
}): Promise<ChainVerdict> {
  const { db } = options;
  const t = options.table as 'api_logs';
  const pageSize = options.pageSize ?? 1000;
  let prevHash = GENESIS;
  let expectedSeq = 1;
  let count = 0;
  for (;;) {
    const rows = await db
      .selectFrom(t)
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq', 'asc')
      .limit(pageSize)
      .execute();
    for (const raw of rows) {
      const row = normaliseRow(raw);
      if (row.seq !== expectedSeq) return { ok: false, count, seq: expectedSeq, reason: 'sequence_gap' };
      if (row.prevHash !== prevHash) return { ok: false, count, seq: row.seq, reason: 'prev_hash_mismatch' };
      if (chainHash(prevHash, row.columns) !== row.hash)
        return { ok: false, count, seq: row.seq, reason: 'hash_mismatch' };
      prevHash = row.hash;
      expectedSeq++;
      count++;
    }
    if (rows.length < pageSize) return { ok: true, count, head: prevHash };
  }
}
