import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../audit/hash-chain.js';
import { toCount, type Db } from '../../db/connect.js';
import { isYzError } from '../../errors.js';
import { ctxOf, openMigrated } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import {
  assertProjectActive,
  createProject,
  deleteProject,
  getProject,
  listProjects,
  setProjectStatus,
  updateProject,
} from './service.js';

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return isYzError(e) ? e.code : `not a YzError: ${String(e)}`;
  }
  return undefined;
}

describe.each(testDialects())('projects on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openMigrated(tdb.config);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('creates, finds by id or number, lists with filters in a stable order', async () => {
    const ctx = ctxOf(db);
    const a = await createProject({ ctx, number: 'XN-001', name: '心内科电子病历' });
    const b = await createProject({ ctx, number: 'ER-002', name: '急诊 100% 签名' });
    expect(a).toMatchObject({ number: 'XN-001', status: 'active', createdAt: '2026-11-24T12:00:00.000Z' });
    expect(await getProject({ ctx, ref: a.id })).toEqual(a);
    expect(await getProject({ ctx, ref: 'ER-002' })).toEqual(b);
    // Same created_at (fixed clock): ordered by id, stable across dialects.
    expect((await listProjects({ ctx })).map((p) => p.id)).toEqual([a.id, b.id].sort());
    expect((await listProjects({ ctx, name: '100%' })).map((p) => p.id)).toEqual([b.id]);
    expect((await listProjects({ ctx, number: 'XN-001' })).map((p) => p.id)).toEqual([a.id]);
  });

  it('PROJECT_NUMBER_TAKEN for a duplicate number (create and update)', async () => {
    const ctx = ctxOf(db);
    expect(await codeOf(createProject({ ctx, number: 'XN-001', name: 'dup' }))).toBe('PROJECT_NUMBER_TAKEN');
    expect(await codeOf(updateProject({ ctx, ref: 'ER-002', number: 'XN-001' }))).toBe(
      'PROJECT_NUMBER_TAKEN',
    );
  });

  it('PROJECT_NOT_FOUND for an unknown ref', async () => {
    expect(await codeOf(getProject({ ctx: ctxOf(db), ref: 'nope' }))).toBe('PROJECT_NOT_FOUND');
    expect(await codeOf(deleteProject({ ctx: ctxOf(db), ref: 'nope' }))).toBe('PROJECT_NOT_FOUND');
  });

  it('updates name and number; updated_at moves with the clock', async () => {
    const ctx = ctxOf(db, () => Date.UTC(2026, 10, 25));
    const p = await updateProject({ ctx, ref: 'ER-002', name: '急诊', number: 'ER-003' });
    expect(p).toMatchObject({
      number: 'ER-003',
      name: '急诊',
      updatedAt: '2026-11-25T00:00:00.000Z',
      createdAt: '2026-11-24T12:00:00.000Z',
    });
  });

  it('batch freeze and unfreeze; PROJECT_FROZEN for data operations on a frozen project', async () => {
    const ctx = ctxOf(db);
    const frozen = await setProjectStatus({ ctx, refs: ['XN-001', 'ER-003'], status: 'frozen' });
    expect(frozen.map((p) => p.status)).toEqual(['frozen', 'frozen']);
    expect(
      await codeOf(() => {
        assertProjectActive(frozen[0]!);
      }),
    ).toBe('PROJECT_FROZEN');
    expect((await listProjects({ ctx, status: 'frozen' })).length).toBe(2);
    const thawed = await setProjectStatus({ ctx, refs: ['XN-001'], status: 'active' });
    expect(
      await codeOf(() => {
        assertProjectActive(thawed[0]!);
      }),
    ).toBeUndefined();
    expect(await codeOf(setProjectStatus({ ctx, refs: ['XN-001', 'missing'], status: 'frozen' }))).toBe(
      'PROJECT_NOT_FOUND',
    );
    expect((await getProject({ ctx, ref: 'XN-001' })).status).toBe('active');
  });

  it('delete removes the project with its applications, keys and nonces, in one transaction; the log keeps the record', async () => {
    const ctx = ctxOf(db);
    const p = await getProject({ ctx, ref: 'XN-001' });
    const at = '2026-11-24T12:00:00.000Z';
    await db.kysely
      .insertInto('applications')
      .values({
        id: 'app_del',
        project_id: p.id,
        name: 'HIS',
        vendor: 'v',
        status: 'active',
        default_tags: '[]',
        retention_years: 30,
        public_key: 'k',
        key_version: 1,
        created_at: at,
        updated_at: at,
      })
      .execute();
    await db.kysely
      .insertInto('application_keys')
      .values({ app_id: 'app_del', version: 1, public_key: 'k', created_at: at, revoked_at: null })
      .execute();
    await db.kysely
      .insertInto('used_nonces')
      .values({ app_id: 'app_del', nonce: 'n'.repeat(16), expires_at: at })
      .execute();
    await deleteProject({ ctx, ref: p.id });
    const count = async (
      t: 'applications' | 'application_keys' | 'used_nonces' | 'projects',
    ): Promise<number> =>
      toCount(
        (
          await db.kysely
            .selectFrom(t)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count('applications')).toBe(0);
    expect(await count('application_keys')).toBe(0);
    expect(await count('used_nonces')).toBe(0);
    expect(await count('projects')).toBe(1);
    const actions = await db.kysely
      .selectFrom('operation_logs')
      .select(['action', 'target_id'])
      .orderBy('seq')
      .execute();
    expect(actions.at(-1)).toEqual({ action: 'project.delete', target_id: p.id });
    expect(await verifyChain({ db: db.kysely, table: 'operation_logs' })).toMatchObject({ ok: true });
  });
});
