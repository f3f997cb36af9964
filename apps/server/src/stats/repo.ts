/**
 * Statistics aggregates (统计, seed §2.4): `stats_daily` counts per (project, application, kind, Shanghai day).
 *
 * - {@link bumpStats}: the upsert-increment, called inside the evidence write transaction (one statement per
 *   batch, one row per distinct key) and by the API-log writer; SQLite and PostgreSQL by `ON CONFLICT … DO
 *   UPDATE`, MySQL/MariaDB by `ON DUPLICATE KEY UPDATE`. Keys are sorted so concurrent batches lock rows in one
 *   order (no deadlock between servers).
 * - {@link rebuildStats}: recomputes the table from `evidence` and `api_logs` (one-off, `yizheng stats rebuild`,
 *   for installations that hold evidence from before the table existed).
 */
import { MysqlAdapter, sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

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

declare module '../db/schema.js' {
  interface Database {
    stats_daily: StatsDailyTable;
  }
}

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

/** Groups events by (project, application, kind, day), sorted by key. */
export function deltasOf(events: readonly StatsEvent[]): StatsDelta[] {
  const m = new Map<string, StatsDelta>();
  for (const e of events) {
    const day = shanghaiDay(e.at);
    const key = `${e.project_id}\u0000${e.app_id}\u0000${e.kind}\u0000${day}`;
    const d = m.get(key);
    if (d === undefined)
      m.set(key, { project_id: e.project_id, app_id: e.app_id, kind: e.kind, day, count: 1 });
    else d.count++;
  }
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

/** Adds the deltas to `stats_daily` (call it inside the caller's transaction). */
export async function bumpStats(db: Kysely<Database>, deltas: readonly StatsDelta[]): Promise<void> {
  const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
  for (let i = 0; i < deltas.length; i += 200) {
    const rows = deltas.slice(i, i + 200);
    const q = db.insertInto('stats_daily').values(rows);
    if (mysql) await q.onDuplicateKeyUpdate({ count: sql`count + VALUES(count)` }).execute();
    else
      await q
        .onConflict((oc) =>
          oc
            .columns(['project_id', 'app_id', 'kind', 'day'])
            .doUpdateSet({ count: sql`stats_daily.count + excluded.count` }),
        )
        .execute();
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

/**
 * Recomputes `stats_daily` from `evidence` and `api_logs`, in one transaction (keyset pages, aggregated in
 * memory: at most one entry per project × application × kind × day). Returns the rows written and events counted.
 */
export async function rebuildStats(db: Kysely<Database>): Promise<{ rows: number; events: number }> {
  return db.transaction().execute(async (trx) => {
    const acc = new Map<string, StatsDelta>();
    let events = 0;
    const add = (e: StatsEvent): void => {
      events++;
      const day = shanghaiDay(e.at);
      const key = `${e.project_id}\u0000${e.app_id}\u0000${e.kind}\u0000${day}`;
      const d = acc.get(key);
      if (d === undefined)
        acc.set(key, { project_id: e.project_id, app_id: e.app_id, kind: e.kind, day, count: 1 });
      else d.count++;
    };
    let after: string | undefined;
    for (;;) {
      let q = trx
        .selectFrom('evidence')
        .select(['id', 'project_id', 'app_id', 'kind', 'received_at'])
        .orderBy('id')
        .limit(PAGE);
      if (after !== undefined) q = q.where('id', '>', after);
      const page = await q.execute();
      for (const r of page)
        add({ project_id: r.project_id, app_id: r.app_id, kind: r.kind, at: r.received_at });
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    let seq = 0;
    for (;;) {
      const page = await trx
        .selectFrom('api_logs')
        .select(['seq', 'at', 'app_id', 'project_id'])
        .where('seq', '>', seq)
        .orderBy('seq')
        .limit(PAGE)
        .execute();
      for (const e of apiCallEvents(page)) add(e);
      if (page.length < PAGE) break;
      seq = Number(page[page.length - 1]!.seq);
    }
    await trx.deleteFrom('stats_daily').execute();
    const rows = [...acc.values()];
    await bumpStats(trx, rows);
    return { rows: rows.length, events };
  });
}

/** Removes a project's statistics (project deletion). */
export async function deleteProjectStats(db: Kysely<Database>, projectId: string): Promise<void> {
  await db.deleteFrom('stats_daily').where('project_id', '=', projectId).execute();
}
