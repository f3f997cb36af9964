/** The job admin API on every test database: list, view, run (wait or not), stop/start, schedule, permissions. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../jobs/job.js';
import { migrateToLatest, openDatabase, type Db } from '../../db/connect.js';
import { testApp, testConfig, tempDir } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import {
  certificateLogin,
  clientOf,
  clockWithin,
  makeCa,
  makeUserCert,
  seedUser,
  type ConsoleClient,
} from '../admin/testing.js';

function code(res: LightMyRequestResponse): string {
  return res.json<{ code: string }>().code;
}

describe.each(testDialects())('job admin API on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  let app: FastifyInstance;
  let tmp: ReturnType<typeof tempDir>;
  let admin: ConsoleClient;
  let operator: ConsoleClient;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let enter!: () => void;
  const entered = new Promise<void>((r) => (enter = r));
  const gated: Job = {
    id: 'test-gated',
    defaultSchedule: '0 3 * * *',
    description: 'waits for the test',
    handler: async () => {
      enter();
      await gate;
      return { rows: 3 };
    },
  };

  beforeAll(async () => {
    tmp = tempDir('yz-jobs-');
    const ca = makeCa(tmp.dir);
    const adminId = makeUserCert(tmp.dir, ca, 'admin1', 11);
    const operatorId = makeUserCert(tmp.dir, ca, 'operator1', 12);
    const now = clockWithin(adminId.certPem);
    tdb = await createTestDatabase(dialect);
    db = await openDatabase(tdb.config);
    await migrateToLatest(db.kysely);
    await seedUser(db, now, { username: 'admin1', roles: ['administrator'], certificate: adminId.certPem });
    await seedUser(db, now, { username: 'operator1', roles: ['operator'], certificate: operatorId.certPem });
    const trustFile = join(tmp.dir, 'trust.pem');
    writeFileSync(trustFile, ca.certPem);
    app = await testApp(testConfig(tdb.config, tmp.dir, { consoleTrustFile: trustFile }), {
      db,
      now: () => now,
      extraJobs: [gated],
    });
    admin = clientOf(app, await certificateLogin(app, 'admin1', adminId.keyPem));
    operator = clientOf(app, await certificateLogin(app, 'operator1', operatorId.keyPem));
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await tdb.drop();
    tmp.remove();
  });

  it('lists the declared jobs with their schedules', async () => {
    const res = await admin.request('GET', '/jobs');
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: { id: string; kind: string; schedule: string; enabled: boolean }[] }>()
      .items;
    expect(items.map((j) => j.id)).toEqual(expect.arrayContaining(['nonce-purge', 'log-integrator']));
    expect(items.find((j) => j.id === 'nonce-purge')).toMatchObject({
      kind: 'interval',
      schedule: '@every 60s',
      enabled: true,
    });
  });

  it('runs a job now and waits for it; stops, starts and reschedules it', async () => {
    const run = await admin.request('POST', '/jobs/nonce-purge/run?wait=true');
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({
      run: { jobId: 'nonce-purge', outcome: 'succeeded', counts: { count: 0 } },
    });
    const bg = await admin.request('POST', '/jobs/nonce-purge/run');
    expect(bg.statusCode).toBe(202);
    await app.jobs.idle();
    const stop = await admin.request('POST', '/jobs/nonce-purge/stop');
    expect(stop.statusCode).toBe(200);
    expect(stop.json()).toMatchObject({ enabled: false, nextRun: null });
    const sched = await admin.request('PUT', '/jobs/nonce-purge/schedule', { schedule: '@every 5m' });
    expect(sched.statusCode).toBe(200);
    expect(sched.json()).toMatchObject({ schedule: '@every 5m', defaultSchedule: '@every 60s' });
    const start = await admin.request('POST', '/jobs/nonce-purge/start');
    expect(start.json()).toMatchObject({ enabled: true, schedule: '@every 5m' });
    const reset = await admin.request('PUT', '/jobs/nonce-purge/schedule', { schedule: null });
    expect(reset.json()).toMatchObject({ schedule: '@every 60s' });
    const one = await admin.request('GET', '/jobs/nonce-purge');
    expect(one.json()).toMatchObject({ id: 'nonce-purge', enabled: true });
    const ops = await db.kysely
      .selectFrom('operation_logs')
      .select(['action', 'actor'])
      .where('target_type', '=', 'job')
      .orderBy('seq')
      .execute();
    expect(ops.map((o) => o.action)).toEqual([
      'job.run',
      'job.run',
      'job.stop',
      'job.schedule',
      'job.start',
      'job.schedule',
    ]);
    expect(ops[0]?.actor).toMatch(/^console:admin1@/);
  });

  it('refuses bad input and missing permissions with stable codes', async () => {
    expect(code(await admin.request('GET', '/jobs/no-such-job'))).toBe('JOB_NOT_FOUND');
    expect((await admin.request('GET', '/jobs/no-such-job')).statusCode).toBe(404);
    const bad = await admin.request('PUT', '/jobs/nonce-purge/schedule', { schedule: '0 2 * * *' });
    expect(bad.statusCode).toBe(400);
    expect(code(bad)).toBe('JOB_SCHEDULE_INVALID');
    expect(
      code(await admin.request('PUT', '/jobs/nonce-purge/schedule', { schedule: '@every 5m', extra: 1 })),
    ).toBe('REQUEST_VALIDATION');
    const denied = await operator.request('GET', '/jobs');
    expect(denied.statusCode).toBe(403);
    expect(code(denied)).toBe('ADMIN_PERMISSION_DENIED');
    expect(code(await operator.request('POST', '/jobs/nonce-purge/run'))).toBe('ADMIN_PERMISSION_DENIED');
  });

  it('answers JOB_BUSY while an exclusive job runs', async () => {
    const started = await admin.request('POST', '/jobs/test-gated/run');
    expect(started.statusCode).toBe(202);
    await entered;
    const second = await admin.request('POST', '/jobs/test-gated/run');
    expect(second.statusCode).toBe(409);
    expect(code(second)).toBe('JOB_BUSY');
    const view = await admin.request('GET', '/jobs/test-gated');
    expect(view.json()).toMatchObject({ running: true, kind: 'cron', exclusive: true });
    release();
    await app.jobs.idle();
    const runs = await admin.request('GET', '/jobs/test-gated/runs?limit=5');
    expect(runs.json()).toMatchObject({
      items: [{ outcome: 'succeeded', counts: { rows: 3 }, trigger: 'manual' }],
    });
    expect(code(await admin.request('GET', '/jobs/test-gated/runs?limit=500'))).toBe('REQUEST_VALIDATION');
  });
});
