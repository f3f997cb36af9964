/**
 * Hot → cold archiving end to end, with hot and cold on different databases (SQLite hot with MariaDB or
 * PostgreSQL cold, PostgreSQL hot with SQLite cold, MariaDB hot with PostgreSQL or SQLite cold): strategies
 * (age, kinds, batches, time window), copy → verify → delete, an idempotent re-run after a crash between copy
 * and delete, read-through query / detail / verify / report / package / file content across both sides with
 * merged cursor pagination, retention and the archive cleanup, COLD_COPY_MISMATCH on an altered cold copy, and
 * the Merkle log untouched.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { sm2, sm3, toHex, type Sm2PrivateKey } from '@yizheng/gm';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { runArchiveCleanup } from '../jobs/archive-cleanup.js';
import { migrateBatch, nextBatch, runColdMigration } from '../jobs/cold-migration.js';
import { integrateAll, publishCheckpoint } from '../log/index.js';
import { createApplication } from '../modules/applications/service.js';
import { makePki } from '../modules/evidence/fixtures.test-support.js';
import { createProject, deleteProject } from '../modules/projects/service.js';
import { verificationCode } from '../modules/public-verify/code.js';
import { createStrategy, updateStrategy } from '../modules/strategies/service.js';
import { signWithGm, tempDir, testApp, testConfig } from '../testing/app.js';
import {
  createTestDatabase,
  testDialects,
  type TestDatabase,
  type TestDialect,
} from '../testing/databases.js';
import { copyToCold, readHotUnits } from './cold-archive.js';
import { coldTablesDb } from './cold-tables.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const DAY = 86_400_000;
/** 2026-11-24 02:00 Asia/Shanghai (18:00 UTC the day before): inside a 01:00–05:00 window. */
const T0 = Date.UTC(2026, 10, 23, 18, 0, 0, 0);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A cold dialect other than the hot one, when this run has one. */
function coldDialectFor(hot: TestDialect, available: readonly TestDialect[]): TestDialect {
  const order: Record<TestDialect, TestDialect[]> = {
    sqlite: ['mysql', 'postgres', 'sqlite'],
    postgres: ['sqlite', 'mysql', 'postgres'],
    mysql: ['postgres', 'sqlite', 'mysql'],
  };
  return order[hot].find((d) => available.includes(d)) ?? 'sqlite';
}

async function logSnapshot(db: Kysely<Database>): Promise<string> {
  const leaves = await db.selectFrom('log_leaves').select(['idx', 'leaf_hash']).orderBy('idx').execute();
  const nodes = await db
    .selectFrom('log_nodes')
    .select(['level', 'idx', 'hash'])
    .orderBy('level')
    .orderBy('idx')
    .execute();
  const h = createHash('sha256');
  for (const l of leaves) h.update(`${Number(l.idx)}:${Buffer.from(l.leaf_hash).toString('hex')};`);
  for (const n of nodes) h.update(`${n.level}/${Number(n.idx)}:${Buffer.from(n.hash).toString('hex')};`);
  return `${leaves.length}/${nodes.length}/${h.digest('hex')}`;
}

async function ids(db: Kysely<Database>): Promise<Set<string>> {
  return new Set((await db.selectFrom('evidence').select('id').execute()).map((r) => r.id));
}

describe.each(testDialects())('hot → cold archiving, hot on %s', (hotDialect) => {
  const coldDialect = coldDialectFor(hotDialect, testDialects());
  const tmp = tempDir('yz-cold-');
  let hotDb: TestDatabase;
  let coldTdb: TestDatabase;
  let cold: Db;
  let app: FastifyInstance;
  let client: { appId: string; key: Sm2PrivateKey };
  let clock = T0;
  const ctx = () => ({ db: app.db, now: () => clock, actor: 'test' });
  const hashes = new Map<string, string>();

  const call = async (
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    raw?: { body: Buffer; type: string },
  ) => {
    const payload = raw ? raw.body : body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const signed = signWithGm(client.key, {
      method,
      url,
      appId: client.appId,
      timestamp: clock,
      ...(payload ? { body: new Uint8Array(payload) } : {}),
    });
    const res = await app.inject({
      method,
      url,
      headers: {
        ...signed,
        ...(payload ? { 'content-type': raw ? raw.type : 'application/json' } : {}),
      },
      ...(payload ? { payload } : {}),
    });
    return { status: res.statusCode, json: (): Json => res.json(), raw: res };
  };
  const pushFile = async (serial: string, content: Uint8Array) => {
    const boundary = 'yz-cold-boundary';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ serialNumber: serial })}\r\n`,
      ),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
      ),
      Buffer.from(content),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    return call('POST', '/api/v1/files', undefined, {
      body,
      type: `multipart/form-data; boundary=${boundary}`,
    });
  };

  beforeAll(async () => {
    hotDb = await createTestDatabase(hotDialect);
    coldTdb = await createTestDatabase(coldDialect);
    cold = await openDatabase(coldTdb.config);
    app = await testApp(
      testConfig(hotDb.config, tmp.dir, {
        bodyLimit: 1024 * 1024,
        evidence: { trustStore: undefined, fileSizeLimit: 64 * 1024, fileDir: join(tmp.dir, 'files') },
      }),
      { now: () => clock, coldDb: cold },
    );
    await createProject({ ctx: ctx(), number: 'P-COLD', name: '病案室', fileStorage: 'database' });
    const c = await createApplication({ ctx: ctx(), project: 'P-COLD', name: 'EMR' });
    client = { appId: c.application.id, key: sm2.importPrivateKey(c.privateKeyPem!) };
    const pki = makePki();
    const original = utf8('出院小结：患者李四，术后恢复良好。');
    // Old data: 5 digests, 2 signatures (payloads), 1 file (database blob), 1 day apart.
    for (let i = 0; i < 5; i++) {
      const r = await call('POST', '/api/v1/digests', {
        serialNumber: `D-${i}`,
        algorithm: 'sm3',
        value: toHex(sm3(utf8(`摘要 ${i}`))),
      });
      expect(r.status, JSON.stringify(r.json())).toBe(201);
      hashes.set(r.json().id as string, r.json().evidenceHash as string);
      clock += 60_000;
    }
    for (let i = 0; i < 2; i++) {
      const r = await call('POST', '/api/v1/signatures', {
        serialNumber: `S-${i}`,
        signature: { format: 'cms', value: Buffer.from(pki.sm2Cms(original)).toString('base64') },
        original: Buffer.from(original).toString('base64'),
        patient: { id: `P${i}`, name: '李四' },
      });
      expect(r.status, JSON.stringify(r.json())).toBe(201);
      hashes.set(r.json().id as string, r.json().evidenceHash as string);
      clock += 60_000;
    }
    const f = await pushFile('F-0', utf8('%PDF-1.7 冷库文件 '.repeat(20)));
    expect(f.status, JSON.stringify(f.json())).toBe(201);
    hashes.set(f.json().id as string, f.json().evidenceHash as string);
    // Recent data (30 days later): 2 digests that no strategy of age 10 days touches.
    clock += 30 * DAY;
    for (let i = 0; i < 2; i++) {
      const r = await call('POST', '/api/v1/digests', {
        serialNumber: `N-${i}`,
        algorithm: 'sm3',
        value: toHex(sm3(utf8(`新 ${i}`))),
      });
      hashes.set(r.json().id as string, r.json().evidenceHash as string);
      clock += 60_000;
    }
    await integrateAll({ db: app.db, now: () => clock });
    await publishCheckpoint({ db: app.db, key: app.platformKey, now: clock, minIntervalMs: 0 });
  }, 120_000);
  afterAll(async () => {
    await app.close();
    await cold.close();
    await hotDb.drop();
    await coldTdb.drop();
    tmp.remove();
  });

  const run = () =>
    runColdMigration({
      deps: { hot: app.db, cold: cold.kysely, now: () => clock },
      signal: new AbortController().signal,
    });

  it('migrates old records in batches inside the window only; an interrupted copy is re-run without duplicates', async () => {
    expect(app.coldDb).toBe(cold.kysely);
    const before = await logSnapshot(app.db);
    const s = await createStrategy({
      ctx: ctx(),
      body: {
        name: '十天归档',
        project: 'P-COLD',
        kinds: ['digest', 'signature', 'file'],
        ageDays: 10,
        batchSize: 3,
        window: { start: '09:00', end: '10:00' },
        timezone: 'Asia/Shanghai',
      },
    });
    // Outside the window (it is about 02:xx in Shanghai): nothing moves.
    expect(await run()).toMatchObject({ strategies: 0, archived: 0 });
    await updateStrategy({ ctx: ctx(), id: s.id, patch: { window: { start: '01:00', end: '05:00' } } });
    // A crash between copy and delete: the first batch is on both sides, not marked.
    const row = await coldTablesDb(app.db)
      .selectFrom('cold_strategies')
      .selectAll()
      .where('id', '=', s.id)
      .executeTakeFirstOrThrow();
    const first = await nextBatch(app.db, row, clock);
    expect(first).toHaveLength(3);
    expect(
      await copyToCold({ hot: app.db, cold: cold.kysely, units: await readHotUnits(app.db, first) }),
    ).toBe(3);
    expect([...(await ids(cold.kysely))].sort()).toEqual([...first].sort());
    // The re-run copies those three again as nothing (already there), verifies and deletes them hot.
    const again = await migrateBatch({ hot: app.db, cold: cold.kysely, strategy: row, now: clock });
    expect(again).toMatchObject({ records: 3, copied: 0, deletedHot: 3 });
    const totals = await run();
    // One batch per kind left (signature, digest, file: each kind of the project is walked on its own).
    expect(totals).toMatchObject({ strategies: 1, batches: 3, archived: 5, copied: 5, deletedHot: 5 });
    const hot = await ids(app.db);
    const coldIds = await ids(cold.kysely);
    expect(hot.size).toBe(2);
    expect(coldIds.size).toBe(8);
    for (const id of hot) expect(coldIds.has(id)).toBe(false);
    expect(hot.size + coldIds.size).toBe(hashes.size);
    // Hashes unchanged on the cold side; the file blob and payloads moved with their records.
    for (const r of await cold.kysely.selectFrom('evidence').select(['id', 'evidence_hash']).execute())
      expect(r.evidence_hash).toBe(hashes.get(r.id));
    expect(await app.db.selectFrom('evidence_payloads').select('evidence_id').execute()).toEqual([]);
    expect((await cold.kysely.selectFrom('evidence_payloads').select('evidence_id').execute()).length).toBe(
      2,
    );
    expect(await app.db.selectFrom('file_blobs').select('sm3').execute()).toEqual([]);
    expect((await cold.kysely.selectFrom('file_blobs').select('sm3').execute()).length).toBe(1);
    // Nothing left to do; the log is exactly as before.
    expect(await run()).toMatchObject({ archived: 0 });
    expect(await logSnapshot(app.db)).toBe(before);
    expect(await logSnapshot(cold.kysely)).toBe('0/0/' + createHash('sha256').digest('hex'));
  });

  it('reads through: query with merged pagination, detail, verify, report, package and file content', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = (
        await call('GET', `/api/v1/digests?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      seen.push(...(page.items as { id: string }[]).map((i) => i.id));
      cursor = page.nextCursor as string | null;
    } while (cursor !== null);
    const digests = [...hashes.keys()].filter((id) => id.startsWith('dig_'));
    expect(seen).toHaveLength(digests.length);
    expect(new Set(seen)).toEqual(new Set(digests));
    // Newest first: the two recent (hot) digests, then the five archived ones.
    const hot = await ids(app.db);
    expect(hot.has(seen[0]!) && hot.has(seen[1]!)).toBe(true);
    const coldSig = [...(await ids(cold.kysely))].find((id) => id.startsWith('sig_'))!;
    const detail = (await call('GET', `/api/v1/signatures/${coldSig}`)).json();
    expect(detail).toMatchObject({ id: coldSig, evidenceHash: hashes.get(coldSig) });
    expect(detail.payload.signature).toEqual(expect.any(String));
    const v = (await call('POST', `/api/v1/signatures/${coldSig}/verify`)).json();
    expect(v).toMatchObject({ intact: true, log: { status: 'included' } });
    const coldDigest = seen[seen.length - 1]!;
    expect((await call('POST', `/api/v1/digests/${coldDigest}/verify`)).json()).toMatchObject({
      intact: true,
    });
    expect((await call('GET', `/api/v1/signatures/${coldSig}/report`)).raw.headers['content-type']).toMatch(
      /pdf/,
    );
    expect((await call('GET', `/api/v1/signatures/${coldSig}/package`)).raw.headers['content-type']).toMatch(
      /zip/,
    );
    const file = [...hashes.keys()].find((id) => id.startsWith('fil_'))!;
    const content = await call('GET', `/api/v1/files/${file}/content`);
    expect(content.status).toBe(200);
    expect(content.raw.rawPayload.toString('utf8')).toContain('冷库文件');
    expect((await call('POST', `/api/v1/files/${file}/verify`)).json()).toMatchObject({ intact: true });
    expect((await call('GET', '/api/v1/digests/dig_none')).status).toBe(404);
    // The public verification page finds an archived record too (proof from the hot side's log).
    const pub = await app.inject({
      method: 'GET',
      url: `/api/v1/public/records/${coldSig}`,
      headers: { 'x-yz-verify-code': verificationCode(app.platformKey, coldSig) },
    });
    expect(pub.statusCode, pub.body).toBe(200);
    expect(pub.json()).toMatchObject({
      recordId: coldSig,
      recordIntact: true,
      evidenceHash: hashes.get(coldSig),
    });
    // The same evidence pushed again after it was archived: its first receipt, no second record.
    const hotBefore = (await ids(app.db)).size;
    const again = await call('POST', '/api/v1/digests', {
      serialNumber: 'D-0',
      algorithm: 'sm3',
      value: toHex(sm3(utf8('摘要 0'))),
    });
    expect(again.status).toBe(200);
    expect(hashes.get(again.json().id as string)).toBe(again.json().evidenceHash);
    expect((await ids(cold.kysely)).has(again.json().id as string)).toBe(true);
    expect((await ids(app.db)).size).toBe(hotBefore);
  });

  it('keeps hot copies for the retention, then the cleanup removes them; an altered cold copy is refused', async () => {
    const s = await createStrategy({
      ctx: ctx(),
      body: { name: '保留三天', kinds: ['digest'], ageDays: 0, hotRetentionDays: 3, batchSize: 10 },
    });
    clock += 60_000;
    const totals = await run();
    expect(totals).toMatchObject({ archived: 2, deletedHot: 0 });
    const recent = [...(await ids(app.db))];
    expect(recent).toHaveLength(2);
    // On both sides during the retention; the list shows each once.
    const listed = (await call('GET', '/api/v1/digests?limit=50')).json().items as { id: string }[];
    expect(listed.filter((i) => recent.includes(i.id))).toHaveLength(2);
    expect(listed).toHaveLength(7);
    const cleanup = (now: number) =>
      runArchiveCleanup({
        deps: { hot: app.db, cold: cold.kysely, now: () => now },
        signal: new AbortController().signal,
      });
    expect(await cleanup(clock + DAY)).toEqual({ batches: 0, deletedHot: 0 });
    // An altered cold copy: nothing hot is removed.
    await cold.kysely
      .updateTable('evidence')
      .set({ serial_number: 'ALTERED' })
      .where('id', '=', recent[0]!)
      .execute();
    await expect(cleanup(clock + 4 * DAY)).rejects.toMatchObject({ code: 'COLD_COPY_MISMATCH' });
    expect((await ids(app.db)).size).toBe(2);
    const orig = await app.db
      .selectFrom('evidence')
      .select('serial_number')
      .where('id', '=', recent[0]!)
      .executeTakeFirstOrThrow();
    await cold.kysely
      .updateTable('evidence')
      .set({ serial_number: orig.serial_number })
      .where('id', '=', recent[0]!)
      .execute();
    expect(await cleanup(clock + 4 * DAY)).toEqual({ batches: 1, deletedHot: 2 });
    expect((await ids(app.db)).size).toBe(0);
    expect((await ids(cold.kysely)).size).toBe(hashes.size);
    const moves = await coldTablesDb(app.db)
      .selectFrom('cold_moves')
      .selectAll()
      .where('strategy_id', '=', s.id)
      .execute();
    expect(moves.every((m) => m.hot_deleted_at !== null)).toBe(true);
    expect((await call('GET', `/api/v1/digests/${recent[0]!}`)).status).toBe(200);
  });

  it('the migration refuses to delete the hot copy when the cold copy differs (COLD_COPY_MISMATCH)', async () => {
    clock += 60_000;
    const r = await call('POST', '/api/v1/digests', {
      serialNumber: 'X-1',
      algorithm: 'sm3',
      value: toHex(sm3(utf8('x'))),
    });
    const id = r.json().id as string;
    const units = await readHotUnits(app.db, [id]);
    await copyToCold({ hot: app.db, cold: cold.kysely, units });
    await cold.kysely.updateTable('evidence').set({ metadata: '{"x":1}' }).where('id', '=', id).execute();
    clock += 60_000;
    await expect(run()).rejects.toMatchObject({ code: 'COLD_COPY_MISMATCH' });
    expect((await ids(app.db)).has(id)).toBe(true);
    expect(
      await coldTablesDb(app.db)
        .selectFrom('cold_moves')
        .select('evidence_id')
        .where('evidence_id', '=', id)
        .execute(),
    ).toEqual([]);
  });

  it('without a cold database the jobs do nothing', async () => {
    const signal = new AbortController().signal;
    expect(
      await runColdMigration({ deps: { hot: app.db, cold: undefined, now: () => clock }, signal }),
    ).toMatchObject({
      archived: 0,
    });
    expect(
      await runArchiveCleanup({ deps: { hot: app.db, cold: undefined, now: () => clock }, signal }),
    ).toEqual({
      batches: 0,
      deletedHot: 0,
    });
  });

  it('deleting the project removes its archived records from the cold database, its strategies and its moves', async () => {
    const project = await cold.kysely.selectFrom('evidence').select('project_id').executeTakeFirstOrThrow();
    expect((await ids(cold.kysely)).size).toBeGreaterThan(0);
    expect(await coldTablesDb(app.db).selectFrom('cold_moves').select('evidence_id').execute()).not.toEqual(
      [],
    );
    await deleteProject({ ctx: ctx(), ref: project.project_id });
    expect(await ids(cold.kysely)).toEqual(new Set());
    expect(await cold.kysely.selectFrom('evidence_payloads').select('evidence_id').execute()).toEqual([]);
    expect(await ids(app.db)).toEqual(new Set());
    const t = coldTablesDb(app.db);
    expect(await t.selectFrom('cold_moves').select('evidence_id').execute()).toEqual([]);
    expect(
      await t
        .selectFrom('cold_strategies')
        .select('id')
        .where('project_id', '=', project.project_id)
        .execute(),
    ).toEqual([]);
  });
});

describe('cold database migrations', () => {
  it('a fresh cold database is migrated by the app (sqlite file)', async () => {
    const t = tempDir('yz-cold-m-');
    const hot = await createTestDatabase('sqlite');
    const coldFile = join(t.dir, 'cold.db');
    const a = await testApp(
      testConfig(hot.config, t.dir, { coldDatabase: { dialect: 'sqlite', file: coldFile } }),
    );
    const c = await openDatabase({ dialect: 'sqlite', file: coldFile });
    expect(await migrateToLatest(c.kysely)).toEqual([]);
    expect((await a.jobs.list()).map((j) => j.id)).toEqual(
      expect.arrayContaining(['cold-migration', 'archive-cleanup']),
    );
    await c.close();
    await a.close();
    await hot.drop();
    t.remove();
  });
});
