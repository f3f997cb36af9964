/**
 * The job manager on every test database: runs recorded (or not, with the job-log switch off), failures kept,
 * the lease keeps a second server out and is taken over when expired (the dead run marked interrupted), state
 * changes and run requests made elsewhere (CLI) reach a manager at its next sync, a cron schedule fires.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { isoTime } from '../context.js';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import { YzError } from '../errors.js';
import { lifecycleDb } from '../lifecycle/tables.js';
import {
  listStoredJobs,
  requestJobRun,
  setStoredJobEnabled,
  setStoredJobSchedule,
} from '../modules/jobs/service.js';
import { T0 } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import type { Job } from './job.js';
import { JobManager, nextCronRun } from './manager.js';

const log = pino({ level: 'silent' });

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each(testDialects())('job manager on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  let clock = T0;
  let jobLog = true;
  const now = () => clock;
  const managers: JobManager[] = [];
  const manager = (jobs: Job[], instanceId: string): JobManager => {
    const m = new JobManager(
      { db: db.kysely, now, log, jobLog: () => Promise.resolve(jobLog), instanceId, leaseMs: 60_000 },
      jobs,
    );
    managers.push(m);
    return m;
  };

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openDatabase(tdb.config);
    await migrateToLatest(db.kysely);
  });
  afterAll(async () => {
    for (const m of managers) await m.close();
    await db.close();
    await tdb.drop();
  });

  it('records a run with its counts, and a failing run with its error', async () => {
    let calls = 0;
    const m = manager(
      [
        {
          id: 'count-job',
          defaultSchedule: '0 2 * * *',
          description: 'counts',
          handler: () => Promise.resolve({ processed: ++calls, skipped: 0 }),
        },
        {
          id: 'fail-job',
          defaultSchedule: '0 3 * * *',
          handler: () => Promise.reject(new YzError('HISTORY_SOURCE_UNREACHABLE', 'down')),
        },
      ],
      'srv-a',
    );
    await m.start({ schedule: false });
    const s = await m.runNow('count-job');
    expect(s.status).toBe('started');
    if (s.status !== 'started') return;
    const run = await s.done;
    expect(run).toMatchObject({
      jobId: 'count-job',
      outcome: 'succeeded',
      counts: { processed: 1, skipped: 0 },
      trigger: 'manual',
    });
    const f = await m.runNow('fail-job');
    if (f.status !== 'started') throw new Error('not started');
    expect(await f.done).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/^HISTORY_SOURCE_UNREACHABLE: .*down$/) as unknown,
    });
    const runs = await m.runs('count-job', { limit: 10 });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      id: run.id,
      outcome: 'succeeded',
      startedAt: isoTime(T0),
      endedAt: isoTime(T0),
    });
    const view = await m.get('count-job');
    expect(view).toMatchObject({
      kind: 'cron',
      schedule: '0 2 * * *',
      enabled: true,
      running: false,
      exclusive: true,
    });
    expect(view.lastRun?.id).toBe(run.id);
    // 02:00 Asia/Shanghai = 18:00 UTC; T0 is 12:00 UTC.
    expect(view.nextRun).toBe('2026-11-24T18:00:00.000Z');
    // The lease is gone after the run.
    expect(await lifecycleDb(db.kysely).selectFrom('job_leases').selectAll().execute()).toEqual([]);
    // Job-log switch off: the run happens but is not recorded.
    jobLog = false;
    const q = await m.runNow('count-job');
    if (q.status !== 'started') throw new Error('not started');
    expect((await q.done).counts).toEqual({ processed: 2, skipped: 0 });
    expect(await m.runs('count-job', { limit: 10 })).toHaveLength(1);
    jobLog = true;
    await expect(m.get('nope')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    await expect(m.setSchedule('count-job', 'every tuesday')).rejects.toMatchObject({
      code: 'JOB_SCHEDULE_INVALID',
    });
    await expect(m.setSchedule('nonce-like', '* * * * *')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('runs an exclusive job on one server at a time; an expired lease is taken over', async () => {
    const gate = deferred();
    const entered = deferred();
    let runs = 0;
    const job = (): Job => ({
      id: 'lease-job',
      defaultSchedule: '0 4 * * *',
      handler: async () => {
        runs++;
        entered.resolve();
        await gate.promise;
        return runs;
      },
    });
    const a = manager([job()], 'srv-a2');
    const b = manager([job()], 'srv-b2');
    await a.start({ schedule: false });
    await b.start({ schedule: false });
    const ra = await a.runNow('lease-job');
    expect(ra.status).toBe('started');
    await entered.promise;
    const rb = await b.runNow('lease-job');
    expect(rb).toEqual({ status: 'busy', holder: expect.stringMatching(/^srv-a2\/run_/) as unknown });
    expect(await a.runNow('lease-job')).toMatchObject({ status: 'busy' });
    expect(await b.get('lease-job')).toMatchObject({ running: true, runningOn: 'srv-a2' });
    gate.resolve();
    if (ra.status === 'started') await ra.done;
    const again = await b.runNow('lease-job');
    expect(again.status).toBe('started');
    if (again.status === 'started') await again.done;
    expect(runs).toBe(2);

    // A process killed mid-run leaves its lease and a `running` row; after expiry another server takes over.
    const ldb = lifecycleDb(db.kysely);
    await ldb
      .insertInto('job_leases')
      .values({
        job_id: 'lease-job',
        holder: 'srv-dead/run_x',
        acquired_at: isoTime(clock),
        expires_at: isoTime(clock + 60_000),
      })
      .execute();
    await ldb
      .insertInto('job_runs')
      .values({
        id: 'run_x',
        job_id: 'lease-job',
        trigger: 'schedule',
        holder: 'srv-dead/run_x',
        started_at: isoTime(clock),
        ended_at: null,
        outcome: 'running',
        counts: null,
        error: null,
      })
      .execute();
    expect(await b.runNow('lease-job')).toEqual({ status: 'busy', holder: 'srv-dead/run_x' });
    clock += 60_001;
    const taken = await b.runNow('lease-job');
    expect(taken.status).toBe('started');
    if (taken.status === 'started') expect((await taken.done).outcome).toBe('succeeded');
    const dead = await ldb
      .selectFrom('job_runs')
      .selectAll()
      .where('id', '=', 'run_x')
      .executeTakeFirstOrThrow();
    expect(dead).toMatchObject({ outcome: 'interrupted', ended_at: isoTime(clock) });
  });

  it('applies stops, schedules and run requests made elsewhere (CLI) at the next sync', async () => {
    let runs = 0;
    const m = manager(
      [{ id: 'sync-job', defaultSchedule: '0 5 * * *', handler: () => Promise.resolve(++runs) }],
      'srv-c',
    );
    await m.start({ schedule: false });
    const ctx = { db: db.kysely, now, actor: 'cli' };
    await setStoredJobEnabled({ ctx, id: 'sync-job', enabled: false });
    await setStoredJobSchedule({ ctx, id: 'sync-job', schedule: '30 1 * * *' });
    await expect(setStoredJobSchedule({ ctx, id: 'sync-job', schedule: '61 * * * *' })).rejects.toMatchObject(
      { code: 'JOB_SCHEDULE_INVALID' },
    );
    await expect(requestJobRun({ ctx, id: 'missing' })).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    expect((await m.get('sync-job')).enabled).toBe(true);
    await m.sync(false);
    expect(await m.get('sync-job')).toMatchObject({ enabled: false, schedule: '30 1 * * *', nextRun: null });
    await requestJobRun({ ctx, id: 'sync-job' });
    expect(
      (await listStoredJobs({ db: db.kysely, now: clock })).find((j) => j.id === 'sync-job'),
    ).toMatchObject({ runRequested: true, enabled: false });
    await m.sync(false);
    await m.idle();
    expect(runs).toBe(1);
    const stored = (await listStoredJobs({ db: db.kysely, now: clock })).find((j) => j.id === 'sync-job');
    expect(stored).toMatchObject({
      runRequested: false,
      lastRun: { outcome: 'succeeded', counts: { count: 1 } },
    });
    // The request is served once only.
    await m.sync(false);
    await m.idle();
    expect(runs).toBe(1);
    // The operation log has the CLI's changes.
    const ops = await db.kysely
      .selectFrom('operation_logs')
      .select(['action', 'target_id'])
      .where('target_type', '=', 'job')
      .execute();
    expect(ops.map((o) => o.action)).toEqual(['job.stop', 'job.schedule', 'job.run']);
  });

  it('fires a cron schedule and stops firing when stopped', async () => {
    const fired = deferred();
    let runs = 0;
    const m = new JobManager(
      { db: db.kysely, now: Date.now, log, jobLog: () => Promise.resolve(true), instanceId: 'srv-d' },
      [
        {
          id: 'tick-job',
          defaultSchedule: '* * * * * *',
          handler: () => {
            runs++;
            fired.resolve();
            return Promise.resolve(runs);
          },
        },
      ],
    );
    managers.push(m);
    await m.start();
    await fired.promise;
    await m.setEnabled('tick-job', false);
    await m.idle();
    const after = runs;
    expect(after).toBeGreaterThanOrEqual(1);
    expect((await m.get('tick-job')).nextRun).toBeNull();
    const recorded = await m.runs('tick-job', { limit: 50 });
    expect(recorded.length).toBe(after);
    expect(recorded.every((r) => r.trigger === 'schedule' && r.outcome === 'succeeded')).toBe(true);
  });

  it('computes next runs in the configured time zone', () => {
    expect(nextCronRun('0 1 * * *', 'Asia/Shanghai', Date.UTC(2026, 0, 1, 0, 0))).toBe(
      Date.UTC(2026, 0, 1, 17, 0),
    );
    expect(nextCronRun('0 1 * * *', 'UTC', Date.UTC(2026, 0, 1, 0, 0))).toBe(Date.UTC(2026, 0, 1, 1, 0));
  });
});
