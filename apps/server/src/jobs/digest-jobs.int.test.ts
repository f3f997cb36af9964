/**
 * The digest jobs on every available database, in the assembled app: 摘要数据加固时间戳 stamps each digest
 * record without a timestamp with the platform TSA (the token's imprint is the record's evidence hash, it
 * verifies against the internal root), once; 摘要数据生成存证报告 stores each record's PDF report in the file
 * store by SM3, once; both batched, resumable after a stop, with counts in the job run.
 */
import { sm2, sm3, toHex, type Sm2PrivateKey } from '@yizheng/gm';
import { parseTimeStampToken, verifyTimeStampToken, gmSm2Provider } from '@yizheng/pki';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import { createApplication } from '../modules/applications/service.js';
import { createProject } from '../modules/projects/service.js';
import { signWithGm, T0, tempDir, testApp, testConfig } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { digestArtifacts } from './digest-artifacts.js';
import { generateDigestReports, storedDigestReport } from './digest-report.js';
import { stampDigests } from './digest-timestamp.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe.each(testDialects())('digest jobs on %s', (dialect) => {
  const tmp = tempDir('yz-digest-jobs-');
  let tdb: TestDatabase;
  let db: Db;
  let app: FastifyInstance;
  let client: { appId: string; key: Sm2PrivateKey };
  const ids: string[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openDatabase(tdb.config);
    await migrateToLatest(db.kysely);
    app = await testApp(testConfig(tdb.config, tmp.dir), { db });
    const ctx = { db: app.db, now: () => T0, actor: 'test' };
    await createProject({ ctx, number: 'DJ-1', name: '摘要' });
    const c = await createApplication({ ctx, project: 'DJ-1', name: 'EMR' });
    client = { appId: c.application.id, key: sm2.importPrivateKey(c.privateKeyPem!) };
    for (let i = 0; i < 5; i++) {
      const url = '/api/v1/digests';
      const text = JSON.stringify({
        serialNumber: `DJ-${i}`,
        algorithm: 'sm3',
        value: toHex(sm3(utf8(`病历 ${i}`))),
      });
      const res = await app.inject({
        method: 'POST',
        url,
        headers: {
          ...signWithGm(client.key, { method: 'POST', url, appId: client.appId, timestamp: T0, body: text }),
          'content-type': 'application/json',
        },
        payload: text,
      });
      expect(res.statusCode).toBe(201);
      ids.push(res.json<{ id: string }>().id);
    }
  }, 120_000);
  afterAll(async () => {
    await app.close();
    await db.close();
    await tdb.drop();
    tmp.remove();
  });

  it('stamps every digest record once, in batches, resumably', async () => {
    const stop = new AbortController();
    stop.abort();
    expect(
      await stampDigests({ db: app.db, tsa: app.tsa, now: () => T0, signal: stop.signal }),
    ).toMatchObject({
      stamped: 0,
      batches: 0,
    });
    expect(await stampDigests({ db: app.db, tsa: app.tsa, now: () => T0, batchSize: 2 })).toEqual({
      stamped: 5,
      failed: 0,
      batches: 3,
    });
    expect(await stampDigests({ db: app.db, tsa: app.tsa, now: () => T0 })).toEqual({
      stamped: 0,
      failed: 0,
      batches: 0,
    });
    for (const id of ids) {
      const a = await digestArtifacts(app.db, id);
      const row = await app.db
        .selectFrom('evidence')
        .select('evidence_hash')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const token = new Uint8Array(a!.timestamp_token!);
      expect(toHex(sm3(token))).toBe(a!.timestamp_sm3);
      const parsed = parseTimeStampToken(token);
      expect(toHex(parsed.tstInfo.hashedMessage)).toBe(row.evidence_hash);
      const v = verifyTimeStampToken({
        token,
        digest: parsed.tstInfo.hashedMessage,
        trustAnchors: [app.ca.root],
        policy: { sm2: gmSm2Provider },
      });
      expect(v.genTime?.toISOString()).toBe(a!.timestamp_gen_time);
    }
  });

  it('stores each digest record’s PDF report once, content-addressed, with counts in the job run', async () => {
    const first = await generateDigestReports({
      db: app.db,
      reports: app.reportsHolder,
      now: () => T0,
      batchSize: 2,
    });
    expect(first).toEqual({ generated: 5, failed: 0, batches: 3, unavailable: 0 });
    for (const id of ids) {
      const project = (
        await app.db
          .selectFrom('evidence')
          .select('project_id')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).project_id;
      const pdf = await storedDigestReport({
        db: app.db,
        reports: app.reportsHolder,
        evidenceId: id,
        projectId: project,
      });
      expect(
        await storedDigestReport({
          db: app.db,
          reports: app.reportsHolder,
          evidenceId: id,
          projectId: 'prj_other',
        }),
      ).toBeUndefined();
      expect(Buffer.from(pdf!.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
      expect(toHex(sm3(pdf!))).toBe((await digestArtifacts(app.db, id))!.report_sm3);
    }
    // Through the job manager: nothing left to do, recorded with its counts.
    const run = await app.jobs.runNow('digest-report');
    expect(run.status).toBe('started');
    if (run.status !== 'started') return;
    expect((await run.done).counts).toEqual({ generated: 0, failed: 0, batches: 0, unavailable: 0 });
    const stamp = await app.jobs.runNow('digest-timestamp');
    if (stamp.status !== 'started') return expect.fail('digest-timestamp busy');
    expect((await stamp.done).outcome).toBe('succeeded');
  });
});
