import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/connect.js';
import { isUniqueViolation } from '../db/connect.js';
import { createApplication } from '../modules/applications/service.js';
import { createProject } from '../modules/projects/service.js';
import { createNonceWriter } from '../plugins/auth.js';
import { ctxOf, openMigrated } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { appendManyToChain, appendToChain, verifyChain, type ApiLogEntry } from './hash-chain.js';

const entry = (i: number): ApiLogEntry => ({
  at: `2026-12-01T12:00:${String(i % 60).padStart(2, '0')}.000Z`,
  request_id: `r${i}`,
  app_id: 'app_1',
  project_id: 'prj_1',
  method: 'POST',
  path: '/api/v1/signatures',
  params: '{}',
  headers: JSON.stringify({ 'x-yz-nonce': `n${i}` }),
  status: 201,
  response: `{"i":${i}}`,
  duration_ms: i,
  error_code: null,
});

describe.each(testDialects())('group-committed chain appends and nonces on %s', (dialect) => {
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

  it('appendManyToChain continues the chain contiguously, interleaved with single appends', async () => {
    await appendToChain({ db: db.kysely, table: 'api_logs', entry: entry(1) });
    const many = await appendManyToChain({
      db: db.kysely,
      table: 'api_logs',
      entries: Array.from({ length: 450 }, (_, i) => entry(i + 2)),
    });
    expect(many.map((r) => r.seq)).toEqual(Array.from({ length: 450 }, (_, i) => i + 2));
    const last = await appendToChain({ db: db.kysely, table: 'api_logs', entry: entry(452) });
    expect(last.seq).toBe(452);
    expect(await appendManyToChain({ db: db.kysely, table: 'api_logs', entries: [] })).toEqual([]);
    const rows = await db.kysely.selectFrom('api_logs').selectAll().orderBy('seq').execute();
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 452 }, (_, i) => i + 1));
    // verifyChain recomputes every hash as one append per entry would have made it.
    expect(await verifyChain({ db: db.kysely, table: 'api_logs', pageSize: 100 })).toMatchObject({
      ok: true,
      count: 452,
      head: last.hash,
    });
  });

  it('a batch colliding with another writer appends nothing', async () => {
    const before = await verifyChain({ db: db.kysely, table: 'api_logs' });
    await expect(
      db.kysely.transaction().execute(async (trx) => {
        await appendManyToChain({ db: trx, table: 'api_logs', entries: [entry(1000), entry(1001)] });
        // Another writer took the same sequence number meanwhile.
        await trx
          .insertInto('api_logs')
          .values({ ...entry(1002), seq: before.count + 1, prev_hash: 'x', hash: 'y' })
          .execute();
      }),
    ).rejects.toSatisfy(isUniqueViolation);
    expect(await verifyChain({ db: db.kysely, table: 'api_logs' })).toEqual(before);
  });

  it('the nonce writer records concurrent nonces; exactly the replays get false', async () => {
    await createProject({ ctx: ctxOf(db), number: 'P-NONCE', name: '随机数' });
    const app = await createApplication({ ctx: ctxOf(db), project: 'P-NONCE', name: 'HIS' });
    const appId = app.application.id;
    const writer = createNonceWriter(db.kysely);
    const exp = '2099-01-01T00:00:00.000Z';
    await writer.submit({ app_id: appId, nonce: 'used-before-0000', expires_at: exp });
    const nonces = [...Array.from({ length: 40 }, (_, i) => `nonce-${String(i).padStart(10, '0')}`)];
    nonces.splice(7, 0, 'used-before-0000');
    nonces.splice(20, 0, 'nonce-0000000003');
    const results = await Promise.all(
      nonces.map((nonce) => writer.submit({ app_id: appId, nonce, expires_at: exp })),
    );
    expect(results.flatMap((r, i) => (r ? [] : [i]))).toEqual([7, 20]);
    const stored = await db.kysely
      .selectFrom('used_nonces')
      .select('nonce')
      .where('app_id', '=', appId)
      .execute();
    expect(new Set(stored.map((r) => r.nonce))).toEqual(new Set(nonces));
    await writer.close();
    await expect(
      writer.submit({ app_id: appId, nonce: 'after-close-00000', expires_at: exp }),
    ).rejects.toThrow(/nonce writer is closed/);
  });
});
