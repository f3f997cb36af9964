/**
 * The console's statistics (seed §2.4): totals (all time, the last 3 months, the current month, today) and bar
 * series of the last 30 days, 12 months and 3 years, per kind — three queries grouped by (kind, period): the
 * 30 days (and today) from `stats_daily`, the 12 months (the current month, the last 3 months) from
 * `stats_monthly`, the years (all time) from `stats_yearly`. Each reads at most ~30 / 12 / a few rows per
 * (application, kind), so the whole scope of an operator with hundreds of applications stays a few thousand rows.
 */
import { sql, type Kysely, type SqlBool } from 'kysely';
import { toCount } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { shanghaiDay, STATS_KINDS, type StatsKind } from './repo.js';

export interface StatsTotals {
  all: number;
  /** From the first day of the month two months before the current one (three calendar months). */
  last3Months: number;
  month: number;
  today: number;
}

export interface StatsPoint {
  /** 'YYYY-MM-DD', 'YYYY-MM' or 'YYYY'. */
  period: string;
  counts: Partial<Record<StatsKind, number>>;
}

export interface StatsView {
  today: string;
  kinds: StatsKind[];
  totals: Partial<Record<StatsKind, StatsTotals>>;
  days: StatsPoint[];
  months: StatsPoint[];
  years: StatsPoint[];
}

const pad = (n: number): string => String(n).padStart(2, '0');

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const k = y * 12 + (m - 1) + n;
  return `${Math.floor(k / 12)}-${pad((k % 12) + 1)}`;
}

export async function statsView(options: {
  db: Kysely<Database>;
  now: number;
  /** The projects to sum over (the filter, or the caller's scope); undefined: all. */
  projects?: readonly string[];
  app?: string;
  kind?: StatsKind;
}): Promise<StatsView> {
  const today = shanghaiDay(options.now);
  const month = today.slice(0, 7);
  const year = Number(today.slice(0, 4));
  const first3Months = `${addMonths(month, -2)}-01`;
  const kinds = options.kind === undefined ? [...STATS_KINDS] : [options.kind];
  const view: StatsView = { today, kinds, totals: {}, days: [], months: [], years: [] };
  for (const k of kinds) view.totals[k] = { all: 0, last3Months: 0, month: 0, today: 0 };
  if (options.projects !== undefined && options.projects.length === 0) return fill(view, today, month, year);

  // The same filter on the three tables (their key columns are the same).
  const conds = [sql`kind in (${sql.join(kinds)})`];
  if (options.projects !== undefined) conds.push(sql`project_id in (${sql.join(options.projects)})`);
  if (options.app !== undefined) conds.push(sql`app_id = ${options.app}`);
  const scope = sql<SqlBool>`${sql.join(conds, sql` and `)}`;
  const db = options.db;
  const n = sql<string | number>`sum(count)`.as('n');
  const [days, months, years] = await Promise.all([
    db
      .selectFrom('stats_daily')
      .where(scope)
      .select(['kind', 'day as period', n])
      .where('day', '>=', addDays(today, -29))
      .groupBy(['kind', 'day'])
      .execute(),
    db
      .selectFrom('stats_monthly')
      .where(scope)
      .select(['kind', 'month as period', n])
      .where('month', '>=', addMonths(month, -11))
      .groupBy(['kind', 'month'])
      .execute(),
    // Every year (the all-time totals are their sum).
    db
      .selectFrom('stats_yearly')
      .where(scope)
      .select(['kind', 'year as period', n])
      .groupBy(['kind', 'year'])
      .execute(),
  ]);
  const byDay = new Map<string, Partial<Record<StatsKind, number>>>();
  const byMonth = new Map<string, Partial<Record<StatsKind, number>>>();
  const byYear = new Map<string, Partial<Record<StatsKind, number>>>();
  const put = (
    m: Map<string, Partial<Record<StatsKind, number>>>,
    rows: readonly { kind: StatsKind; period: string; n: string | number }[],
  ) => {
    for (const r of rows) {
      const e = m.get(r.period) ?? {};
      e[r.kind] = toCount(r.n);
      m.set(r.period, e);
    }
  };
  put(byDay, days);
  put(byMonth, months);
  put(byYear, years);
  for (const r of years) view.totals[r.kind]!.all += toCount(r.n);
  for (const r of months) {
    const t = view.totals[r.kind]!;
    if (r.period >= first3Months.slice(0, 7)) t.last3Months += toCount(r.n);
    if (r.period === month) t.month = toCount(r.n);
  }
  for (const r of days) if (r.period === today) view.totals[r.kind]!.today = toCount(r.n);
  return fill(view, today, month, year, byDay, byMonth, byYear);
}

function fill(
  view: StatsView,
  today: string,
  month: string,
  year: number,
  byDay = new Map<string, Partial<Record<StatsKind, number>>>(),
  byMonth = new Map<string, Partial<Record<StatsKind, number>>>(),
  byYear = new Map<string, Partial<Record<StatsKind, number>>>(),
): StatsView {
  const point = (period: string, m: Map<string, Partial<Record<StatsKind, number>>>): StatsPoint => {
    const counts: Partial<Record<StatsKind, number>> = {};
    for (const k of view.kinds) counts[k] = m.get(period)?.[k] ?? 0;
    return { period, counts };
  };
  for (let i = 29; i >= 0; i--) view.days.push(point(addDays(today, -i), byDay));
  for (let i = 11; i >= 0; i--) view.months.push(point(addMonths(month, -i), byMonth));
  for (let i = 2; i >= 0; i--) view.years.push(point(String(year - i), byYear));
  return view;
}
