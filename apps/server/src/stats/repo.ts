/**
 * Statistics aggregates (统计, seed §2.4): `stats_daily` counts per (project, application, kind, Shanghai day).
 *
 * Rollups `stats_monthly` ('YYYY-MM') and `stats_yearly` ('YYYY') carry the same counts by month and year
 * (migration 0012), so the 12-month / 3-year series and the all-time totals never sum every day.
 *
 * - {@link recordStats} / {@link bumpStats}: the upsert-increment of the three tables, called inside the evidence
 *   write transaction (one statement per table and batch, one row per distinct key) and by the API-log writer;
 *   SQLite and PostgreSQL by `ON CONFLICT … DO UPDATE`, MySQL/MariaDB by `ON DUPLICATE KEY UPDATE`. Keys are
 *   sorted and the tables written in one order (daily, monthly, yearly) so concurrent batches lock rows in one
 *   order (no deadlock between servers). Call it inside a transaction so the three stay equal.
 * - {@link rebuildStats}: recomputes the three tables from `evidence` (hot and cold) and every API-log source
 *   (one-off, `yizheng stats rebuild`, for installations that hold evidence from before the tables existed).
 */
import { MysqlAdapter, sql, type Kysely } from 'kysely';
import { apiLogSources } from '../audit/api-log-periods.js';
import type { Database } from '../db/schema.js';
import { coldDatabaseOf } from '../lifecycle/read-through.js';

export type StatsKind = 'signature' | 'digest' | 'file' | 'api_call';
export const STATS_KINDS: readonly StatsKind[] = ['signature', 'digest', 'file', 'api_call'];

export interface StatsDailyTable {
  project_id: string;
  app_id: string;
  kind: StatsKind;
  /** 'YYYY-MM-DD' in Asia/Shanghai. */
  day: string;
  count: number | string | bigint;
}

export interface StatsMonthlyTable {
  project_id: string;
  app_id: string;
  kind: StatsKind;
  /** 'YYYY-MM' in Asia/Shanghai. */
  month: string;
  count: number | string | bigint;
}

export interface StatsYearlyTable {
  project_id: string;
  app_id: string;
  kind: StatsKind;
  /** 'YYYY' in Asia/Shanghai. */
  year: string;
  count: number | string | bigint;
}

declare module '../db/schema.js' {
  interface Database {
    stats_daily: StatsDailyTable;
    stats_monthly: StatsMonthlyTable;
    stats_yearly: StatsYearlyTable;
  }
}

/** The three count tables, each with its period column and the length of 'YYYY-MM-DD' it keeps. */
export const STATS_LEVELS = [
  { table: 'stats_daily', column: 'day', width: 10 },
  { table: 'stats_monthly', column: 'month', width: 7 },
  { table: 'stats_yearly', column: 'year', width: 4 },
] as const;

/** Asia/Shanghai is UTC+8 all year (no daylight saving since 1991). */
const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** The Shanghai calendar day of an instant (ms since the epoch or an ISO time), as 'YYYY-MM-DD'. */
export function shanghaiDay(at: number | string): string {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

export interface StatsEvent {
  project_id: string;
  app_id: string;
  kind: StatsKind;
  /** The instant (ISO) counted. */
  at: string;
}

export interface StatsDelta {
  project_id: string;
  app_id: string;
  kind: StatsKind;
  day: string;
  count: number;
}

/**
 * Groups events by (project, application, kind, day), sorted by key. The day is computed once per distinct
 * instant: a batch's events share a handful of `at` values, and a Date per event cost ~4 µs.
 */
export function deltasOf(events: readonly StatsEvent[]): StatsDelta[] {
  const days = new Map<string, string>();
  const m = new Map<string, StatsDelta>();
  for (const e of events) {
    let day = days.get(e.at);
    if (day === undefined) {
      day = shanghaiDay(e.at);
      days.set(e.at, day);
    }
    const key = `${e.project_id}\u0000${e.app_id}\u0000${e.kind}\u0000${day}`;
    const d = m.get(key);
    if (d === undefined)
      m.set(key, { project_id: e.project_id, app_id: e.app_id, kind: e.kind, day, count: 1 });
    else d.count++;
  }
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

/**
 * Sums deltas by (project, application, kind, the first `width` characters of the day), sorted by key (the
 * lock order every writer of the counts keeps).
 */
export function rollUp(
  deltas: readonly StatsDelta[],
  width: number,
): { project_id: string; app_id: string; kind: StatsKind; period: string; count: number }[] {
  const m = new Map<
    string,
    { project_id: string; app_id: string; kind: StatsKind; period: string; count: number }
  >();
  for (const d of deltas) {
    const period = d.day.slice(0, width);
    const key = `${d.project_id}\u0000${d.app_id}\u0000${d.kind}\u0000${period}`;
    const e = m.get(key);
    if (e === undefined)
      m.set(key, { project_id: d.project_id, app_id: d.app_id, kind: d.kind, period, count: d.count });
    else e.count += d.count;
  }
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

/**
 * Adds the deltas to `stats_daily`, `stats_monthly` and `stats_yearly` (call it inside the caller's
 * transaction, so the three stay equal).
 */
export async function bumpStats(db: Kysely<Database>, deltas: readonly StatsDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
  const count = sql.ref('count');
  for (const { table, column, width } of STATS_LEVELS) {
    const all = rollUp(deltas, width);
    for (let i = 0; i < all.length; i += 200) {
      const values = sql.join(
        all
          .slice(i, i + 200)
          .map((r) => sql`(${r.project_id}, ${r.app_id}, ${r.kind}, ${r.period}, ${r.count})`),
      );
      const insert = sql`INSERT INTO ${sql.table(table)} (project_id, app_id, kind, ${sql.ref(column)}, ${count}) VALUES ${values}`;
      if (mysql)
        await sql`${insert} ON DUPLICATE KEY UPDATE ${count} = ${count} + VALUES(${count})`.execute(db);
      else
        await sql`${insert} ON CONFLICT (project_id, app_id, kind, ${sql.ref(column)}) DO UPDATE SET ${count} = ${sql.ref(`${table}.count`)} + excluded.${count}`.execute(
          db,
        );
    }
  }
}

/** Counts these events (the evidence records or API calls of one batch). */
export function recordStats(db: Kysely<Database>, events: readonly StatsEvent[]): Promise<void> {
  return bumpStats(db, deltasOf(events));
}

/** API-log entries as events: calls made by an application (unauthenticated calls have no project). */
export function apiCallEvents(
  entries: readonly { at: string; app_id: string | null; project_id: string | null }[],
): StatsEvent[] {
  const out: StatsEvent[] = [];
  for (const e of entries)
    if (e.app_id !== null && e.project_id !== null)
      out.push({ project_id: e.project_id, app_id: e.app_id, kind: 'api_call', at: e.at });
  return out;
}

const PAGE = 5000;
/** Ids per `IN (…)` lookup of the hot side (well under every dialect's bound parameter limit). */
const ID_CHUNK = 1000;

type Add = (e: StatsEvent) => void;

/** Every evidence row of one side, by id pages; `skip` names the ids of the page already counted elsewhere. */
async function countEvidence(
  db: Kysely<Database>,
  add: Add,
  skip?: (ids: readonly string[]) => Promise<Set<string>>,
): Promise<void> {
  let after: string | undefined;
  for (;;) {
    let q = db
      .selectFrom('evidence')
      .select(['id', 'project_id', 'app_id', 'kind', 'received_at'])
      .orderBy('id')
      .limit(PAGE);
    if (after !== undefined) q = q.where('id', '>', after);
    const page = await q.execute();
    const skipped = skip === undefined || page.length === 0 ? undefined : await skip(page.map((r) => r.id));
    for (const r of page)
      if (skipped === undefined || !skipped.has(r.id))
        add({ project_id: r.project_id, app_id: r.app_id, kind: r.kind, at: r.received_at });
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.id;
  }
}

/**
 * Recomputes `stats_daily` and its rollups, in one transaction on the hot database (keyset pages, aggregated in
 * memory: at most one entry per project × application × kind × day), from:
 * - the evidence records of the hot database and of the cold one (`cold`, by default the cold database attached
 *   behind `db` for read-through, lifecycle/read-through.ts): a record archived to the cold side still counts,
 *   once — a record kept hot during its retention is on both sides and counted from the hot one;
 * - the API calls of every API-log source (audit/api-log-periods.ts): `api_logs` and, with the Redis write
 *   buffer, the period tables `api_log_YYYYMM`.
 * Returns the rows written and events counted.
 */
export async function rebuildStats(
  db: Kysely<Database>,
  options: { cold?: Kysely<Database> | undefined } = {},
): Promise<{ rows: number; events: number }> {
  const cold = 'cold' in options ? options.cold : coldDatabaseOf(db);
  return db.transaction().execute(async (trx) => {
    const acc = new Map<string, StatsDelta>();
    let events = 0;
    const add: Add = (e) => {
      events++;
      const day = shanghaiDay(e.at);
      const key = `${e.project_id}\u0000${e.app_id}\u0000${e.kind}\u0000${day}`;
      const d = acc.get(key);
      if (d === undefined)
        acc.set(key, { project_id: e.project_id, app_id: e.app_id, kind: e.kind, day, count: 1 });
      else d.count++;
    };
    await countEvidence(trx, add);
    if (cold !== undefined)
      await countEvidence(cold, add, async (ids) => {
        const hot = new Set<string>();
        for (let i = 0; i < ids.length; i += ID_CHUNK) {
          const rows = await trx
            .selectFrom('evidence')
            .select('id')
            .where('id', 'in', ids.slice(i, i + ID_CHUNK))
            .execute();
          for (const r of rows) hot.add(r.id);
        }
        return hot;
      });
    for (const source of await apiLogSources(trx)) {
      const table = source.table as 'api_logs'; // api_logs or a period table: the same columns
      let seq = 0;
      for (;;) {
        const page = await trx
          .selectFrom(table)
          .select(['seq', 'at', 'app_id', 'project_id'])
          .where('seq', '>', seq)
          .orderBy('seq')
          .limit(PAGE)
          .execute();
        for (const e of apiCallEvents(page)) add(e);
        if (page.length < PAGE) break;
        seq = Number(page[page.length - 1]!.seq);
      }
    }
    for (const { table } of STATS_LEVELS) await trx.deleteFrom(table).execute();
    const rows = [...acc.values()];
    await bumpStats(trx, rows);
    return { rows: rows.length, events };
  });
}

/** Removes a project's statistics (project deletion). */
export async function deleteProjectStats(db: Kysely<Database>, projectId: string): Promise<void> {
  for (const { table } of STATS_LEVELS)
    await db.deleteFrom(table).where('project_id', '=', projectId).execute();
}
