/**
 * The job manager (任务管理, seed §1.6): schedules declared {@link Job}s and manages them at runtime.
 *
 * State lives in the database, so every server on one database and the CLI see and change the same jobs:
 * - `job_state` — enabled/stopped, the schedule in force, a pending "run now" request. Each manager re-reads it
 *   every `syncMs` and applies what changed (a stop or a new schedule made elsewhere, a run requested by the CLI).
 * - `job_leases` — exclusive jobs take a lease row before each run: inserted when absent, or taken over by one
 *   conditional UPDATE when expired (`WHERE expires_at < now`); whichever statement affects the row owns the
 *   run, so two servers never run the job at once. The lease is renewed every third of its length while the
 *   run lasts; if a renewal finds it gone the run's signal is aborted.
 * - `job_runs` — one row per run (start, end, outcome, counts, error) when the job-log switch is on; a run left
 *   `running` by a killed process is marked `interrupted` when its lease is taken over.
 */
import { randomBytes } from 'node:crypto';
import { Cron } from 'croner';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { YzError } from '../errors.js';
import { lifecycleDb, type JobOutcome, type JobRunsTable, type JobTrigger } from '../lifecycle/tables.js';
import type { Job, JobResult } from './job.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The job manager, started onReady (app.ts). */
    jobs: JobManager;
  }
}

export const DEFAULT_TIMEZONE = 'Asia/Shanghai';

export interface JobManagerOptions {
  db: Kysely<Database>;
  now(): number;
  log: FastifyBaseLogger;
  /** Whether runs are recorded (the job-log switch of the system configuration). */
  jobLog(): Promise<boolean>;
  /** Identifies this server in leases and runs (default: a random id). */
  instanceId?: string;
  /** Time zone of cron schedules (default Asia/Shanghai). */
  timezone?: string;
  /** Lease length (default 60 s; renewed while running). */
  leaseMs?: number;
  /** How often `job_state` is re-read (default 5 s). */
  syncMs?: number;
}

export interface JobRunView {
  id: string;
  jobId: string;
  trigger: JobTrigger;
  holder: string;
  startedAt: string;
  endedAt: string | null;
  outcome: JobOutcome;
  counts: Record<string, number>;
  error: string | null;
}

export interface JobView {
  id: string;
  description: string;
  kind: 'cron' | 'interval';
  defaultSchedule: string;
  schedule: string;
  enabled: boolean;
  exclusive: boolean;
  /** True when a run is in progress on any server (an unexpired lease) or in this process. */
  running: boolean;
  runningOn: string | null;
  lastRun: JobRunView | null;
  nextRun: string | null;
}

export type RunStart =
  { status: 'started'; runId: string; done: Promise<JobRunView> } | { status: 'busy'; holder: string | null };

/** `@every 60s` style schedule of an interval job. */
export function intervalSchedule(ms: number): string {
  return ms % 1000 === 0 ? `@every ${ms / 1000}s` : `@every ${ms}ms`;
}

const INTERVAL = /^@every (\d{1,9})(ms|s|m|h)$/;

/** Milliseconds of an `@every …` schedule, or undefined for a cron pattern. */
export function parseInterval(schedule: string): number | undefined {
  const m = INTERVAL.exec(schedule);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
  return n * unit;
}

/** Validates a schedule for a job of the given kind; throws JOB_SCHEDULE_INVALID. */
export function checkSchedule(kind: 'cron' | 'interval', schedule: string, timezone: string): void {
  if (schedule.length > 100) throw new YzError('JOB_SCHEDULE_INVALID', 'at most 100 characters');
  if (kind === 'interval') {
    const ms = parseInterval(schedule);
    if (ms === undefined || ms < 100)
      throw new YzError('JOB_SCHEDULE_INVALID', 'an interval job takes "@every <n>ms|s|m|h" (≥ 100 ms)');
    return;
  }
  try {
    const c = new Cron(schedule, { paused: true, timezone });
    c.stop();
  } catch (e) {
    throw new YzError('JOB_SCHEDULE_INVALID', e instanceof Error ? e.message : String(e));
  }
}

/** The next time (Unix ms) a cron pattern fires after `after`, or null. */
export function nextCronRun(schedule: string, timezone: string, after: number): number | null {
  try {
    const c = new Cron(schedule, { paused: true, timezone });
    const n = c.nextRun(new Date(after));
    c.stop();
    return n ? n.getTime() : null;
  } catch {
    return null;
  }
}

function countsOf(result: JobResult): Record<string, number> {
  if (typeof result === 'number') return { count: result };
  if (typeof result !== 'object' || result === null) return {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(result as Record<string, unknown>))
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

function errorText(e: unknown): string {
  const text = e instanceof YzError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
  return text.slice(0, 2000);
}

export function runView(r: JobRunsTable): JobRunView {
  let counts: Record<string, number> = {};
  if (r.counts !== null) {
    try {
      counts = JSON.parse(r.counts) as Record<string, number>;
    } catch {
      counts = {};
    }
  }
  return {
    id: r.id,
    jobId: r.job_id,
    trigger: r.trigger,
    holder: r.holder,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    outcome: r.outcome,
    counts,
    error: r.error,
  };
}

interface Entry {
  job: Job;
  kind: 'cron' | 'interval';
  exclusive: boolean;
  record: boolean;
  defaultSchedule: string;
  schedule: string;
  enabled: boolean;
  timer: NodeJS.Timeout | undefined;
  cron: Cron | undefined;
  /** The run in progress in this process. */
  current: { abort: AbortController; done: Promise<JobRunView> } | undefined;
  runRequestedAt: string | null;
}

export class JobManager {
  readonly instanceId: string;
  readonly timezone: string;
  private readonly entries = new Map<string, Entry>();
  private readonly leaseMs: number;
  private readonly syncMs: number;
  private syncTimer: NodeJS.Timeout | undefined;
  private started = false;
  private scheduling = false;
  private closed = false;

  constructor(
    private readonly options: JobManagerOptions,
    jobs: readonly Job[] = [],
  ) {
    this.instanceId = options.instanceId ?? `srv_${randomBytes(6).toString('hex')}`;
    this.timezone = options.timezone ?? DEFAULT_TIMEZONE;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.syncMs = options.syncMs ?? 5_000;
    for (const job of jobs) this.register(job);
  }

  private get db() {
    return lifecycleDb(this.options.db);
  }

  /** Declares a job (before {@link start}). */
  register(job: Job): void {
    if (this.started) throw new Error(`job ${job.id} declared after start`);
    if (this.entries.has(job.id)) throw new Error(`job ${job.id} declared twice`);
    const kind = job.defaultSchedule !== undefined ? 'cron' : 'interval';
    const defaultSchedule = job.defaultSchedule ?? intervalSchedule(job.everyMs ?? 60_000);
    checkSchedule(kind, defaultSchedule, this.timezone);
    this.entries.set(job.id, {
      job,
      kind,
      exclusive: job.exclusive ?? kind === 'cron',
      record: job.record ?? kind === 'cron',
      defaultSchedule,
      schedule: defaultSchedule,
      enabled: !(job.initiallyStopped ?? false),
      timer: undefined,
      cron: undefined,
      current: undefined,
      runRequestedAt: null,
    });
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new YzError('JOB_NOT_FOUND', id);
    return e;
  }

  /** Registers the jobs in `job_state` (keeping stored schedules and stops), then starts scheduling. */
  async start(options: { schedule?: boolean } = {}): Promise<void> {
    await this.sync(true);
    this.started = true;
    // Without scheduling (tests, `jobs: false`): the state is registered and runs happen only on request.
    if (options.schedule === false) return;
    this.scheduling = true;
    for (const e of this.entries.values()) this.arm(e);
    this.syncTimer = setInterval(() => {
      this.sync(false).catch((err: unknown) => {
        this.options.log.warn({ err }, 'job state sync failed');
      });
    }, this.syncMs);
    this.syncTimer.unref();
  }

  /** Stops scheduling, aborts running handlers and waits for them (their runs are recorded). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    for (const e of this.entries.values()) this.disarm(e);
    const running = [...this.entries.values()].flatMap((e) => (e.current ? [e.current] : []));
    for (const r of running) r.abort.abort();
    await Promise.allSettled(running.map((r) => r.done));
  }

  /** Reads `job_state`: inserts rows of new jobs, applies stored enabled/schedule, serves run requests. */
  async sync(initial: boolean): Promise<void> {
    const at = isoTime(this.options.now());
    const rows = await this.db.selectFrom('job_state').selectAll().execute();
    const byId = new Map(rows.map((r) => [r.job_id, r]));
    for (const e of this.entries.values()) {
      const row = byId.get(e.job.id);
      if (row === undefined) {
        try {
          await this.db
            .insertInto('job_state')
            .values({
              job_id: e.job.id,
              description: e.job.description ?? '',
              default_schedule: e.defaultSchedule,
              schedule: null,
              enabled: e.enabled ? 1 : 0,
              run_requested_at: null,
              updated_at: at,
            })
            .execute();
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
        }
        continue;
      }
      if (
        initial &&
        (row.default_schedule !== e.defaultSchedule || row.description !== (e.job.description ?? ''))
      )
        await this.db
          .updateTable('job_state')
          .set({ default_schedule: e.defaultSchedule, description: e.job.description ?? '' })
          .where('job_id', '=', e.job.id)
          .execute();
      let schedule = row.schedule ?? e.defaultSchedule;
      try {
        checkSchedule(e.kind, schedule, this.timezone);
      } catch {
        schedule = e.defaultSchedule;
      }
      const enabled = row.enabled === 1;
      if (schedule !== e.schedule || enabled !== e.enabled) {
        e.schedule = schedule;
        e.enabled = enabled;
        if (this.scheduling) this.arm(e);
      }
      if (!initial && row.run_requested_at !== null && row.run_requested_at !== e.runRequestedAt) {
        e.runRequestedAt = row.run_requested_at;
        await this.serveRequest(e, row.run_requested_at);
      } else if (initial) {
        e.runRequestedAt = row.run_requested_at;
        if (row.run_requested_at !== null) await this.serveRequest(e, row.run_requested_at);
      }
    }
  }

  /** A pending "run now" request: the first manager to clear it (conditional update) runs the job. */
  private async serveRequest(e: Entry, requestedAt: string): Promise<void> {
    const r = await this.db
      .updateTable('job_state')
      .set({ run_requested_at: null })
      .where('job_id', '=', e.job.id)
      .where('run_requested_at', '=', requestedAt)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return;
    e.runRequestedAt = null;
    const started = await this.runNow(e.job.id);
    if (started.status === 'started') started.done.catch(() => undefined);
  }

  private disarm(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
    e.cron?.stop();
    e.cron = undefined;
  }

  /** (Re)schedules one job from its current schedule and enabled flag. */
  private arm(e: Entry): void {
    this.disarm(e);
    if (this.closed || !e.enabled) return;
    if (e.kind === 'interval') {
      const ms = parseInterval(e.schedule) ?? 60_000;
      e.timer = setTimeout(() => {
        void this.tick(e).finally(() => {
          if (e.timer !== undefined || e.cron !== undefined || this.closed) return;
          this.arm(e);
        });
        e.timer = undefined;
      }, ms);
      e.timer.unref();
      return;
    }
    e.cron = new Cron(e.schedule, { timezone: this.timezone, protect: true, unref: true }, () => {
      void this.tick(e);
    });
  }

  private async tick(e: Entry): Promise<void> {
    try {
      const s = await this.execute(e, 'schedule');
      if (s.status === 'started') await s.done;
    } catch (err) {
      this.options.log.error({ job: e.job.id, err }, 'job run failed to start');
    }
  }

  private async acquireLease(jobId: string, holder: string): Promise<boolean> {
    const now = this.options.now();
    const at = isoTime(now);
    const expires = isoTime(now + this.leaseMs);
    try {
      await this.db
        .insertInto('job_leases')
        .values({ job_id: jobId, holder, acquired_at: at, expires_at: expires })
        .execute();
      return true;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    const prev = await this.db
      .selectFrom('job_leases')
      .select(['holder', 'expires_at'])
      .where('job_id', '=', jobId)
      .executeTakeFirst();
    const r = await this.db
      .updateTable('job_leases')
      .set({ holder, acquired_at: at, expires_at: expires })
      .where('job_id', '=', jobId)
      .where('expires_at', '<', at)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return false;
    // The previous holder died (or hung past its lease): its run, if recorded, did not finish.
    if (prev)
      await this.db
        .updateTable('job_runs')
        .set({ outcome: 'interrupted', ended_at: at, error: 'lease expired (process stopped?)' })
        .where('job_id', '=', jobId)
        .where('holder', '=', prev.holder)
        .where('outcome', '=', 'running')
        .execute();
    return true;
  }

  private async renewLease(jobId: string, holder: string): Promise<boolean> {
    const r = await this.db
      .updateTable('job_leases')
      .set({ expires_at: isoTime(this.options.now() + this.leaseMs) })
      .where('job_id', '=', jobId)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  private async releaseLease(jobId: string, holder: string): Promise<void> {
    await this.db.deleteFrom('job_leases').where('job_id', '=', jobId).where('holder', '=', holder).execute();
  }

  /** Runs a job now, outside its schedule (also when stopped). `busy` when it runs here or on another server. */
  async runNow(id: string): Promise<RunStart> {
    return this.execute(this.entry(id), 'manual');
  }

  private async execute(e: Entry, trigger: JobTrigger): Promise<RunStart> {
    if (e.current) return { status: 'busy', holder: this.instanceId };
    const runId = `run_${randomBytes(10).toString('hex')}`;
    const holder = `${this.instanceId}/${runId}`;
    const abort = new AbortController();
    // Reserve the slot synchronously so two local triggers cannot both pass the check above.
    let resolveDone!: (v: JobRunView) => void;
    let rejectDone!: (e: unknown) => void;
    const done = new Promise<JobRunView>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    e.current = { abort, done };
    try {
      if (e.exclusive && !(await this.acquireLease(e.job.id, holder))) {
        e.current = undefined;
        const l = await this.db
          .selectFrom('job_leases')
          .select('holder')
          .where('job_id', '=', e.job.id)
          .executeTakeFirst();
        return { status: 'busy', holder: l?.holder ?? null };
      }
    } catch (err) {
      e.current = undefined;
      throw err;
    }
    void this.perform(e, trigger, runId, holder, abort).then(
      (v) => {
        e.current = undefined;
        resolveDone(v);
      },
      (err: unknown) => {
        e.current = undefined;
        rejectDone(err);
      },
    );
    return { status: 'started', runId, done };
  }

  private async perform(
    e: Entry,
    trigger: JobTrigger,
    runId: string,
    holder: string,
    abort: AbortController,
  ): Promise<JobRunView> {
    const startedAt = isoTime(this.options.now());
    const record = e.record && (await this.options.jobLog().catch(() => true));
    const row: JobRunsTable = {
      id: runId,
      job_id: e.job.id,
      trigger,
      holder,
      started_at: startedAt,
      ended_at: null,
      outcome: 'running',
      counts: null,
      error: null,
    };
    let renew: NodeJS.Timeout | undefined;
    try {
      if (record) await this.db.insertInto('job_runs').values(row).execute();
      if (e.exclusive) {
        renew = setInterval(
          () => {
            this.renewLease(e.job.id, holder).then(
              (ok) => {
                if (!ok) abort.abort();
              },
              () => undefined,
            );
          },
          Math.max(50, Math.floor(this.leaseMs / 3)),
        );
        renew.unref();
      }
      try {
        const result = await e.job.handler({ runId, trigger, signal: abort.signal });
        row.outcome = 'succeeded';
        row.counts = JSON.stringify(countsOf(result));
      } catch (err) {
        row.outcome = 'failed';
        row.error = errorText(err);
        this.options.log.error({ job: e.job.id, runId, err }, 'job failed');
      }
      row.ended_at = isoTime(this.options.now());
      if (record)
        await this.db
          .updateTable('job_runs')
          .set({ ended_at: row.ended_at, outcome: row.outcome, counts: row.counts, error: row.error })
          .where('id', '=', runId)
          .execute();
      return runView(row);
    } finally {
      if (renew) clearInterval(renew);
      if (e.exclusive) await this.releaseLease(e.job.id, holder).catch(() => undefined);
    }
  }

  /** Resolves when no run is in progress in this process. */
  async idle(): Promise<void> {
    const running = [...this.entries.values()].flatMap((e) => (e.current ? [e.current.done] : []));
    await Promise.allSettled(running);
  }

  async list(): Promise<JobView[]> {
    const out: JobView[] = [];
    for (const id of this.entries.keys()) out.push(await this.get(id));
    return out;
  }

  async get(id: string): Promise<JobView> {
    const e = this.entry(id);
    const now = this.options.now();
    const lease = await this.db
      .selectFrom('job_leases')
      .selectAll()
      .where('job_id', '=', id)
      .where('expires_at', '>=', isoTime(now))
      .executeTakeFirst();
    const last = await this.db
      .selectFrom('job_runs')
      .selectAll()
      .where('job_id', '=', id)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    let nextRun: string | null = null;
    if (e.enabled) {
      if (e.kind === 'cron') {
        const n = nextCronRun(e.schedule, this.timezone, now);
        nextRun = n === null ? null : isoTime(n);
      } else {
        nextRun = isoTime(now + (parseInterval(e.schedule) ?? 0));
      }
    }
    return {
      id,
      description: e.job.description ?? '',
      kind: e.kind,
      defaultSchedule: e.defaultSchedule,
      schedule: e.schedule,
      enabled: e.enabled,
      exclusive: e.exclusive,
      running: e.current !== undefined || lease !== undefined,
      runningOn: lease ? (lease.holder.split('/')[0] ?? null) : e.current ? this.instanceId : null,
      lastRun: last ? runView(last) : null,
      nextRun,
    };
  }

  async runs(id: string, options: { limit: number; before?: string }): Promise<JobRunView[]> {
    this.entry(id);
    let q = this.db.selectFrom('job_runs').selectAll().where('job_id', '=', id);
    if (options.before !== undefined) q = q.where('started_at', '<', options.before);
    const rows = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
    return rows.map(runView);
  }

  /** Starts (enables) or stops a job on every server; stopping also aborts its run in this process. */
  async setEnabled(id: string, enabled: boolean): Promise<JobView> {
    const e = this.entry(id);
    await this.db
      .updateTable('job_state')
      .set({ enabled: enabled ? 1 : 0, updated_at: isoTime(this.options.now()) })
      .where('job_id', '=', id)
      .execute();
    e.enabled = enabled;
    if (!enabled) e.current?.abort.abort();
    if (this.scheduling) this.arm(e);
    return this.get(id);
  }

  /** Sets the schedule (null: back to the default) on every server. */
  async setSchedule(id: string, schedule: string | null): Promise<JobView> {
    const e = this.entry(id);
    const effective = schedule ?? e.defaultSchedule;
    checkSchedule(e.kind, effective, this.timezone);
    await this.db
      .updateTable('job_state')
      .set({
        schedule: schedule === null || schedule === e.defaultSchedule ? null : schedule,
        updated_at: isoTime(this.options.now()),
      })
      .where('job_id', '=', id)
      .execute();
    e.schedule = effective;
    if (this.scheduling) this.arm(e);
    return this.get(id);
  }
}
