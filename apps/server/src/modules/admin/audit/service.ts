/**
 * Audit (seed §3): the operation log and the API log, read-only — query, detail, CSV export and the integrity
 * check of their hash chains. There is deliberately no function here (nor anywhere) that edits or deletes an
 * entry: the chain makes any such change detectable, and retention is at least 180 days in every configuration.
 */
import type { Kysely, Selectable } from 'kysely';
import {
  exportApiLogRows,
  getApiLog as getApiLogAcrossPeriods,
  queryApiLogs as queryApiLogsAcrossPeriods,
  verifyApiLogChain,
  type ApiLogFilter,
  type ApiLogPage,
  type ApiLogView,
} from '../../../audit/api-log-read.js';
import { verifyChain, type ChainTable, type ChainVerdict } from '../../../audit/hash-chain.js';
import { containsText } from '../../../db/like.js';
import type { Database, OperationLogsTable } from '../../../db/schema.js';
import { YzError } from '../../../errors.js';

export const MAX_PAGE_SIZE = 200;
export const MAX_EXPORT_ROWS = 100_000;

export interface OperationFilter {
  actor?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  projectId?: string | undefined;
  /** ISO time, inclusive. */
  from?: string | undefined;
  /** ISO time, exclusive. */
  to?: string | undefined;
}

// The API log's read path lives in audit/api-log-read.ts (across the period tables of the write buffer).
export type { ApiLogFilter };

export interface OperationEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  projectId: string | null;
  detail: unknown;
  prevHash: string;
  hash: string;
}

export type ApiLogEntry = ApiLogView;

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function operationsQuery(db: Kysely<Database>, f: OperationFilter) {
  let q = db.selectFrom('operation_logs');
  if (f.actor !== undefined) q = q.where(containsText('actor', f.actor));
  if (f.action !== undefined) q = q.where(containsText('action', f.action));
  if (f.targetType !== undefined) q = q.where('target_type', '=', f.targetType);
  if (f.targetId !== undefined) q = q.where('target_id', '=', f.targetId);
  if (f.projectId !== undefined) q = q.where('project_id', '=', f.projectId);
  if (f.from !== undefined) q = q.where('at', '>=', f.from);
  if (f.to !== undefined) q = q.where('at', '<', f.to);
  return q;
}

type OpRow = Selectable<OperationLogsTable>;

function toOperation(r: OpRow): OperationEntry {
  return {
    seq: Number(r.seq),
    at: r.at,
    actor: r.actor,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    projectId: r.project_id,
    detail: json(r.detail),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export interface Page<T> {
  total: number;
  page: number;
  pageSize: number;
  items: T[];
}

/** A keyset page: newest first; `nextCursor` (the last seq shown) continues below it, null on the last page. */
export interface CursorPage<T> {
  pageSize: number;
  items: T[];
  nextCursor: string | null;
}

/**
 * The operation-log query, newest first, by keyset (`seq < cursor`, then `pageSize + 1` rows on the primary key):
 * no OFFSET and no count, so the thousandth page costs what the first does.
 */
export async function queryOperations(options: {
  db: Kysely<Database>;
  filter: OperationFilter;
  pageSize: number;
  /** The `nextCursor` of the previous page (a seq). */
  cursor?: string | undefined;
}): Promise<CursorPage<OperationEntry>> {
  const { db, filter } = options;
  const pageSize = Math.min(Math.max(1, options.pageSize), MAX_PAGE_SIZE);
  let q = operationsQuery(db, filter);
  if (options.cursor !== undefined) {
    if (!/^[1-9][0-9]{0,15}$/.test(options.cursor))
      throw new YzError('REQUEST_VALIDATION', 'cursor must be a log sequence number');
    q = q.where('seq', '<', Number(options.cursor));
  }
  const rows = await q
    .selectAll()
    .orderBy('seq', 'desc')
    .limit(pageSize + 1)
    .execute();
  const items = rows.slice(0, pageSize).map(toOperation);
  const more = rows.length > pageSize;
  return { pageSize, items, nextCursor: more ? String(items[items.length - 1]!.seq) : null };
}

export async function getOperation(db: Kysely<Database>, seq: number): Promise<OperationEntry> {
  const r = await db.selectFrom('operation_logs').selectAll().where('seq', '=', seq).executeTakeFirst();
  if (r === undefined) throw new YzError('AUDIT_ENTRY_NOT_FOUND', String(seq));
  return toOperation(r);
}

export function queryApiLogs(options: {
  db: Kysely<Database>;
  filter: ApiLogFilter;
  page: number;
  pageSize: number;
  cursor?: string | undefined;
}): Promise<ApiLogPage> {
  return queryApiLogsAcrossPeriods(options);
}

export function getApiLog(db: Kysely<Database>, seq: number): Promise<ApiLogEntry> {
  return getApiLogAcrossPeriods(db, seq);
}

/** One CSV field (RFC 4180), with formula-leading characters neutralised for spreadsheet safety. */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export async function exportOperationsCsv(db: Kysely<Database>, filter: OperationFilter): Promise<string> {
  const rows = await operationsQuery(db, filter)
    .selectAll()
    .orderBy('seq', 'asc')
    .limit(MAX_EXPORT_ROWS)
    .execute();
  return (
    '\ufeff' +
    csv(
      [
        'seq',
        'at',
        'actor',
        'action',
        'target_type',
        'target_id',
        'project_id',
        'detail',
        'prev_hash',
        'hash',
      ],
      rows.map((r) => [
        Number(r.seq),
        r.at,
        r.actor,
        r.action,
        r.target_type,
        r.target_id,
        r.project_id,
        r.detail,
        r.prev_hash,
        r.hash,
      ]),
    )
  );
}

export async function exportApiLogsCsv(db: Kysely<Database>, filter: ApiLogFilter): Promise<string> {
  const rows = await exportApiLogRows(db, filter, MAX_EXPORT_ROWS);
  return (
    '\ufeff' +
    csv(
      [
        'seq',
        'at',
        'request_id',
        'app_id',
        'project_id',
        'method',
        'path',
        'status',
        'error_code',
        'duration_ms',
        'hash',
      ],
      rows.map((r) => [
        Number(r.seq),
        r.at,
        r.request_id,
        r.app_id,
        r.project_id,
        r.method,
        r.path,
        r.status,
        r.error_code,
        r.duration_ms,
        r.hash,
      ]),
    )
  );
}

export async function checkIntegrity(db: Kysely<Database>, table: ChainTable): Promise<ChainVerdict> {
  return table === 'api_logs' ? verifyApiLogChain({ db }) : verifyChain({ db, table });
}
