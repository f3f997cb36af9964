/**
 * History migration on every test database, with a real source database of the same dialect holding an
 * intermediate table (中间表) of SM2 signatures made by the test PKI and by openssl, and broken rows: the good
 * rows become evidence records with Merkle-log leaves, the broken ones are kept aside with their reason, a
 * batch whose records were committed but whose cursor was lost (a crash between the two) is re-read without a
 * second record, and the task's counters add up.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPki } from '@yizheng/pki/testing';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, toCount, type Db } from '../../db/connect.js';
import { lifecycleDb } from '../../lifecycle/tables.js';
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
import { createApplication } from '../applications/service.js';
import { createProject } from '../projects/service.js';
import { createEvidenceDeps, evidenceConfigOf } from '../../evidence/deps.js';
import { GroupCommitWriter } from '../../evidence/group-commit.js';
import type { PreparedEvidence, StoredEvidence } from '../../evidence/store.js';
import { createTask, inWindow, mapRow, runHistoryTasks, abortableSleep, setTaskPaused } from './service.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function code(res: LightMyRequestResponse): string {
  return res.json<{ code: string }>().code;
}

describe.each(testDialects())('history migration on %s', (dialect) => {
  let hot: TestDatabase;
  let source: TestDatabase;
  let db: Db;
  let src: Db;
  let app: FastifyInstance;
  let now: number;
  let tmp: ReturnType<typeof tempDir>;
  let admin: ConsoleClient;
  let appId: string;
  let sourceUrl: string;
  const GOOD: string[] = [];
  const BAD: Record<string, string> = {};

  beforeAll(async () => {
    tmp = tempDir('yz-hist-');
    // Console login (openssl SM2 certificates) at a clock inside their validity; evidence uses the test PKI.
    const ca = makeCa(tmp.dir);
    const adminId = makeUserCert(tmp.dir, ca, 'admin1', 11);
    now = clockWithin(adminId.certPem);
    hot = await createTestDatabase(dialect);
    source = await createTestDatabase(dialect);
    db = await openDatabase(hot.config);
    await migrateToLatest(db.kysely);
    const ctx = { db: db.kysely, now: () => now, actor: 'test' };
    await seedUser(db, now, { username: 'admin1', roles: ['administrator'], certificate: adminId.certPem });
    await createProject({ ctx, number: 'EMR', name: '电子病历' });
    appId = (await createApplication({ ctx, project: 'EMR', name: 'EMR history' })).application.id;
    const trustFile = join(tmp.dir, 'trust.pem');
    writeFileSync(trustFile, ca.certPem);
    app = await testApp(testConfig(hot.config, tmp.dir, { consoleTrustFile: trustFile }), {
      db,
      now: () => now,
    });
    admin = clientOf(app, await certificateLogin(app, 'admin1', adminId.keyPem));

    // The source: an intermediate table on its own database.
    const pki = new TestPki({ seed: 'history-migration', now: new Date(now) });
    const leaf = pki.root().leaf({ subject: { CN: '医生甲' } });
    const keyFile = join(tmp.dir, 'leaf.key');
    writeFileSync(keyFile, leaf.privateKeyPem);
    const opensslSign = (data: Uint8Array): Uint8Array => {
      const f = join(tmp.dir, 'data.bin');
      writeFileSync(f, data);
      return execFileSync('openssl', [
        'pkeyutl',
        '-sign',
        '-rawin',
        '-digest',
        'sm3',
        '-pkeyopt',
        'distid:1234567812345678',
        '-inkey',
        keyFile,
        '-in',
        f,
      ]);
    };
    src = await openDatabase(source.config);
    await src.kysely.schema
      .createTable('emr_signatures')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('serial_no', 'varchar(64)')
      .addColumn('sig_format', 'varchar(8)')
      .addColumn('sig_value', 'text')
      .addColumn('signer_cert', 'text')
      .addColumn('content', 'text')
      .addColumn('signed_at', 'varchar(32)')
      .addColumn('patient_name', 'varchar(64)')
      .execute();
    const rows: Record<string, unknown>[] = [];
    const signedAt = new Date(now - 3_600_000).toISOString();
    for (let i = 1; i <= 14; i++) {
      const content = utf8(`病历 ${i}：主诉头痛三天`);
      const sig = i % 5 === 0 ? opensslSign(content) : leaf.signer.sign(content);
      let row: Record<string, unknown> = {
        id: i,
        serial_no: `EMR-${i}`,
        sig_format: 'raw',
        sig_value: b64(sig),
        signer_cert: leaf.pem,
        content: b64(content),
        signed_at: signedAt,
        patient_name: `患者${i}`,
      };
      if (i === 3) {
        row = { ...row, content: b64(utf8('被篡改的病历')) };
        BAD[String(i)] = 'EVIDENCE_SIGNATURE_INVALID';
      } else if (i === 7) {
        row = { ...row, serial_no: null };
        BAD[String(i)] = 'HISTORY_ROW_INVALID';
      } else if (i === 9) {
        row = { ...row, sig_format: 'xml' };
        BAD[String(i)] = 'HISTORY_ROW_INVALID';
      } else if (i === 12) {
        row = { ...row, signer_cert: b64(utf8('not a certificate')) };
        BAD[String(i)] = 'EVIDENCE_FORMAT_INVALID';
      } else GOOD.push(String(i));
      rows.push(row);
    }
    await src.kysely
      .insertInto('emr_signatures' as never)
      .values(rows)
      .execute();
    sourceUrl = source.config.dialect === 'sqlite' ? `sqlite:${source.config.file}` : source.config.url;
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await src.close();
    await hot.drop();
    await source.drop();
    tmp.remove();
  });

  const mapping = {
    key: 'id',
    keyType: 'integer',
    serialNumber: 'serial_no',
    format: 'sig_format',
    defaultFormat: 'raw',
    signature: 'sig_value',
    certificate: 'signer_cert',
    original: 'content',
    signedAt: 'signed_at',
    patientName: 'patient_name',
  };
  let sourceId: string;
  let taskId: string;

  it('registers a source (URL sealed, never returned), tests it, refuses bad ones', async () => {
    const res = await admin.request('POST', '/history/sources', {
      name: 'EMR 中间表',
      url: sourceUrl,
      table: 'emr_signatures',
      mapping,
    });
    expect(res.statusCode).toBe(201);
    const view = res.json<{ id: string; kind: string }>();
    expect(view.kind).toBe(dialect);
    expect(JSON.stringify(view)).not.toContain(sourceUrl);
    sourceId = view.id;
    const stored = await lifecycleDb(db.kysely)
      .selectFrom('history_sources')
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(stored.url_sealed).not.toContain(sourceUrl);
    const t = await admin.request('POST', `/history/sources/${sourceId}/test`);
    expect(t.json()).toEqual({ ok: true, rows: 14 });
    expect(
      code(
        await admin.request('POST', '/history/sources', {
          name: 'x',
          url: 'oracle://h/db',
          table: 't',
          mapping,
        }),
      ),
    ).toBe('HISTORY_SOURCE_INVALID');
    expect(
      code(
        await admin.request('POST', '/history/sources', {
          name: 'x',
          url: sourceUrl,
          table: 't',
          mapping: { ...mapping, key: 'id; drop' },
        }),
      ),
    ).toBe('REQUEST_VALIDATION');
    const broken = await admin.request('POST', '/history/sources', {
      name: 'gone',
      url: sourceUrl,
      table: 'no_such_table',
      mapping,
    });
    const bad = await admin.request('POST', `/history/sources/${broken.json<{ id: string }>().id}/test`);
    expect(bad.statusCode).toBe(422);
    expect(code(bad)).toBe('HISTORY_SOURCE_UNREACHABLE');
    expect(code(await admin.request('POST', '/history/sources/hsrc_00/test'))).toBe(
      'HISTORY_SOURCE_NOT_FOUND',
    );
  });

  it('creates a task; refuses unknown applications, empty windows and level full without a trust store', async () => {
    const base = { sourceId, appId, level: 'signature', rowsPerSecond: 100_000, batchSize: 4 };
    expect(code(await admin.request('POST', '/history/tasks', { ...base, appId: 'app_nope' }))).toBe(
      'HISTORY_TASK_INVALID',
    );
    expect(code(await admin.request('POST', '/history/tasks', { ...base, level: 'full' }))).toBe(
      'HISTORY_TASK_INVALID',
    );
    expect(
      code(
        await admin.request('POST', '/history/tasks', { ...base, window: { start: '01:00', end: '01:00' } }),
      ),
    ).toBe('HISTORY_TASK_INVALID');
    expect(code(await admin.request('GET', '/history/tasks/htask_00'))).toBe('HISTORY_TASK_NOT_FOUND');
    const res = await admin.request('POST', '/history/tasks', base);
    expect(res.statusCode).toBe(201);
    taskId = res.json<{ id: string }>().id;
    expect(res.json()).toMatchObject({ status: 'pending', cursor: null, migrated: 0 });
  });

  it('migrates through the evidence path, keeps failures aside, resumes after a lost cursor without duplicates', async () => {
    const ldb = lifecycleDb(db.kysely);
    // The job runs the task to its end (batches of 4).
    const first = await admin.request('POST', '/jobs/history-migration/run?wait=true');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ run: { outcome: 'succeeded' } });
    const after = await admin.request('GET', `/history/tasks/${taskId}`);
    expect(after.json()).toMatchObject({
      status: 'completed',
      total: 14,
      migrated: GOOD.length,
      failed: 4,
      cursor: '14',
    });
    const count = async () =>
      toCount(
        (
          await db.kysely
            .selectFrom('evidence')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count()).toBe(GOOD.length);

    // A crash after the records of the last two batches were committed but before their cursor was: put the
    // cursor back as it would have been, and run again.
    await ldb
      .updateTable('history_tasks')
      .set({ cursor: '4', status: 'running', migrated: 3, failed: 1, duplicates: 0 })
      .where('id', '=', taskId)
      .execute();
    const again = await admin.request('POST', '/jobs/history-migration/run?wait=true');
    expect(again.json()).toMatchObject({ run: { outcome: 'succeeded' } });
    expect(await count()).toBe(GOOD.length);
    const t = (await admin.request('GET', `/history/tasks/${taskId}`)).json<{
      migrated: number;
      failed: number;
      duplicates: number;
      status: string;
    }>();
    expect(t).toMatchObject({ status: 'completed', migrated: GOOD.length, failed: 4 });
    expect(t.duplicates).toBe(GOOD.length - 3);
    // Every record has its log leaf; serial numbers are the good rows', once each.
    const serials = (await db.kysely.selectFrom('evidence').select('serial_number').execute())
      .map((r) => r.serial_number)
      .sort();
    expect(serials).toEqual(GOOD.map((k) => `EMR-${k}`).sort());
    const leaves = toCount(
      (
        await db.kysely
          .selectFrom('log_leaves')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    expect(leaves).toBe(GOOD.length);
    // Failures with their reason, once each.
    const f = await admin.request('GET', `/history/tasks/${taskId}/failures`);
    const items = f.json<{ items: { sourceKey: string; code: string; reason: string }[] }>().items;
    expect(Object.fromEntries(items.map((i) => [i.sourceKey, i.code]))).toEqual(BAD);
    expect(items.every((i) => i.reason.length > 0)).toBe(true);
    // A completed task cannot be paused.
    expect(code(await admin.request('POST', `/history/tasks/${taskId}/pause`))).toBe('HISTORY_TASK_STATE');
  });

  /**
   * A new application with a task over the source (batches of 4) and evidence deps of its own, for the tests
   * that run the task through a writer of theirs: `deps(writer)` for runHistoryTasks, `records()` the
   * application's stored serial numbers.
   */
  async function taskOfItsOwn(appName: string) {
    const ctx = { db: db.kysely, now: () => now, actor: 'test' };
    const appOfTask = (await createApplication({ ctx, project: 'EMR', name: appName })).application.id;
    const task = await createTask({
      ctx,
      body: { sourceId, appId: appOfTask, level: 'signature', rowsPerSecond: 100_000, batchSize: 4 },
      trustStore: false,
    });
    const ev = createEvidenceDeps({
      db: db.kysely,
      now: () => now,
      fieldCrypto: app.fieldCrypto,
      platformKey: app.platformKey,
      config: evidenceConfigOf({ dataDir: tmp.dir }),
      log: app.log,
    });
    const deps = (writer: GroupCommitWriter<PreparedEvidence, StoredEvidence>) => ({
      db: db.kysely,
      evidence: { ...ev.deps, writer },
      fieldCrypto: app.fieldCrypto,
      now: () => now,
      timezone: 'Asia/Shanghai',
      sleep: abortableSleep,
    });
    const records = async () =>
      (
        await db.kysely
          .selectFrom('evidence')
          .select('serial_number')
          .where('app_id', '=', appOfTask)
          .execute()
      )
        .map((r) => r.serial_number)
        .sort();
    return { ctx, task, ev, deps, records };
  }

  it('a batch that fails stores nothing of the batch prepared behind it; the task resumes at its cursor', async () => {
    // Batches of 4, two deep: batch 3 (rows 9–12) is verified and built while batch 2 (rows 5–8) is written.
    // Batch 2's write fails (database trouble, not a row's fault): the run stops with the cursor after batch 1,
    // and none of batches 2, 3 and 4 (prepared behind it) has a record.
    const { task, ev, deps, records } = await taskOfItsOwn('EMR history 2');
    const serial = (i: PreparedEvidence) => Number(i.row.serial_number.replace('EMR-', ''));
    const failing = new GroupCommitWriter<PreparedEvidence, StoredEvidence>({
      maxItems: 1000,
      writeMany: (items) =>
        items.some((i) => serial(i) >= 5 && serial(i) <= 8)
          ? Promise.reject(new Error('database trouble'))
          : Promise.all(items.map((i) => ev.deps.writer.submit(i))),
      writeOne: (i) =>
        serial(i) >= 5 && serial(i) <= 8
          ? Promise.reject(new Error('database trouble'))
          : ev.deps.writer.submit(i),
    });
    try {
      await expect(
        runHistoryTasks({ deps: deps(failing), signal: new AbortController().signal }),
      ).rejects.toThrow('database trouble');
      const t1 = await lifecycleDb(db.kysely)
        .selectFrom('history_tasks')
        .selectAll()
        .where('id', '=', task.id)
        .executeTakeFirstOrThrow();
      expect(t1.cursor).toBe('4');
      expect(t1.last_error).toContain('database trouble');
      const firstBatch = GOOD.filter((k) => Number(k) <= 4).map((k) => `EMR-${k}`);
      expect(await records()).toEqual(firstBatch.sort());
      // Resumed with a working writer: every good row once, nothing counted twice.
      await runHistoryTasks({ deps: deps(ev.deps.writer), signal: new AbortController().signal });
      const t2 = await lifecycleDb(db.kysely)
        .selectFrom('history_tasks')
        .selectAll()
        .where('id', '=', task.id)
        .executeTakeFirstOrThrow();
      expect(t2).toMatchObject({ status: 'completed', cursor: '14' });
      expect([toCount(t2.migrated), toCount(t2.failed), toCount(t2.duplicates)]).toEqual([GOOD.length, 4, 0]);
      expect(await records()).toEqual(GOOD.map((k) => `EMR-${k}`).sort());
    } finally {
      await ev.close();
    }
  });

  it('a pause asked for while a batch is written stops the run after the batches in flight; resuming completes it exactly', async () => {
    const { ctx, task, ev, deps, records } = await taskOfItsOwn('EMR history 3');
    // The operator pauses the task while its first batch is being written.
    let pausedOnce = false;
    const pausing = new GroupCommitWriter<PreparedEvidence, StoredEvidence>({
      maxItems: 1000,
      writeMany: async (items) => {
        if (!pausedOnce) {
          pausedOnce = true;
          await setTaskPaused({ ctx, id: task.id, paused: true });
        }
        return Promise.all(items.map((i) => ev.deps.writer.submit(i)));
      },
      writeOne: (i) => ev.deps.writer.submit(i),
    });
    const taskNow = () =>
      lifecycleDb(db.kysely)
        .selectFrom('history_tasks')
        .selectAll()
        .where('id', '=', task.id)
        .executeTakeFirstOrThrow();
    try {
      await runHistoryTasks({ deps: deps(pausing), signal: new AbortController().signal });
      const t1 = await taskNow();
      expect(t1.status).toBe('paused');
      expect(t1.cursor).not.toBe('14'); // stopped before the end
      // What was committed is counted, and nothing more is stored than the cursor says.
      const through = Number(t1.cursor);
      expect(await records()).toEqual(
        GOOD.filter((k) => Number(k) <= through)
          .map((k) => `EMR-${k}`)
          .sort(),
      );
      expect(toCount(t1.migrated) + toCount(t1.failed)).toBe(through);
      // A paused task is skipped by the job; resumed, it completes with every good row once.
      await runHistoryTasks({ deps: deps(ev.deps.writer), signal: new AbortController().signal });
      expect((await taskNow()).status).toBe('paused');
      await setTaskPaused({ ctx, id: task.id, paused: false });
      await runHistoryTasks({ deps: deps(ev.deps.writer), signal: new AbortController().signal });
      const t2 = await taskNow();
      expect(t2).toMatchObject({ status: 'completed', cursor: '14' });
      expect([toCount(t2.migrated), toCount(t2.failed), toCount(t2.duplicates)]).toEqual([GOOD.length, 4, 0]);
      expect(await records()).toEqual(GOOD.map((k) => `EMR-${k}`).sort());
    } finally {
      await ev.close();
    }
  });

  it('maps rows and windows', () => {
    const m = {
      key: 'id',
      keyType: 'integer' as const,
      serialNumber: 's',
      signature: 'v',
      defaultFormat: 'cms' as const,
    };
    expect(mapRow(m, { id: 1, s: 'A', v: new Uint8Array([1, 2, 3]) })).toMatchObject({
      serialNumber: 'A',
      signature: { format: 'cms', value: 'AQID' },
    });
    expect(() => mapRow(m, { id: 1, s: 'A', v: null })).toThrow(
      expect.objectContaining({ code: 'HISTORY_ROW_INVALID' }) as Error,
    );
    const w = { window_start: '23:00', window_end: '05:00' };
    expect(inWindow(w, Date.UTC(2026, 0, 1, 16, 0), 'Asia/Shanghai')).toBe(true); // 00:00 +08
    expect(inWindow(w, Date.UTC(2026, 0, 1, 4, 0), 'Asia/Shanghai')).toBe(false); // 12:00 +08
    expect(inWindow({ window_start: null, window_end: null }, 0, 'UTC')).toBe(true);
  });
});
