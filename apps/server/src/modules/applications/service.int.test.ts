import { execFileSync } from 'node:child_process';
import { sm2 } from '@yizheng/gm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../audit/hash-chain.js';
import type { Db } from '../../db/connect.js';
import { isYzError } from '../../errors.js';
import { ctxOf, openMigrated } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { createProject } from '../projects/service.js';
import {
  createApplication,
  getApplication,
  listApplications,
  rotateApplicationKey,
  setApplicationStatus,
  updateApplication,
} from './service.js';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isYzError(e) ? e.code : `not a YzError: ${String(e)}`;
  }
  return undefined;
}

describe.each(testDialects())('applications on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openMigrated(tdb.config);
    await createProject({ ctx: ctxOf(db), number: 'P1', name: '项目一' });
    await createProject({ ctx: ctxOf(db), number: 'P2', name: '项目二' });
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('create generates an SM2 pair: the private key is returned once, only the public key is stored', async () => {
    const ctx = ctxOf(db);
    const r = await createApplication({
      ctx,
      project: 'P1',
      name: 'HIS',
      vendor: '东软',
      defaultTags: ['门诊'],
      retentionYears: 15,
    });
    expect(r.application).toMatchObject({
      name: 'HIS',
      vendor: '东软',
      status: 'active',
      defaultTags: ['门诊'],
      retentionYears: 15,
      keyVersion: 1,
    });
    expect(r.application.id).toMatch(/^app_[0-9a-f]{20}$/);
    expect(r.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
    const priv = sm2.importPrivateKey(r.privateKeyPem!);
    const pub = sm2.importPublicKey(r.application.publicKeyPem);
    expect(sm2.verify(pub, 'x', sm2.sign(priv, 'x'))).toBe(true);
    const stored = JSON.stringify(await db.kysely.selectFrom('applications').selectAll().execute());
    expect(stored).not.toContain('PRIVATE');
  });

  it('create with a public key made by openssl stores that key; no private key is returned', async () => {
    const pem = execFileSync('sh', ['-c', 'openssl genpkey -algorithm SM2 | openssl pkey -pubout'], {
      encoding: 'utf8',
    });
    const r = await createApplication({ ctx: ctxOf(db), project: 'P2', name: 'EMR', publicKey: pem });
    expect(r.privateKeyPem).toBeUndefined();
    expect(r.application.publicKeyPem).toBe(pem);
    expect(r.application).toMatchObject({ vendor: '', defaultTags: [], retentionYears: 30 });
  });

  it('APP_PUBLIC_KEY_INVALID for a key that is not SM2; PROJECT_NOT_FOUND for an unknown project', async () => {
    const rsa = execFileSync(
      'sh',
      [
        '-c',
        'openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null | openssl pkey -pubout',
      ],
      { encoding: 'utf8' },
    );
    expect(
      await codeOf(createApplication({ ctx: ctxOf(db), project: 'P1', name: 'x', publicKey: rsa })),
    ).toBe('APP_PUBLIC_KEY_INVALID');
    expect(
      await codeOf(createApplication({ ctx: ctxOf(db), project: 'P1', name: 'x', publicKey: 'garbage' })),
    ).toBe('APP_PUBLIC_KEY_INVALID');
    expect(await codeOf(createApplication({ ctx: ctxOf(db), project: 'P9', name: 'x' }))).toBe(
      'PROJECT_NOT_FOUND',
    );
  });

  it('lists by project, status, name; edits; batch freeze/unfreeze; APP_NOT_FOUND', async () => {
    const ctx = ctxOf(db);
    const [his] = await listApplications({ ctx, project: 'P1' });
    expect(his?.name).toBe('HIS');
    expect((await listApplications({ ctx, name: 'EM' })).map((a) => a.name)).toEqual(['EMR']);
    const edited = await updateApplication({
      ctx,
      id: his!.id,
      name: 'HIS 门诊',
      defaultTags: ['a', 'b'],
      retentionYears: 20,
      vendor: 'v2',
    });
    expect(edited).toMatchObject({
      name: 'HIS 门诊',
      defaultTags: ['a', 'b'],
      retentionYears: 20,
      vendor: 'v2',
    });
    const all = await listApplications({ ctx });
    const frozen = await setApplicationStatus({ ctx, ids: all.map((a) => a.id), status: 'frozen' });
    expect(frozen.every((a) => a.status === 'frozen')).toBe(true);
    expect((await listApplications({ ctx, status: 'active' })).length).toBe(0);
    await setApplicationStatus({ ctx, ids: [his!.id], status: 'active' });
    expect((await getApplication({ ctx, id: his!.id })).status).toBe('active');
    expect(await codeOf(getApplication({ ctx, id: 'app_missing' }))).toBe('APP_NOT_FOUND');
    expect(await codeOf(rotateApplicationKey({ ctx, id: 'app_missing' }))).toBe('APP_NOT_FOUND');
  });

  it('rotate-key keeps the old key as revoked and bumps the version; every change is in the operation log', async () => {
    const ctx = ctxOf(db);
    const [his] = await listApplications({ ctx, project: 'P1' });
    const r = await rotateApplicationKey({ ctx, id: his!.id });
    expect(r.application.keyVersion).toBe(2);
    expect(r.application.publicKeyPem).not.toBe(his!.publicKeyPem);
    const keys = await db.kysely
      .selectFrom('application_keys')
      .selectAll()
      .where('app_id', '=', his!.id)
      .orderBy('version')
      .execute();
    expect(keys.map((k) => [k.version, k.revoked_at === null])).toEqual([
      [1, false],
      [2, true],
    ]);
    const actions = (
      await db.kysely.selectFrom('operation_logs').select('action').orderBy('seq').execute()
    ).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'application.create',
        'application.update',
        'application.freeze',
        'application.unfreeze',
        'application.rotate-key',
      ]),
    );
    expect(await verifyChain({ db: db.kysely, table: 'operation_logs' })).toMatchObject({ ok: true });
  });
});
