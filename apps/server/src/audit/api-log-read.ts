/**
 * The API log's read path across `api_logs` and the period tables (`api_log_YYYYMM`, api-log-periods.ts):
 * query with keyset paging (newest first, `cursor` = the seq to continue below), detail, CSV rows, and the
 * integrity check of the one hash chain that runs through all of them in seq order.
 *
 * Tables are read in order of their seq ranges and merged by seq, so an entry that landed in the previous
 * month's table after the next month's began (a call answered just before midnight) is still in place. The
 * buffered tables always hold higher seqs than `api_logs` (the flush continues its chain).
 */
import type { Kysely, Selectable } from 'kysely';
import { chainHash, GENESIS, type ChainVerdict } from './hash-chain.js';
import { containsText } from '../db/like.js';
import type { ApiLogsTable, Database } from '../db/schema.js';
import { YzError } from '../errors.js';
import { apiLogSources, type ApiLogSource } from './api-log-periods.js';

export const MAX_PAGE_SIZE = 200;

export interface ApiLogFilter {
  appId?: string | undefined;
  projectId?: string | undefined;
  method?: string | undefined;
  path?: string | undefined;
  status?: number | undefined;
  errorCode?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export interface ApiLogView {
  seq: number;
  at: string;
  requestId: string;
  appId: string | null;
  projectId: string | null;
  method: string;
  path: string;
  params: unknown;
  headers: unknown;
  status: number;
  response: string;
  durationMs: number;
  errorCode: string | null;
  prevHash: string;
  hash: string;
}

export type ApiLogRow = Selectable<ApiLogsTable>;

export interface ApiLogPage {
  total: number;
  page: number;
  pageSize: number;
  items: ApiLogView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function toApiLogView(r: ApiLogRow): ApiLogView {
  return {
    seq: Number(r.seq),
    at: r.at,
    requestId: r.request_id,
    appId: r.app_id,
    projectId: r.project_id,
    method: r.method,
    path: r.path,
    params: json(r.params),
    headers: json(r.headers),
    status: r.status,
    response: r.response,
    durationMs: r.duration_ms,
    errorCode: r.error_code,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** A cursor is the decimal seq to continue below; anything else is AUDIT_CURSOR_INVALID. */
export function parseCursor(cursor: string): number {
  if (!/^[1-9]\d{0,15}$/.test(cursor)) throw new YzError('AUDIT_CURSOR_INVALID', 'cursor must be a seq');
  return Number(cursor);
}

function filtered(db: Kysely<Database>, table: string, f: ApiLogFilter) {
  let q = db.selectFrom(table as 'api_logs');
  if (f.appId !== undefined) q = q.where('app_id', '=', f.appId);
  if (f.projectId !== undefined) q = q.where('project_id', '=', f.projectId);
  if (f.method !== undefined) q = q.where('method', '=', f.method.toUpperCase());
  if (f.path !== undefined) q = q.where(containsText('path', f.path));
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.errorCode !== undefined) q = q.where('error_code', '=', f.errorCode);
  if (f.from !== undefined) q = q.where('at', '>=', f.from);
  if (f.to !== undefined) q = q.where('at', '<', f.to);
  return q;
}

/** Sources with their effective seq range: `api_logs` lies below every period table. */
function ranged(sources: readonly ApiLogSource[]): ApiLogSource[] {
  const periods = sources.filter((s) => s.period !== null && s.maxSeq !== null);
  const lowest = periods.reduce<number | null>((m, s) => (m === null || s.minSeq! < m ? s.minSeq : m), null);
  const base = sources.find((s) => s.period === null);
  const out = [...periods];
  if (base) out.push({ ...base, minSeq: null, maxSeq: lowest === null ? null : lowest - 1 });
  return out;
}

/**
 * Up to `limit` rows matching the filter, merged by seq across the tables: descending below `bound`, or
 * ascending above it.
 */
export async function mergedRows(options: {
  db: Kysely<Database>;
  filter: ApiLogFilter;
  order: 'asc' | 'desc';
  bound?: number | undefined;
  limit: number;
}): Promise<ApiLogRow[]> {
  const { db, filter, order, bound, limit } = options;
  const desc = order === 'desc';
  const sources = ranged(await apiLogSources(db)).sort((a, b) =>
    desc
      ? (b.maxSeq ?? Infinity) - (a.maxSeq ?? Infinity)
      : (a.minSeq ?? -Infinity) - (b.minSeq ?? -Infinity),
  );
  let acc: ApiLogRow[] = [];
  for (const src of sources) {
    if (acc.length >= limit) {
      const worst = Number(acc[limit - 1]!.seq);
      if (desc && src.maxSeq !== null && src.maxSeq < worst) break;
      if (!desc && src.minSeq !== null && src.minSeq > worst) break;
    }
    if (bound !== undefined && desc && src.minSeq !== null && src.minSeq >= bound) continue;
    if (bound !== undefined && !desc && src.maxSeq !== null && src.maxSeq <= bound) continue;
    let q = filtered(db, src.table, filter).selectAll();
    if (bound !== undefined) q = q.where('seq', desc ? '<' : '>', bound);
    const rows = await q.orderBy('seq', order).limit(limit).execute();
    acc = [...acc, ...rows]
      .sort((a, b) => (desc ? Number(b.seq) - Number(a.seq) : Number(a.seq) - Number(b.seq)))
      .slice(0, limit);
  }
  return acc;
}

/** The admin API-log query: newest first; `cursor` continues below a seq (keyset), `page` is kept for old callers. */
export async function queryApiLogs(options: {
  db: Kysely<Database>;
  filter: ApiLogFilter;
  page?: number | undefined;
  pageSize: number;
  cursor?: string | undefined;
}): Promise<ApiLogPage> {
  const { db, filter } = options;
  const pageSize = Math.min(Math.max(1, options.pageSize), MAX_PAGE_SIZE);
  const page = options.cursor === undefined ? Math.max(1, options.page ?? 1) : 1;
  const bound = options.cursor === undefined ? undefined : parseCursor(options.cursor);
  let total = 0;
  for (const src of await apiLogSources(db)) {
    if (src.period !== null && src.maxSeq === null) continue;
    const r = await filtered(db, src.table, filter)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    total += Number(r.n);
  }
  const skip = (page - 1) * pageSize;
  const rows = await mergedRows({ db, filter, order: 'desc', bound, limit: skip + pageSize + 1 });
  const items = rows.slice(skip, skip + pageSize);
  const more = rows.length > skip + pageSize;
  return {
    total,
    page,
    pageSize,
    items: items.map(toApiLogView),
    nextCursor: more && items.length > 0 ? String(items[items.length - 1]!.seq) : null,
  };
}

export async function getApiLogRow(db: Kysely<Database>, seq: number): Promise<ApiLogRow | undefined> {
  for (const src of ranged(await apiLogSources(db))) {
    if (src.minSeq !== null && seq < src.minSeq) continue;
    if (src.maxSeq !== null && seq > src.maxSeq) continue;
    const r = await db
      .selectFrom(src.table as 'api_logs')
      .selectAll()
      .where('seq', '=', seq)
      .executeTakeFirst();
    if (r !== undefined) return r;
  }
  return undefined;
}

export async function getApiLog(db: Kysely<Database>, seq: number): Promise<ApiLogView> {
  const r = await getApiLogRow(db, seq);
  if (r === undefined) throw new YzError('AUDIT_ENTRY_NOT_FOUND', String(seq));
  return toApiLogView(r);
}

/** Rows for the CSV export, oldest first, at most `limit`. */
export function exportApiLogRows(
  db: Kysely<Database>,
  filter: ApiLogFilter,
  limit: number,
): Promise<ApiLogRow[]> {
  return mergedRows({ db, filter, order: 'asc', limit });
}

function columnsOf(row: ApiLogRow): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'prev_hash' || k === 'hash') continue;
    out[k] = typeof v === 'bigint' || k === 'seq' ? Number(v) : v;
  }
  return out;
}

/** Recomputes the API log's chain across `api_logs` and the period tables, in seq order. */
export async function verifyApiLogChain(options: {
  db: Kysely<Database>;
  pageSize?: number;
}): Promise<ChainVerdict> {
  const pageSize = options.pageSize ?? 1000;
  let prevHash = GENESIS;
  let expected = 1;
  let count = 0;
  for (;;) {
    const rows = await mergedRows({
      db: options.db,
      filter: {},
      order: 'asc',
      bound: expected - 1,
      limit: pageSize,
    });
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expected) return { ok: false, count, seq: expected, reason: 'sequence_gap' };
      if (row.prev_hash !== prevHash) return { ok: false, count, seq, reason: 'prev_hash_mismatch' };
      if (chainHash(prevHash, columnsOf(row)) !== row.hash)
        return { ok: false, count, seq, reason: 'hash_mismatch' };
      prevHash = row.hash;
      expected++;
      count++;
    }
    if (rows.length < pageSize) return { ok: true, count, head: prevHash };
  }
}
