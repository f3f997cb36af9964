/**
 * The API log's group write (接口日志): a batch of entries appended to the `api_logs` hash chain together with
 * the API-call counts (统计) they make, in ONE round trip on PostgreSQL.
 *
 * The writer keeps the chain head (seq, hash) it last committed, so a batch needs no head read, no advisory lock
 * and no transaction of its own: on PostgreSQL the rows and the three count upserts are one statement
 *
 *   WITH l AS (INSERT INTO api_logs … VALUES (…), … RETURNING 1),
 *        d AS (INSERT INTO stats_daily … SELECT … FROM json_to_recordset($a) … WHERE (SELECT count(*) FROM l) > 0
 *              ON CONFLICT … DO UPDATE …), m AS (… stats_monthly …), y AS (… stats_yearly …)
 *   SELECT count(*) FROM l
 *
 * which commits or rolls back as a whole (autocommit). The counts read `l` first, so every row of the batch is
 * inserted (its seq locked) before a count row is: two writers meet on the chain first and never hold count rows
 * the other waits for. SQLite and MySQL/MariaDB do the same in one transaction (the rows, then the counts).
 *
 * The chain stays exactly what one append per entry makes (seq contiguous after the head, each hash over its
 * predecessor's): the head is safe to trust because `seq` is the primary key. Had another writer (another process,
 * the per-entry fallback) appended meanwhile, the first row's seq exists and the statement fails as a unique
 * violation with nothing written; the head is then read again and the batch rehashed and retried. After any
 * failure the head is forgotten (a commit whose outcome is unknown is never built on).
 */
import { PostgresAdapter, CompiledQuery, type Kysely } from 'kysely';
import { chainHash, GENESIS, type ApiLogEntry } from '../audit/hash-chain.js';
import { isUniqueViolation } from '../db/connect.js';
import { insertRows, insertStatement } from '../db/insert-rows.js';
import type { Database } from '../db/schema.js';
import { apiCallEvents, bumpStats, deltasOf, rollUp, STATS_LEVELS, type StatsDelta } from '../stats/repo.js';

type Row = ApiLogEntry & { seq: number; prev_hash: string; hash: string };

/** The columns of an API-log row, in the order they are written. */
const COLUMNS = [
  'at',
  'request_id',
  'app_id',
  'project_id',
  'method',
  'path',
  'params',
  'headers',
  'status',
  'response',
  'duration_ms',
  'error_code',
  'seq',
  'prev_hash',
  'hash',
] as const;

/** The count upserts of the PostgreSQL statement, reading their rows from parameters $first… (JSON). */
function countCtes(first: number): string {
  return STATS_LEVELS.map(
    ({ table, column }, i) =>
      `c${i} AS (INSERT INTO "${table}" (project_id, app_id, kind, "${column}", "count") ` +
      `SELECT x.project_id, x.app_id, x.kind, x.period, x."count" FROM json_to_recordset($${first + i}::json) ` +
      `AS x(project_id text, app_id text, kind text, period text, "count" bigint) ` +
      `WHERE (SELECT count(*) FROM l) > 0 ORDER BY x.project_id, x.app_id, x.kind, x.period ` +
      `ON CONFLICT (project_id, app_id, kind, "${column}") DO UPDATE SET "count" = "${table}"."count" + excluded."count")`,
  ).join(', ');
}

export interface ApiLogChainWriter {
  /** Appends the entries in order (and their API-call counts); throws with nothing written. */
  append(entries: readonly ApiLogEntry[]): Promise<void>;
}

export function createApiLogChainWriter(
  db: Kysely<Database>,
  options: {
    /** Tries after a lost race (default 3), each with the head read again. */
    maxAttempts?: number;
  } = {},
): ApiLogChainWriter {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const maxAttempts = options.maxAttempts ?? 3;
  let head: { seq: number; hash: string } | undefined;

  const readHead = async (): Promise<{ seq: number; hash: string }> => {
    const last = await db
      .selectFrom('api_logs')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return last === undefined ? { seq: 0, hash: GENESIS } : { seq: Number(last.seq), hash: last.hash };
  };

  const rowsAfter = (from: { seq: number; hash: string }, entries: readonly ApiLogEntry[]): Row[] => {
    let { seq, hash: prev } = from;
    const rows: Row[] = [];
    for (const e of entries) {
      seq++;
      const hash = chainHash(prev, { ...e, seq });
      rows.push({
        at: e.at,
        request_id: e.request_id,
        app_id: e.app_id,
        project_id: e.project_id,
        method: e.method,
        path: e.path,
        params: e.params,
        headers: e.headers,
        status: e.status,
        response: e.response,
        duration_ms: e.duration_ms,
        error_code: e.error_code,
        seq,
        prev_hash: prev,
        hash,
      });
      prev = hash;
    }
    return rows;
  };

  const write = async (rows: readonly Row[], deltas: readonly StatsDelta[]): Promise<void> => {
    if (pg) {
      const params: unknown[] = [];
      for (const r of rows) for (const c of COLUMNS) params.push(r[c]);
      const k = params.length;
      for (const { width } of STATS_LEVELS) params.push(JSON.stringify(rollUp(deltas, width)));
      const text = `WITH l AS (${insertStatement('pg', 'api_logs', COLUMNS, rows.length)} RETURNING 1), ${countCtes(k + 1)} SELECT count(*) AS n FROM l`;
      await db.executeQuery(CompiledQuery.raw(text, params));
      return;
    }
    await db.transaction().execute(async (trx) => {
      // Bounded statements: a few hundred rows per INSERT keeps under every dialect's parameter limit.
      for (let i = 0; i < rows.length; i += 200) await insertRows(trx, 'api_logs', rows.slice(i, i + 200));
      await bumpStats(trx, deltas);
    });
  };

  return {
    async append(entries) {
      if (entries.length === 0) return;
      const deltas = deltasOf(apiCallEvents(entries));
      for (let attempt = 1; ; attempt++) {
        const from = head ?? (await readHead());
        head = undefined;
        const rows = rowsAfter(from, entries);
        try {
          await write(rows, deltas);
        } catch (e) {
          if (attempt < maxAttempts && isUniqueViolation(e)) continue;
          throw e;
        }
        const last = rows[rows.length - 1]!;
        head = { seq: last.seq, hash: last.hash };
        return;
      }
    },
  };
}
