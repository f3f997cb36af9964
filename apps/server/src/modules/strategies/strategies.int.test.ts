/**
 * Migration strategies on every test database: create, list, view, modify, delete through the admin API
 * (strategy:read / strategy:manage; the operator is refused), every refusal code, and the operation log.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { createProject } from '../projects/service.js';
import { createStrategy, getStrategy } from './service.js';

function code(res: LightMyRequestResponse): string {
  return res.json<{ code: string }>().code;
}

describe.each(testDialects())('migration strategies on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  let app: FastifyInstance;
  let tmp: ReturnType<typeof tempDir>;
  let admin: ConsoleClient;
  let operator: ConsoleClient;
  let now = 0;

  beforeAll(async () => {
    tmp = tempDir('yz-strat-');
    const ca = makeCa(tmp.dir);
    const adminId = makeUserCert(tmp.dir, ca, 'admin1', 21);
    const operatorId = makeUserCert(tmp.dir, ca, 'operator1', 22);
    now = clockWithin(adminId.certPem);
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
    });
    admin = clientOf(app, await certificateLogin(app, 'admin1', adminId.keyPem));
    operator = clientOf(app, await certificateLogin(app, 'operator1', operatorId.keyPem));
    await createProject({
      ctx: { db: db.kysely, now: () => now, actor: 'test' },
      number: 'P-S',
      name: '病案',
    });
  }, 60_000);
  afterAll(async () => {
    await app.close();
    await db.close();
    await tdb.drop();
    tmp.remove();
  });

  it('creates, lists, views, modifies and deletes strategies; every change is in the operation log', async () => {
    const created = await admin.request('POST', '/strategies', {
      name: '签名数据三年归档',
      project: 'P-S',
      kinds: ['signature', 'file'],
      ageDays: 1095,
      hotRetentionDays: 30,
      batchSize: 1000,
      window: { start: '01:00', end: '05:00' },
      timezone: 'Asia/Shanghai',
    });
    expect(created.statusCode).toBe(201);
    const s = created.json<{ id: string; projectId: string }>();
    expect(s).toMatchObject({
      name: '签名数据三年归档',
      kinds: ['signature', 'file'],
      ageDays: 1095,
      hotRetentionDays: 30,
      batchSize: 1000,
      window: { start: '01:00', end: '05:00' },
      timezone: 'Asia/Shanghai',
      enabled: true,
      moved: 0,
      keptHot: 0,
    });
    expect(s.projectId).toMatch(/^prj_|^[a-z]+_/);
    const second = await admin.request('POST', '/strategies', {
      name: '摘要',
      kinds: ['digest'],
      ageDays: 365,
    });
    expect(second.json()).toMatchObject({
      projectId: null,
      hotRetentionDays: 0,
      batchSize: 500,
      window: null,
    });
    const list = await admin.request('GET', '/strategies');
    expect(
      list
        .json<{ items: { name: string }[] }>()
        .items.map((i) => i.name)
        .sort(),
    ).toEqual(['摘要', '签名数据三年归档'].sort());
    expect((await admin.request('GET', `/strategies/${s.id}`)).json()).toMatchObject({ id: s.id });
    const patched = await admin.request('PATCH', `/strategies/${s.id}`, {
      window: null,
      enabled: false,
      timezone: 'UTC',
      project: null,
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ window: null, enabled: false, timezone: 'UTC', projectId: null });
    const del = await admin.request('DELETE', `/strategies/${s.id}`);
    expect(del.statusCode).toBe(200);
    expect(code(await admin.request('GET', `/strategies/${s.id}`))).toBe('STRATEGY_NOT_FOUND');
    const ops = await db.kysely
      .selectFrom('operation_logs')
      .select('action')
      .where('target_type', '=', 'cold_strategy')
      .orderBy('seq')
      .execute();
    expect(ops.map((o) => o.action)).toEqual([
      'strategy.create',
      'strategy.create',
      'strategy.update',
      'strategy.delete',
    ]);
  });

  it('refuses bad input with 4xx codes and leaves nothing half-written', async () => {
    const base = { name: 'x', kinds: ['digest'], ageDays: 30 };
    expect(code(await admin.request('POST', '/strategies', { ...base, timezone: 'Mars/Olympus' }))).toBe(
      'STRATEGY_INVALID',
    );
    expect(
      code(await admin.request('POST', '/strategies', { ...base, window: { start: '02:00', end: '02:00' } })),
    ).toBe('STRATEGY_INVALID');
    expect(code(await admin.request('POST', '/strategies', { ...base, project: 'P-NONE' }))).toBe(
      'STRATEGY_INVALID',
    );
    expect(code(await admin.request('POST', '/strategies', { ...base, kinds: [] }))).toBe(
      'REQUEST_VALIDATION',
    );
    expect(code(await admin.request('POST', '/strategies', { ...base, kinds: ['x'] }))).toBe(
      'REQUEST_VALIDATION',
    );
    expect(code(await admin.request('POST', '/strategies', { ...base, batchSize: 10_000 }))).toBe(
      'REQUEST_VALIDATION',
    );
    expect(code(await admin.request('POST', '/strategies', { ...base, name: 'n'.repeat(201) }))).toBe(
      'REQUEST_VALIDATION',
    );
    expect(code(await admin.request('POST', '/strategies', { ...base, extra: 1 }))).toBe(
      'REQUEST_VALIDATION',
    );
    expect(code(await admin.request('GET', '/strategies/..%2Fetc'))).toBe('REQUEST_VALIDATION');
    expect(code(await admin.request('PATCH', '/strategies/cstr_00', {}))).toBe('REQUEST_VALIDATION');
    expect(code(await admin.request('PATCH', '/strategies/cstr_00', { ageDays: 3 }))).toBe(
      'STRATEGY_NOT_FOUND',
    );
    expect(code(await admin.request('DELETE', '/strategies/cstr_00'))).toBe('STRATEGY_NOT_FOUND');
    const ok = await admin.request('POST', '/strategies', { ...base, name: '唯一' });
    expect(ok.statusCode).toBe(201);
    expect(code(await admin.request('POST', '/strategies', { ...base, name: '唯一' }))).toBe(
      'STRATEGY_NAME_TAKEN',
    );
    const other = await admin.request('POST', '/strategies', { ...base, name: '另一个' });
    expect(
      code(await admin.request('PATCH', `/strategies/${other.json<{ id: string }>().id}`, { name: '唯一' })),
    ).toBe('STRATEGY_NAME_TAKEN');
    const names = (await admin.request('GET', '/strategies')).json<{ items: { name: string }[] }>().items;
    expect(names.filter((n) => n.name === '唯一')).toHaveLength(1);
    expect(names.some((n) => n.name === 'x')).toBe(false);
  });

  it('operators cannot read or change strategies', async () => {
    expect(code(await operator.request('GET', '/strategies'))).toBe('ADMIN_PERMISSION_DENIED');
    expect(
      code(await operator.request('POST', '/strategies', { name: 'o', kinds: ['digest'], ageDays: 1 })),
    ).toBe('ADMIN_PERMISSION_DENIED');
  });

  it('the service finds a strategy by name as well (the CLI form)', async () => {
    const ctx = { db: db.kysely, now: () => now, actor: 'cli' };
    const s = await createStrategy({ ctx, body: { name: 'by-name', kinds: ['file'], ageDays: 7 } });
    expect((await getStrategy({ db: db.kysely, ref: 'by-name' })).id).toBe(s.id);
    await expect(getStrategy({ db: db.kysely, ref: 'none' })).rejects.toMatchObject({
      code: 'STRATEGY_NOT_FOUND',
    });
  });
});
