/**
 * API-log period tables (seed: 每次写入前创建新的数据表): with the Redis write buffer, the API log is flushed into
 * one table per Shanghai month, `api_log_YYYYMM`, with the columns of `api_logs`. The flush creates the period's
 * table (and registers it in `api_log_periods`) BEFORE the transaction that writes into it — on MySQL/MariaDB a
 * CREATE TABLE would commit a surrounding transaction implicitly.
 *
 * The hash chain is one chain across `api_logs` and every period table, ordered by `seq`
 * (see api-log-chain.ts).
 */
import { MysqlAdapter, sql, type Kysely } from 'kysely';
import { isoTime } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { bufferDb } from '../buffer/tables.js';

const SHANGHAI_OFFSET_MS = 8 * 3600_000;
const PERIOD = /^(\d{4})(0[1-9]|1[0-2])$/;

/** The period ('YYYYMM', Asia/Shanghai) of an ISO instant. */
export function periodOf(at: string): string {
  const ms = Date.parse(at);
  const d = new Date((Number.isFinite(ms) ? ms : 0) + SHANGHAI_OFFSET_MS).toISOString();
  return `${d.slice(0, 4)}${d.slice(5, 7)}`;
}

/** The table of a period; throws on anything but 'YYYYMM' (the name is interpolated into DDL). */
export function periodTable(period: string): string {
  if (!PERIOD.test(period)) throw new RangeError(`not a period: ${period}`);
  return `api_log_${period}`;
}

/** A readable source of API-log rows: `api_logs` or one period table, with its known seq range. */
export interface ApiLogSource {
  table: string;
  period: string | null;
  minSeq: number | null;
  maxSeq: number | null;
}

/** `api_logs` first, then the period tables in period order. */
export async function apiLogSources(db: Kysely<Database>): Promise<ApiLogSource[]> {
  const rows = await bufferDb(db).selectFrom('api_log_periods').selectAll().orderBy('period').execute();
  return [
    { table: 'api_logs', period: null, minSeq: null, maxSeq: null },
    ...rows.map((r) => ({
      table: periodTable(r.period),
      period: r.period,
      minSeq: r.min_seq === null ? null : Number(r.min_seq),
      maxSeq: r.max_seq === null ? null : Number(r.max_seq),
    })),
  ];
}

/** Creates the period's table and its index when absent, and registers it; idempotent, safe to race. */
export async function ensurePeriodTable(db: Kysely<Database>, period: string, now: number): Promise<string> {
  const table = periodTable(period);
  const bdb = bufferDb(db);
  const known = await bdb
    .selectFrom('api_log_periods')
    .select('period')
    .where('period', '=', period)
    .executeTakeFirst();
  if (known !== undefined) return table;
  const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
  let create = db.schema
    .createTable(table)
    .ifNotExists()
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('request_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('app_id', 'varchar(64)')
    .addColumn('project_id', 'varchar(64)')
    .addColumn('method', 'varchar(16)', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('error_code', 'varchar(64)')
    .addColumn('prev_hash', 'char(64)', (c) => c.notNull())
    .addColumn('hash', 'char(64)', (c) => c.notNull());
  if (mysql) create = create.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  await create.execute();
  try {
    const index = db.schema.createIndex(`${table}_app_at_idx`).on(table).columns(['app_id', 'at']);
    await (mysql ? index : index.ifNotExists()).execute();
  } catch (e) {
    // MySQL has no CREATE INDEX IF NOT EXISTS: a second creator finds it there (ER_DUP_KEYNAME).
    if ((e as { errno?: unknown }).errno !== 1061) throw e;
  }
  try {
    await bdb
      .insertInto('api_log_periods')
      .values({ period, table_name: table, min_seq: null, max_seq: null, created_at: isoTime(now) })
      .execute();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
  return table;
}
