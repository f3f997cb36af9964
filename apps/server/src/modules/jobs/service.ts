/**
 * Job management use cases (任务管理): list, view, run log, start, stop, change schedule, run now.
 *
 * With a running {@link JobManager} (the server), changes apply at once here and, through `job_state`, on the
 * other servers within their sync interval. Without one (the CLI, `yizheng jobs …`), the same changes are made
 * in `job_state` only and the servers pick them up; "run now" becomes a request the first server serves.
 * Every change is written to the operation log.
 */
import type { Kysely } from 'kysely';
import { appendToChain } from '../../audit/hash-chain.js';
import { isoTime, type ServiceContext } from '../../context.js';
import type { Database } from '../../db/schema.js';
import { YzError } from '../../errors.js';
import {
  DEFAULT_TIMEZONE,
  checkSchedule,
  nextCronRun,
  parseInterval,
  runView,
  type JobManager,
  type JobRunView,
  type JobView,
} from '../../jobs/manager.js';
import { lifecycleDb } from '../../lifecycle/tables.js';

async function logChange(ctx: ServiceContext, action: string, jobId: string, detail: object): Promise<void> {
  await appendToChain({
    db: ctx.db,
    table: 'operation_logs',
    entry: {
      at: isoTime(ctx.now()),
      actor: ctx.actor,
      action,
      target_type: 'job',
      target_id: jobId,
      project_id: null,
      detail: JSON.stringify(detail),
    },
  });
}

export function listJobs(options: { manager: JobManager }): Promise<JobView[]> {
  return options.manager.list();
}

export function getJob(options: { manager: JobManager; id: string }): Promise<JobView> {
  return options.manager.get(options.id);
}

export function listRuns(options: {
  manager: JobManager;
  id: string;
  limit: number;
  before?: string;
}): Promise<JobRunView[]> {
  return options.manager.runs(options.id, {
    limit: options.limit,
    ...(options.before !== undefined ? { before: options.before } : {}),
  });
}

export async function setJobEnabled(options: {
  ctx: ServiceContext;
  manager: JobManager;
  id: string;
  enabled: boolean;
}): Promise<JobView> {
  const view = await options.manager.setEnabled(options.id, options.enabled);
  await logChange(options.ctx, options.enabled ? 'job.start' : 'job.stop', options.id, {});
  return view;
}

export async function setJobSchedule(options: {
  ctx: ServiceContext;
  manager: JobManager;
  id: string;
  schedule: string | null;
}): Promise<JobView> {
  const view = await options.manager.setSchedule(options.id, options.schedule);
  await logChange(options.ctx, 'job.schedule', options.id, { schedule: view.schedule });
  return view;
}

/** Starts a run now; `wait` resolves when it ends. JOB_BUSY when it already runs (here or elsewhere). */
export async function runJob(options: {
  ctx: ServiceContext;
  manager: JobManager;
  id: string;
  wait: boolean;
}): Promise<{ runId: string; run: JobRunView | null }> {
  const started = await options.manager.runNow(options.id);
  if (started.status === 'busy') throw new YzError('JOB_BUSY', started.holder ?? options.id);
  await logChange(options.ctx, 'job.run', options.id, { runId: started.runId });
  if (!options.wait) {
    started.done.catch(() => undefined);
    return { runId: started.runId, run: null };
  }
  return { runId: started.runId, run: await started.done };
}

// ── Without a manager (CLI): the state in the database ─────────────────────────────────────────────────────

export interface StoredJob {
  id: string;
  description: string;
  schedule: string;
  defaultSchedule: string;
  enabled: boolean;
  runRequested: boolean;
  running: boolean;
  runningOn: string | null;
  lastRun: JobRunView | null;
  nextRun: string | null;
}

export async function listStoredJobs(options: {
  db: Kysely<Database>;
  now: number;
  timezone?: string;
}): Promise<StoredJob[]> {
  const db = lifecycleDb(options.db);
  const tz = options.timezone ?? DEFAULT_TIMEZONE;
  const at = isoTime(options.now);
  const rows = await db.selectFrom('job_state').selectAll().orderBy('job_id').execute();
  const leases = await db.selectFrom('job_leases').selectAll().where('expires_at', '>=', at).execute();
  const out: StoredJob[] = [];
  for (const r of rows) {
    const last = await db
      .selectFrom('job_runs')
      .selectAll()
      .where('job_id', '=', r.job_id)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const schedule = r.schedule ?? r.default_schedule;
    const lease = leases.find((l) => l.job_id === r.job_id);
    const interval = parseInterval(schedule);
    const next =
      r.enabled !== 1
        ? null
        : interval !== undefined
          ? options.now + interval
          : nextCronRun(schedule, tz, options.now);
    out.push({
      id: r.job_id,
      description: r.description,
      schedule,
      defaultSchedule: r.default_schedule,
      enabled: r.enabled === 1,
      runRequested: r.run_requested_at !== null,
      running: lease !== undefined,
      runningOn: lease ? (lease.holder.split('/')[0] ?? null) : null,
      lastRun: last ? runView(last) : null,
      nextRun: next === null ? null : isoTime(next),
    });
  }
  return out;
}

async function storedJob(db: Kysely<Database>, id: string) {
  const row = await lifecycleDb(db)
    .selectFrom('job_state')
    .selectAll()
    .where('job_id', '=', id)
    .executeTakeFirst();
  if (!row) throw new YzError('JOB_NOT_FOUND', id);
  return row;
}

/** Starts/stops a job in the database (the servers apply it at their next sync). */
export async function setStoredJobEnabled(options: {
  ctx: ServiceContext;
  id: string;
  enabled: boolean;
}): Promise<void> {
  await storedJob(options.ctx.db, options.id);
  await lifecycleDb(options.ctx.db)
    .updateTable('job_state')
    .set({ enabled: options.enabled ? 1 : 0, updated_at: isoTime(options.ctx.now()) })
    .where('job_id', '=', options.id)
    .execute();
  await logChange(options.ctx, options.enabled ? 'job.start' : 'job.stop', options.id, {});
}

export async function setStoredJobSchedule(options: {
  ctx: ServiceContext;
  id: string;
  schedule: string | null;
  timezone?: string;
}): Promise<void> {
  const row = await storedJob(options.ctx.db, options.id);
  const kind = parseInterval(row.default_schedule) !== undefined ? 'interval' : 'cron';
  checkSchedule(kind, options.schedule ?? row.default_schedule, options.timezone ?? DEFAULT_TIMEZONE);
  await lifecycleDb(options.ctx.db)
    .updateTable('job_state')
    .set({ schedule: options.schedule, updated_at: isoTime(options.ctx.now()) })
    .where('job_id', '=', options.id)
    .execute();
  await logChange(options.ctx, 'job.schedule', options.id, {
    schedule: options.schedule ?? row.default_schedule,
  });
}

/** Asks the servers to run a job now; the first to see the request runs it. Returns the request time. */
export async function requestJobRun(options: { ctx: ServiceContext; id: string }): Promise<string> {
  await storedJob(options.ctx.db, options.id);
  const at = isoTime(options.ctx.now());
  await lifecycleDb(options.ctx.db)
    .updateTable('job_state')
    .set({ run_requested_at: at })
    .where('job_id', '=', options.id)
    .execute();
  await logChange(options.ctx, 'job.run', options.id, { requestedAt: at });
  return at;
}

/** Runs recorded since `since` (to follow a requested run from the CLI). */
export async function runsSince(options: {
  db: Kysely<Database>;
  id: string;
  since: string;
}): Promise<JobRunView[]> {
  const rows = await lifecycleDb(options.db)
    .selectFrom('job_runs')
    .selectAll()
    .where('job_id', '=', options.id)
    .where('started_at', '>=', options.since)
    .orderBy('started_at')
    .execute();
  return rows.map(runView);
}
