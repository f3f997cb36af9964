/**
 * History migration (历史数据迁移, seed §1.8): brings signatures kept in the hospitals' HIS/EMR databases into
 * Yizheng through the evidence ingest path, so each migrated record is verified, hashed and given its
 * Merkle-log leaf exactly like a pushed one.
 *
 * - Sources: an external database (adapters.ts), its intermediate table (中间表) and a column mapping; the
 *   connection URL is sealed with the field crypto and never returned or logged.
 * - Tasks: one source into one application, a validation level, a time window (错峰迁移) and a throttle.
 *   `format`: the row must map to a well-formed signature push (then the ingest path's own checks apply —
 *   Yizheng never stores a signature that does not verify); `signature`: the same, named for the seed's
 *   level; `full`: additionally a timestamp token column must be filled and a trust store configured, so the
 *   certificate chain and the timestamp are verified too.
 * - Resumable: rows are read in key order after the task's cursor. Each row is pushed with the idempotency key
 *   `hist:<task>:<key>`, so a row whose record was committed before a crash (kill -9) yields the same record
 *   again, never a second one; the cursor, the counters and the failures of a batch are committed together in
 *   one transaction after the batch's records. A restart re-reads at most one batch and neither skips nor
 *   duplicates.
 * - Failures are kept in `history_failures` with the check's code and reason.
 */
import { randomBytes } from 'node:crypto';
import { fromPem } from '@yizheng/pki';
import type { Insertable, Kysely, Selectable } from 'kysely';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { appendToChain } from '../../audit/hash-chain.js';
import { isoTime, type ServiceContext } from '../../context.js';
import type { FieldCrypto } from '../../crypto/field-crypto.js';
import { toCount } from '../../db/connect.js';
import type { Database, ProjectStatus } from '../../db/schema.js';
import { YzError, isYzError } from '../../errors.js';
import { lifecycleDb, type HistorySourcesTable, type HistoryTasksTable } from '../../lifecycle/tables.js';
import { SignaturePush, type SignaturePushBody } from '../evidence/schema.js';
import { pushSignatureBatch, type EvidenceDeps } from '../evidence/service.js';
import {
  checkIdentifier,
  openSource,
  sourceKindOf,
  type SourceAdapter,
  type SourceRow,
  type SourceValue,
} from './adapters.js';
import type { ColumnMappingType, SourceBodyType, TaskBodyType } from './schema.js';
import { GateClosed, gatedWriter } from './gated-writer.js';

const URL_FIELD = 'history_source_url';

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}

async function logOp(
  ctx: ServiceContext,
  action: string,
  type: string,
  id: string,
  detail: object,
): Promise<void> {
  await appendToChain({
    db: ctx.db,
    table: 'operation_logs',
    entry: {
      at: isoTime(ctx.now()),
      actor: ctx.actor,
      action,
      target_type: type,
      target_id: id,
      project_id: null,
      detail: JSON.stringify(detail),
    },
  });
}

function mappedColumns(m: ColumnMappingType): string[] {
  const cols = [
    m.key,
    m.serialNumber,
    m.signature,
    m.format,
    m.certificate,
    m.original,
    m.timestampToken,
    m.signedAt,
    m.signer,
    m.patientId,
    m.patientName,
    m.businessType,
  ].filter((c): c is string => c !== undefined);
  for (const c of cols) checkIdentifier(c, 'column');
  return [...new Set(cols)];
}

export interface SourceView {
  id: string;
  name: string;
  kind: string;
  table: string;
  mapping: ColumnMappingType;
  createdAt: string;
}

function sourceView(r: HistorySourcesTable): SourceView {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    table: r.source_table,
    mapping: JSON.parse(r.mapping) as ColumnMappingType,
    createdAt: r.created_at,
  };
}

export async function createSource(options: {
  ctx: ServiceContext;
  fieldCrypto: FieldCrypto;
  body: SourceBodyType;
}): Promise<SourceView> {
  const { ctx, body } = options;
  const kind = sourceKindOf(body.url);
  checkIdentifier(body.table, 'table');
  mappedColumns(body.mapping);
  const at = isoTime(ctx.now());
  const row: HistorySourcesTable = {
    id: newId('hsrc'),
    name: body.name,
    kind,
    url_sealed: options.fieldCrypto.seal(URL_FIELD, body.url),
    source_table: body.table,
    mapping: JSON.stringify(body.mapping),
    created_at: at,
    updated_at: at,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await lifecycleDb(trx).insertInto('history_sources').values(row).execute();
    await logOp({ ...ctx, db: trx }, 'history.source.create', 'history_source', row.id, {
      name: body.name,
      kind,
      table: body.table,
    });
  });
  return sourceView(row);
}

async function sourceRow(db: Kysely<Database>, id: string): Promise<HistorySourcesTable> {
  const r = await lifecycleDb(db)
    .selectFrom('history_sources')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r) throw new YzError('HISTORY_SOURCE_NOT_FOUND', id);
  return r;
}

export async function listSources(options: { db: Kysely<Database> }): Promise<SourceView[]> {
  const rows = await lifecycleDb(options.db)
    .selectFrom('history_sources')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(sourceView);
}

function adapterOf(fieldCrypto: FieldCrypto, r: HistorySourcesTable): SourceAdapter {
  return openSource(fieldCrypto.open(URL_FIELD, r.url_sealed));
}

/** Connects, counts the intermediate table's rows and reads the first one through the mapping. */
export async function testSource(options: {
  db: Kysely<Database>;
  fieldCrypto: FieldCrypto;
  id: string;
}): Promise<{ ok: true; rows: number }> {
  const r = await sourceRow(options.db, options.id);
  const mapping = JSON.parse(r.mapping) as ColumnMappingType;
  const adapter = adapterOf(options.fieldCrypto, r);
  try {
    const rows = await adapter.count({ table: r.source_table });
    await adapter.read(
      { table: r.source_table, key: mapping.key, keyType: mapping.keyType, columns: mappedColumns(mapping) },
      null,
      1,
    );
    return { ok: true, rows };
  } finally {
    await adapter.close();
  }
}

export interface TaskView {
  id: string;
  sourceId: string;
  appId: string;
  level: string;
  window: { start: string; end: string } | null;
  rowsPerSecond: number;
  batchSize: number;
  status: string;
  cursor: string | null;
  total: number | null;
  migrated: number;
  duplicates: number;
  failed: number;
  lastError: string | null;
  updatedAt: string;
}

type TaskRow = Selectable<HistoryTasksTable>;

function taskView(t: TaskRow): TaskView {
  return {
    id: t.id,
    sourceId: t.source_id,
    appId: t.app_id,
    level: t.level,
    window:
      t.window_start !== null && t.window_end !== null ? { start: t.window_start, end: t.window_end } : null,
    rowsPerSecond: t.rows_per_second,
    batchSize: t.batch_size,
    status: t.status,
    cursor: t.cursor,
    total: t.total === null ? null : toCount(t.total),
    migrated: toCount(t.migrated),
    duplicates: toCount(t.duplicates),
    failed: toCount(t.failed),
    lastError: t.last_error,
    updatedAt: t.updated_at,
  };
}

export async function createTask(options: {
  ctx: ServiceContext;
  body: TaskBodyType;
  /** Whether the server has a trust store (required by level `full`). */
  trustStore: boolean;
}): Promise<TaskView> {
  const { ctx, body } = options;
  const src = await sourceRow(ctx.db, body.sourceId);
  const app = await ctx.db
    .selectFrom('applications')
    .select('id')
    .where('id', '=', body.appId)
    .executeTakeFirst();
  if (!app) throw new YzError('HISTORY_TASK_INVALID', `no application ${body.appId}`);
  const mapping = JSON.parse(src.mapping) as ColumnMappingType;
  if (body.level === 'full' && (mapping.timestampToken === undefined || !options.trustStore))
    throw new YzError(
      'HISTORY_TASK_INVALID',
      'level full needs a timestampToken column and a trust store (YIZHENG_TRUST_STORE)',
    );
  if (body.window && body.window.start === body.window.end)
    throw new YzError('HISTORY_TASK_INVALID', 'the window is empty');
  const at = isoTime(ctx.now());
  const row: Insertable<HistoryTasksTable> & TaskRow = {
    id: newId('htask'),
    source_id: src.id,
    app_id: body.appId,
    level: body.level,
    window_start: body.window?.start ?? null,
    window_end: body.window?.end ?? null,
    rows_per_second: body.rowsPerSecond,
    batch_size: body.batchSize ?? 200,
    status: 'pending',
    cursor: null,
    total: null,
    migrated: 0,
    duplicates: 0,
    failed: 0,
    last_error: null,
    created_at: at,
    updated_at: at,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await lifecycleDb(trx).insertInto('history_tasks').values(row).execute();
    await logOp({ ...ctx, db: trx }, 'history.task.create', 'history_task', row.id, {
      sourceId: src.id,
      appId: body.appId,
      level: body.level,
    });
  });
  return taskView(row);
}

async function taskRow(db: Kysely<Database>, id: string): Promise<TaskRow> {
  const t = await lifecycleDb(db)
    .selectFrom('history_tasks')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!t) throw new YzError('HISTORY_TASK_NOT_FOUND', id);
  return t;
}

export async function getTask(options: { db: Kysely<Database>; id: string }): Promise<TaskView> {
  return taskView(await taskRow(options.db, options.id));
}

export async function listTasks(options: { db: Kysely<Database> }): Promise<TaskView[]> {
  const rows = await lifecycleDb(options.db)
    .selectFrom('history_tasks')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(taskView);
}

export async function listFailures(options: {
  db: Kysely<Database>;
  id: string;
  limit: number;
  after?: string;
}) {
  await taskRow(options.db, options.id);
  let q = lifecycleDb(options.db)
    .selectFrom('history_failures')
    .selectAll()
    .where('task_id', '=', options.id);
  if (options.after !== undefined) q = q.where('source_key', '>', options.after);
  const rows = await q.orderBy('source_key').limit(options.limit).execute();
  return rows.map((r) => ({ sourceKey: r.source_key, code: r.code, reason: r.reason, at: r.at }));
}

/** Pauses a pending/running task (the job skips it) or resumes a paused one. */
export async function setTaskPaused(options: {
  ctx: ServiceContext;
  id: string;
  paused: boolean;
}): Promise<TaskView> {
  const t = await taskRow(options.ctx.db, options.id);
  const allowed = options.paused ? ['pending', 'running'] : ['paused'];
  if (!allowed.includes(t.status)) throw new YzError('HISTORY_TASK_STATE', `the task is ${t.status}`);
  await lifecycleDb(options.ctx.db)
    .updateTable('history_tasks')
    .set({ status: options.paused ? 'paused' : 'pending', updated_at: isoTime(options.ctx.now()) })
    .where('id', '=', options.id)
    .execute();
  await logOp(
    options.ctx,
    options.paused ? 'history.task.pause' : 'history.task.resume',
    'history_task',
    options.id,
    {},
  );
  return getTask({ db: options.ctx.db, id: options.id });
}

// ── Mapping a row ──────────────────────────────────────────────────────────────────────────────────────────

function text(v: SourceValue | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Binary columns as base64; text columns are taken as base64 (or PEM for certificates) already. */
function b64(v: SourceValue | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  const s = text(v)?.trim();
  return s === '' ? undefined : s;
}

const MAX_CERTIFICATE_TEXTS = 10_000;
/** Certificate column texts (a hospital's few thousand signers, repeated on every row) → what is pushed. */
const CERTIFICATE_TEXTS = new Map<string, string>();

/**
 * A PEM certificate as base64 DER — the same bytes the ingest path would take from the PEM (the same
 * `fromPem`), decoded once per distinct text instead of once per row; anything else (base64 DER, a PEM that
 * does not decode) as given, for the ingest path to take or refuse as before.
 */
export function certificateText(s: string): string {
  if (!s.startsWith('-----')) return s;
  let out = CERTIFICATE_TEXTS.get(s);
  if (out === undefined) {
    try {
      const der = fromPem(s, 'CERTIFICATE');
      out = der.length > 0 ? Buffer.from(der).toString('base64') : s;
    } catch {
      out = s;
    }
    if (CERTIFICATE_TEXTS.size >= MAX_CERTIFICATE_TEXTS) CERTIFICATE_TEXTS.clear();
    CERTIFICATE_TEXTS.set(s, out);
  }
  return out;
}

type PushValidator = ReturnType<typeof compilePush>;
const compilePush = () => Compile(SignaturePush);
let compiledPush: PushValidator | undefined;
/** The push schema compiled once (the interpreted check costs ~40 µs a row). */
const pushCheck = (): PushValidator => (compiledPush ??= compilePush());

/** The signature push body of one intermediate-table row; HISTORY_ROW_INVALID when it cannot be one. */
export function mapRow(m: ColumnMappingType, row: SourceRow): SignaturePushBody {
  const get = (c: string | undefined) => (c === undefined ? undefined : row[c]);
  const format = m.format !== undefined ? text(get(m.format))?.toLowerCase() : m.defaultFormat;
  if (format !== 'cms' && format !== 'raw')
    throw new YzError('HISTORY_ROW_INVALID', `format "${format ?? ''}" is neither cms nor raw`);
  const serialNumber = text(get(m.serialNumber));
  const value = b64(get(m.signature));
  if (serialNumber === undefined || serialNumber === '')
    throw new YzError('HISTORY_ROW_INVALID', 'no serial number');
  if (value === undefined) throw new YzError('HISTORY_ROW_INVALID', 'no signature value');
  const certText = b64(get(m.certificate));
  const certificate = certText === undefined ? undefined : certificateText(certText);
  const original = b64(get(m.original));
  const timestampToken = b64(get(m.timestampToken));
  const signedAtRaw = get(m.signedAt);
  const signedAt = signedAtRaw instanceof Date ? signedAtRaw.toISOString() : text(signedAtRaw);
  const patientId = text(get(m.patientId));
  const patientName = text(get(m.patientName));
  const signer = text(get(m.signer));
  const businessType = text(get(m.businessType));
  const body: SignaturePushBody = {
    serialNumber,
    sourceSystem: 'history-migration',
    signature: { format, value, ...(certificate !== undefined ? { certificate } : {}) },
    ...(original !== undefined ? { original } : {}),
    ...(timestampToken !== undefined ? { timestampToken } : {}),
    ...(signedAt !== undefined ? { signedAt: new Date(signedAt).toISOString() } : {}),
    ...(patientId !== undefined || patientName !== undefined
      ? {
          patient: {
            ...(patientId !== undefined ? { id: patientId } : {}),
            ...(patientName !== undefined ? { name: patientName } : {}),
          },
        }
      : {}),
    ...(signer !== undefined ? { signer } : {}),
    ...(businessType !== undefined ? { businessType } : {}),
  };
  if (signedAt !== undefined && Number.isNaN(Date.parse(signedAt)))
    throw new YzError('HISTORY_ROW_INVALID', 'signedAt is not a time');
  if (!pushCheck().Check(body)) {
    const first = [...Value.Errors(SignaturePush, body)][0];
    throw new YzError('HISTORY_ROW_INVALID', first ? `${first.instancePath}: ${first.message}` : 'malformed');
  }
  return body;
}

// ── Running ────────────────────────────────────────────────────────────────────────────────────────────────

/** Minutes since midnight of `ms` in a time zone. */
function minutesIn(ms: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const h = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const m = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return h * 60 + m;
}

/** Whether `ms` falls in the task's window (`HH:MM`–`HH:MM`, may wrap midnight); always true without one. */
export function inWindow(
  t: Pick<HistoryTasksTable, 'window_start' | 'window_end'>,
  ms: number,
  timezone: string,
): boolean {
  if (t.window_start === null || t.window_end === null) return true;
  const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
  const now = minutesIn(ms, timezone);
  const a = toMin(t.window_start);
  const b = toMin(t.window_end);
  return a < b ? now >= a && now < b : now >= a || now < b;
}

export interface RunDeps {
  db: Kysely<Database>;
  evidence: EvidenceDeps;
  fieldCrypto: FieldCrypto;
  now(): number;
  timezone: string;
  /** Waits (throttle); resolves early when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface BatchOutcome {
  rows: number;
  migrated: number;
  duplicates: number;
  failed: number;
  done: boolean;
}

type RowResult =
  { key: string; ok: true; duplicate: boolean } | { key: string; ok: false; code: string; reason: string };

/** A batch read from the source and mapped. */
interface Staged {
  /** The cursor the batch was read after, and its last key (the cursor once it is committed). */
  after: string | null;
  last: string | null;
  rows: number;
  /** Per row: its key, and the mapping failure or undefined while the row is to be pushed. */
  keys: string[];
  results: (RowResult | undefined)[];
  bodies: { index: number; body: SignaturePushBody }[];
}

/** What a run of a task reads once: the source query, the mapping and the application pushed into. */
interface TaskContext {
  task: TaskRow;
  mapping: ColumnMappingType;
  query: { table: string; key: string; keyType: 'integer' | 'text'; columns: string[] };
  caller: { appId: string; projectId: string; projectStatus: ProjectStatus };
  adapter: SourceAdapter;
  deps: RunDeps;
}

async function taskContext(deps: RunDeps, t: TaskRow, adapter: SourceAdapter): Promise<TaskContext> {
  const src = await sourceRow(deps.db, t.source_id);
  const mapping = JSON.parse(src.mapping) as ColumnMappingType;
  const query = {
    table: src.source_table,
    key: mapping.key,
    keyType: mapping.keyType,
    columns: mappedColumns(mapping),
  };
  if (t.total === null) {
    const total = await adapter.count(query);
    await lifecycleDb(deps.db).updateTable('history_tasks').set({ total }).where('id', '=', t.id).execute();
  }
  const appRow = await deps.db
    .selectFrom('applications')
    .innerJoin('projects', 'projects.id', 'applications.project_id')
    .select(['applications.id as appId', 'projects.id as projectId', 'projects.status as projectStatus'])
    .where('applications.id', '=', t.app_id)
    .executeTakeFirst();
  if (!appRow) throw new YzError('HISTORY_TASK_INVALID', `no application ${t.app_id}`);
  const caller = { appId: appRow.appId, projectId: appRow.projectId, projectStatus: appRow.projectStatus };
  return { task: t, mapping, query, caller, adapter, deps };
}

async function stage(c: TaskContext, after: string | null): Promise<Staged> {
  const rows = await c.adapter.read(c.query, after, c.task.batch_size);
  const keys = rows.map((row) => text(row[c.mapping.key]) ?? '');
  const results = new Array<RowResult | undefined>(rows.length);
  const bodies: { index: number; body: SignaturePushBody }[] = [];
  rows.forEach((row, index) => {
    try {
      const body = mapRow(c.mapping, row);
      if (c.task.level === 'full' && body.timestampToken === undefined)
        throw new YzError('HISTORY_ROW_INVALID', 'level full: the row has no timestamp token');
      bodies.push({ index, body });
    } catch (e) {
      if (!isYzError(e)) throw e;
      results[index] = { key: keys[index]!, ok: false, code: e.code, reason: e.message };
    }
  });
  const last = rows.length === 0 ? after : (keys[rows.length - 1] ?? after);
  return { after, last, rows: rows.length, keys, results, bodies };
}

/**
 * Pushes a staged batch (its records stored once `gate` resolves) and returns every row's outcome. The mapped
 * rows go as ONE batch, receipt-free (history keeps none): the ingest path looks their earlier records up in one
 * query, does the SM2 curve work on the thread pool (evidence/preverify.ts) and its group-commit writer stores
 * them in shared transactions. A row re-read after a crash finds its record by dedupe key (kind, serial number,
 * SM3 of the signature; unique per application) and counts as a duplicate, never as a second record.
 */
async function pushStaged(c: TaskContext, s: Staged, gate: Promise<void>): Promise<RowResult[]> {
  const { results, bodies } = s;
  const evidence: EvidenceDeps = {
    ...c.deps.evidence,
    writer: gatedWriter(c.deps.evidence.writer, gate),
  };
  const pushed =
    bodies.length === 0
      ? []
      : await pushSignatureBatch({
          deps: evidence,
          caller: c.caller,
          items: bodies.map((b) => b.body),
          receipts: false,
        });
  for (const r of pushed) {
    const index = bodies[r.index]!.index;
    const key = s.keys[index]!;
    if (r.error !== undefined) {
      // 4xx: the row's fault, kept aside with the reason. Anything else (database down…) stops the batch.
      if (r.error.status >= 500) throw new YzError(r.error.code, r.error.detail);
      results[index] = { key, ok: false, code: r.error.code, reason: r.error.detail ?? r.error.code };
      continue;
    }
    if (c.task.level === 'full' && chainOf(r.verification) !== 'trusted') {
      results[index] = {
        key,
        ok: false,
        code: 'EVIDENCE_CHAIN_UNTRUSTED',
        reason: 'migrated record kept, but its chain is not trusted',
      };
      continue;
    }
    results[index] = { key, ok: true, duplicate: r.status === 200 };
  }
  const all = results.filter((r): r is RowResult => r !== undefined);
  if (all.length !== s.rows) throw new YzError('INTERNAL', 'a history row has no outcome');
  return all;
}

/**
 * Commits a pushed batch: cursor, counters and failures in one transaction. Returns whether it applied — not
 * when the task's cursor is no longer where the batch was read from (a concurrent runner, should the lease ever
 * be lost, already committed it), so it is never counted twice — and whether the task was paused meanwhile (read
 * in the same transaction, so the run needs no query of its own per batch to notice a pause).
 */
async function commitBatch(
  c: TaskContext,
  s: Staged,
  all: readonly RowResult[],
): Promise<BatchOutcome & { applied: boolean; paused: boolean }> {
  const at = isoTime(c.deps.now());
  const failures = all.filter((r): r is Extract<RowResult, { ok: false }> => !r.ok);
  const migrated = all.filter((r) => r.ok).length;
  const duplicates = all.filter((r) => r.ok && r.duplicate).length;
  const t = c.task;
  let paused = false;
  const applied = await c.deps.db.transaction().execute(async (trx) => {
    const l = lifecycleDb(trx);
    const cur = await l
      .selectFrom('history_tasks')
      .select(['cursor', 'migrated', 'duplicates', 'failed', 'status'])
      .where('id', '=', t.id)
      .executeTakeFirstOrThrow();
    if (cur.cursor !== s.after) return false;
    paused = cur.status === 'paused';
    const keys = failures.map((f) => f.key);
    if (keys.length > 0) {
      await l
        .deleteFrom('history_failures')
        .where('task_id', '=', t.id)
        .where('source_key', 'in', keys)
        .execute();
      await l
        .insertInto('history_failures')
        .values(
          failures.map((f) => ({
            task_id: t.id,
            source_key: f.key,
            code: f.code,
            reason: f.reason.slice(0, 2000),
            at,
          })),
        )
        .execute();
    }
    await l
      .updateTable('history_tasks')
      .set({
        cursor: s.last,
        migrated: toCount(cur.migrated) + migrated,
        duplicates: toCount(cur.duplicates) + duplicates,
        failed: toCount(cur.failed) + failures.length,
        // A pause asked for while the batch was stored stays.
        status: cur.status === 'paused' ? 'paused' : 'running',
        last_error: null,
        updated_at: at,
      })
      .where('id', '=', t.id)
      .execute();
    return true;
  });
  return { rows: s.rows, migrated, duplicates, failed: failures.length, done: false, applied, paused };
}

/** Marks the task completed, unless its cursor has moved from `after` (where nothing more was found). */
async function markCompleted(c: TaskContext, after: string | null): Promise<void> {
  const q = lifecycleDb(c.deps.db)
    .updateTable('history_tasks')
    .set({ status: 'completed', updated_at: isoTime(c.deps.now()) })
    .where('id', '=', c.task.id);
  await (after === null ? q.where('cursor', 'is', null) : q.where('cursor', '=', after)).execute();
}

/** Migrates one batch of a task: read after the cursor → push → commit cursor, counters and failures. */
export async function runBatch(options: {
  deps: RunDeps;
  taskId: string;
  source?: SourceAdapter;
}): Promise<BatchOutcome> {
  const { deps } = options;
  const t = await taskRow(deps.db, options.taskId);
  const adapter = options.source ?? adapterOf(deps.fieldCrypto, await sourceRow(deps.db, t.source_id));
  try {
    const c = await taskContext(deps, t, adapter);
    const s = await stage(c, t.cursor);
    if (s.rows === 0) {
      await markCompleted(c, s.after);
      return { rows: 0, migrated: 0, duplicates: 0, failed: 0, done: true };
    }
    const b = await commitBatch(c, s, await pushStaged(c, s, Promise.resolve()));
    return { rows: b.rows, migrated: b.migrated, duplicates: b.duplicates, failed: b.failed, done: false };
  } finally {
    if (!options.source) await adapter.close();
  }
}

function chainOf(verification: string | undefined): string | undefined {
  if (verification === undefined) return undefined;
  const v = JSON.parse(verification) as { chain?: unknown };
  return typeof v.chain === 'string' ? v.chain : undefined;
}

const settle = (p: Promise<unknown> | undefined): Promise<unknown> =>
  p === undefined ? Promise.resolve() : p.catch(() => undefined);

type Totals = Omit<BatchOutcome, 'done'>;
type Committed = Awaited<ReturnType<typeof commitBatch>>;

/**
 * Batches being prepared or written at once. Two left the event loop idle about half the time: batch k+1 was
 * prepared only while k was written, so each batch's dedupe lookup and preparation waited on the write before
 * it, and the write on them. With three, k+2 is prepared while k is written and k+1 waits its turn, so neither
 * the event loop nor the database waits on the other. Writes stay one batch at a time (gates), so at most one
 * batch is ever stored past the committed cursor.
 */
const IN_FLIGHT = 3;

/**
 * Runs one task batch after batch, {@link IN_FLIGHT} deep: while batch k is written and committed, the batches
 * after it (each read and pre-verified while the one before was being prepared) are verified, hashed and built,
 * and the next is read. A batch's records are handed to the writer only after the batch before was committed
 * (gatedWriter), so a crash leaves at most one batch stored past the cursor, as a sequential run would. Stops
 * when done, out of window, paused, aborted, throttled to the task's rows per second (a batch of n rows starts
 * at least n / rowsPerSecond s after the last).
 */
async function runTask(c: TaskContext, signal: AbortSignal, totals: Totals): Promise<void> {
  const { deps, task: t } = c;
  const add = (b: Totals): void => {
    totals.rows += b.rows;
    totals.migrated += b.migrated;
    totals.duplicates += b.duplicates;
    totals.failed += b.failed;
  };
  let next: Promise<Staged> | undefined = stage(c, t.cursor);
  /** Batches handed to pushStaged and not yet counted, oldest first (each committed after the one before). */
  const inFlight: Promise<Committed>[] = [];
  /** Counts the oldest batch in flight; false when it did not apply (someone else moved the cursor). */
  const settleOldest = async (): Promise<{ applied: boolean; paused: boolean }> => {
    const b = await inFlight.shift()!;
    if (b.applied) add(b);
    return b;
  };
  try {
    run: while (!signal.aborted && inWindow(t, deps.now(), deps.timezone)) {
      const started = deps.now();
      const s: Staged = await next;
      next = undefined;
      if (s.rows === 0) {
        while (inFlight.length > 0) if (!(await settleOldest()).applied) return;
        await markCompleted(c, s.after);
        return;
      }
      next = stage(c, s.last);
      next.catch(() => undefined); // observed by the next turn, or settled on the way out
      const before = inFlight.at(-1);
      const gate =
        before === undefined
          ? Promise.resolve()
          : before.then(
              (b) => {
                if (!b.applied) throw new GateClosed('the batch before was not committed');
              },
              () => {
                throw new GateClosed('the batch before failed');
              },
            );
      gate.catch(() => undefined); // awaited by the writer and the commit; never an unhandled rejection
      const pushed = pushStaged(c, s, gate).then(async (all) => {
        await gate;
        return commitBatch(c, s, all);
      });
      pushed.catch(() => undefined); // observed below, on a later turn or on the way out
      inFlight.push(pushed);
      while (inFlight.length >= IN_FLIGHT) {
        const b = await settleOldest();
        if (!b.applied) return; // someone else moved the cursor: this run stops, the next resumes from it
        if (b.paused) break run; // read in the batch's commit: the batches in flight finish, then the run stops
      }
      // Throttle: the next batch is read no sooner than n / rowsPerSecond seconds after this one was taken.
      await deps.sleep((s.rows * 1000) / t.rows_per_second - (deps.now() - started), signal);
    }
    while (inFlight.length > 0) if (!(await settleOldest()).applied) return;
  } finally {
    for (const p of inFlight) await settle(p);
    await settle(next);
  }
}

/**
 * The history-migration job: runs every pending/running task inside its window, batch after batch, throttled
 * to its rows per second, until done, out of window, or the run is aborted (stop, shutdown, lost lease).
 */
export async function runHistoryTasks(options: {
  deps: RunDeps;
  signal: AbortSignal;
}): Promise<Record<string, number>> {
  const { deps, signal } = options;
  const totals = { tasks: 0, rows: 0, migrated: 0, duplicates: 0, failed: 0 };
  const tasks = await lifecycleDb(deps.db)
    .selectFrom('history_tasks')
    .selectAll()
    .where('status', 'in', ['pending', 'running'])
    .orderBy('created_at')
    .execute();
  for (const t of tasks) {
    if (signal.aborted) break;
    if (!inWindow(t, deps.now(), deps.timezone)) continue;
    totals.tasks++;
    const adapter = adapterOf(deps.fieldCrypto, await sourceRow(deps.db, t.source_id));
    try {
      await runTask(await taskContext(deps, t, adapter), signal, totals);
    } catch (e) {
      const msg = isYzError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
      await lifecycleDb(deps.db)
        .updateTable('history_tasks')
        .set({ last_error: msg.slice(0, 2000), updated_at: isoTime(deps.now()) })
        .where('id', '=', t.id)
        .execute();
      throw e;
    } finally {
      await adapter.close();
    }
  }
  return totals;
}
