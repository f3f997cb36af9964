/**
 * The flush (缓存数据落库): moves buffered entries from the Redis streams to the database, idempotently.
 *
 * One round reads the oldest `batchSize` entries of a stream (XRANGE) and, in ONE database transaction, writes
 * those after the stream's committed offset (`write_buffer_offsets.last_id`) and advances the offset to the last
 * one — by a conditional UPDATE, so two flushers (two servers, or the job and a shutdown) never both commit the
 * same entries. Only then are the entries deleted from Redis (XDEL). A process killed between the commit and the
 * XDEL leaves entries at or below the offset in Redis: the next round skips them and deletes them. Nothing is
 * deleted from Redis before it is committed, so a kill at any point loses nothing.
 *
 * API log: each period's table is created before the transaction (api-log-periods.ts); entries take the chain's
 * next seq numbers from the head kept with the offset (initially the head of `api_logs`), hashed exactly as
 * appendToChain does, so the chain runs on unbroken from `api_logs` through the period tables. The API-call
 * statistics of the entries are counted in the same transaction (evidence counts are not buffered: they are
 * written in the evidence transaction itself).
 */
import type { Redis } from 'ioredis';
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { chainHash, GENESIS, type ApiLogEntry } from '../audit/hash-chain.js';
import { ensurePeriodTable, periodOf, periodTable } from '../audit/api-log-periods.js';
import { isoTime } from '../context.js';
import { isDeadlock, isUniqueViolation } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { apiCallEvents, recordStats } from '../stats/repo.js';
import { field, parseApiLogEntry } from './entries.js';
import { compareStreamIds, ZERO_ID } from './stream-id.js';
import { bufferDb, type BufferStream } from './tables.js';

/** PostgreSQL advisory lock of the API-log chain (the one hash-chain.ts takes). */
const API_LOG_CHAIN_LOCK = 0x59_5a_41_4c;

export interface FlushTarget {
  db: Kysely<Database>;
  redis: Redis;
  now(): number;
}

export interface StreamKeys {
  apiLog: string;
}

export function streamKeys(prefix: string): StreamKeys {
  return { apiLog: `${prefix}api-log` };
}

export interface RoundResult {
  /** Entries read from Redis this round. */
  read: number;
  /** Entries written to the database. */
  written: number;
  /** Entries already committed by an interrupted earlier flush (skipped, then deleted from Redis). */
  skipped: number;
  /** Malformed entries, moved to `<key>:rejected`. */
  rejected: number;
  /** Another flusher committed first: nothing was written, the round can be retried. */
  conflict: boolean;
}

class OffsetMoved extends Error {}

/** Fault injection for tests: `afterCommit` runs between the database commit and the Redis trim. */
export interface RoundHooks {
  afterCommit?(): Promise<void>;
}

type Tx = Kysely<Database>;

async function readOffset(db: Tx, stream: BufferStream) {
  return bufferDb(db)
    .selectFrom('write_buffer_offsets')
    .selectAll()
    .where('stream', '=', stream)
    .executeTakeFirst();
}

/** Advances the offset from `from` (undefined: no row yet) to `to`; throws OffsetMoved when someone else did. */
async function advanceOffset(
  db: Tx,
  stream: BufferStream,
  from: string | undefined,
  to: string,
  head: { seq: number; hash: string } | null,
  now: number,
): Promise<void> {
  const b = bufferDb(db);
  const values = {
    last_id: to,
    head_seq: head?.seq ?? null,
    head_hash: head?.hash ?? null,
    updated_at: isoTime(now),
  };
  if (from === undefined) {
    await b
      .insertInto('write_buffer_offsets')
      .values({ stream, ...values })
      .execute();
    return;
  }
  const r = await b
    .updateTable('write_buffer_offsets')
    .set(values)
    .where('stream', '=', stream)
    .where('last_id', '=', from)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new OffsetMoved();
}

interface Read<T> {
  ids: string[];
  fresh: { id: string; value: T }[];
  skipped: number;
  rejected: { id: string; fields: string[] }[];
  offset: string | undefined;
}

async function readRound<T>(
  t: FlushTarget,
  key: string,
  stream: BufferStream,
  name: string,
  parse: (text: string) => T | undefined,
  batchSize: number,
): Promise<Read<T>> {
  const raw = await t.redis.xrange(key, '-', '+', 'COUNT', batchSize);
  const offset = (await readOffset(t.db, stream))?.last_id;
  const out: Read<T> = { ids: [], fresh: [], skipped: 0, rejected: [], offset };
  for (const [id, fields] of raw) {
    out.ids.push(id);
    if (compareStreamIds(id, offset ?? ZERO_ID) <= 0) {
      out.skipped++;
      continue;
    }
    const text = field(fields, name);
    const value = text === undefined ? undefined : parse(text);
    if (value === undefined) out.rejected.push({ id, fields });
    else out.fresh.push({ id, value });
  }
  return out;
}

/** Deletes committed (and set-aside) entries from Redis. */
async function trim(t: FlushTarget, key: string, read: Read<unknown>): Promise<void> {
  if (read.ids.length === 0) return;
  const p = t.redis.pipeline();
  for (const r of read.rejected) p.xadd(`${key}:rejected`, '*', 'id', r.id, ...r.fields);
  for (let i = 0; i < read.ids.length; i += 1000) p.xdel(key, ...read.ids.slice(i, i + 1000));
  const results = await p.exec();
  for (const [err] of results ?? []) if (err) throw err;
}

function lastId(read: Read<unknown>): string | undefined {
  // The offset moves over rejected entries too: they are set aside, not retried.
  const ids = [...read.fresh.map((f) => f.id), ...read.rejected.map((r) => r.id)];
  return ids.sort(compareStreamIds).at(-1);
}

/** One round of the API-log stream. */
export async function flushApiLogRound(
  t: FlushTarget,
  key: string,
  batchSize: number,
  hooks: RoundHooks = {},
): Promise<RoundResult> {
  const read = await readRound(t, key, 'api_log', 'e', parseApiLogEntry, batchSize);
  const result: RoundResult = {
    read: read.ids.length,
    written: 0,
    skipped: read.skipped,
    rejected: read.rejected.length,
    conflict: false,
  };
  const to = lastId(read);
  if (to !== undefined) {
    const now = t.now();
    for (const period of new Set(read.fresh.map((f) => periodOf(f.value.at))))
      await ensurePeriodTable(t.db, period, now);
    try {
      await t.db.transaction().execute(async (trx) => {
        if (trx.getExecutor().adapter instanceof PostgresAdapter)
          await sql`SELECT pg_advisory_xact_lock(${API_LOG_CHAIN_LOCK})`.execute(trx);
        const current = await readOffset(trx, 'api_log');
        if (current?.last_id !== read.offset) throw new OffsetMoved();
        let head: { seq: number; hash: string };
        if (current?.head_seq !== null && current?.head_seq !== undefined && current.head_hash !== null)
          head = { seq: Number(current.head_seq), hash: current.head_hash };
        else {
          const last = await trx
            .selectFrom('api_logs')
            .select(['seq', 'hash'])
            .orderBy('seq', 'desc')
            .limit(1)
            .executeTakeFirst();
          head = last === undefined ? { seq: 0, hash: GENESIS } : { seq: Number(last.seq), hash: last.hash };
        }
        const byPeriod = new Map<
          string,
          (ApiLogEntry & { seq: number; prev_hash: string; hash: string })[]
        >();
        for (const { value } of read.fresh) {
          const seq = head.seq + 1;
          const hash = chainHash(head.hash, { ...value, seq });
          const period = periodOf(value.at);
          let rows = byPeriod.get(period);
          if (rows === undefined) byPeriod.set(period, (rows = []));
          rows.push({ ...value, seq, prev_hash: head.hash, hash });
          head = { seq, hash };
        }
        for (const [period, rows] of byPeriod) {
          const table = periodTable(period) as 'api_logs';
          for (let i = 0; i < rows.length; i += 200)
            await trx
              .insertInto(table)
              .values(rows.slice(i, i + 200))
              .execute();
          await bufferDb(trx)
            .updateTable('api_log_periods')
            .set({
              min_seq: sql<number>`COALESCE(min_seq, ${rows[0]!.seq})`,
              max_seq: rows[rows.length - 1]!.seq,
            })
            .where('period', '=', period)
            .execute();
        }
        await recordStats(trx, apiCallEvents(read.fresh.map((f) => f.value)));
        await advanceOffset(trx, 'api_log', read.offset, to, head, now);
      });
      result.written = read.fresh.length;
    } catch (e) {
      if (!(e instanceof OffsetMoved) && !isLostRace(e)) throw e;
      // Another flusher took these entries: it counts them.
      return { ...result, skipped: 0, rejected: 0, conflict: true };
    }
  }
  await hooks.afterCommit?.();
  await trim(t, key, read);
  return result;
}

/** A concurrent flusher inserted the first offset row (or took the same seq) first, or a deadlock victim. */
function isLostRace(e: unknown): boolean {
  return isUniqueViolation(e) || isDeadlock(e);
}

export interface FlushCounts {
  apiLogs: number;
  skipped: number;
  rejected: number;
  rounds: number;
}

/**
 * Flushes both streams until they are empty (or `signal` aborts, or `maxRounds` is reached). Entries arriving
 * meanwhile are taken too, so a shutdown flush leaves nothing behind.
 */
export async function flushAll(
  t: FlushTarget,
  keys: StreamKeys,
  options: { batchSize?: number; signal?: AbortSignal; maxRounds?: number } = {},
): Promise<FlushCounts> {
  const batchSize = options.batchSize ?? 1000;
  const maxRounds = options.maxRounds ?? 10_000;
  const counts: FlushCounts = { apiLogs: 0, skipped: 0, rejected: 0, rounds: 0 };
  while (counts.rounds < maxRounds && options.signal?.aborted !== true) {
    counts.rounds++;
    const a = await flushApiLogRound(t, keys.apiLog, batchSize);
    counts.apiLogs += a.written;
    counts.skipped += a.skipped;
    counts.rejected += a.rejected;
    if (a.read < batchSize && !a.conflict) break;
  }
  return counts;
}
