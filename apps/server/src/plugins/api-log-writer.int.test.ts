import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendToChain, verifyChain, type ApiLogEntry } from '../audit/hash-chain.js';
import { isUniqueViolation, type Db } from '../db/connect.js';
import { openMigrated } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { createApiLogChainWriter } from './api-log-writer.js';

// 2026-12-31 20:00 UTC is 2027-01-01 in Shanghai: a batch across it counts on two days, months and years.
const entry = (i: number, at = '2026-12-01T12:00:00.000Z', app: string | null = 'app_1'): ApiLogEntry => ({
  at,
  request_id: `r${i}`,
  app_id: app,
  project_id: app === null ? null : 'prj_1',
  method: 'POST',
  path: '/api/v1/signatures',
  params: '{}',
  headers: JSON.stringify({ 'x-yz-nonce': `n${i}`, 'x-note': '中文 "quoted" \\ ' }),
  status: i % 5 === 0 ? 400 : 201,
  response: `{"i":${i}}`,
  duration_ms: i,
  error_code: i % 5 === 0 ? 'VALIDATION_FAILED' : null,
});

describe.each(testDialects())('API-log group writer on %s', (dialect) => {
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

  const counts = async (
    table: 'stats_daily' | 'stats_monthly' | 'stats_yearly',
  ): Promise<Record<string, number>> => {
    const column = table === 'stats_daily' ? 'day' : table === 'stats_monthly' ? 'month' : 'year';
    const rows = await db.kysely
      .selectFrom(table as 'stats_daily')
      .select(['app_id', sql.ref<string>(column).as('period'), 'count'])
      .where('kind', '=', 'api_call')
      .execute();
    return Object.fromEntries(rows.map((r) => [`${r.app_id}/${r.period}`, Number(r.count)]));
  };
  const seqs = async (): Promise<number[]> =>
    (await db.kysely.selectFrom('api_logs').select('seq').orderBy('seq').execute()).map((r) => Number(r.seq));

  it('appends batches contiguously with the hashes of one append per entry, and counts the calls with them', async () => {
    const writer = createApiLogChainWriter(db.kysely);
    await writer.append(Array.from({ length: 450 }, (_, i) => entry(i + 1)));
    await writer.append([
      entry(451, '2026-12-31T15:59:59.999Z'),
      entry(452, '2026-12-31T16:00:00.000Z'),
      entry(453, '2026-12-31T16:00:00.000Z', 'app_2'),
      entry(454, '2026-12-31T16:00:00.000Z', null), // unauthenticated: logged, not counted
    ]);
    await writer.append([entry(455)]);
    await writer.append([]);
    expect(await seqs()).toEqual(Array.from({ length: 455 }, (_, i) => i + 1));
    const verdict = await verifyChain({ db: db.kysely, table: 'api_logs', pageSize: 100 });
    expect(verdict).toMatchObject({ ok: true, count: 455 });
    // The same chain as appendToChain builds: one more entry appended that way still verifies.
    await appendToChain({ db: db.kysely, table: 'api_logs', entry: entry(456) });
    expect(await verifyChain({ db: db.kysely, table: 'api_logs' })).toMatchObject({ ok: true, count: 456 });
    expect(await counts('stats_daily')).toEqual({
      'app_1/2026-12-01': 451,
      'app_1/2026-12-31': 1,
      'app_1/2027-01-01': 1,
      'app_2/2027-01-01': 1,
    });
    expect(await counts('stats_monthly')).toEqual({
      'app_1/2026-12': 452,
      'app_1/2027-01': 1,
      'app_2/2027-01': 1,
    });
    expect(await counts('stats_yearly')).toEqual({ 'app_1/2026': 452, 'app_1/2027': 1, 'app_2/2027': 1 });
  });

  it('a head moved by another writer is read again and the batch rehashed after it', async () => {
    const writer = createApiLogChainWriter(db.kysely);
    await writer.append([entry(500)]);
    const other = createApiLogChainWriter(db.kysely);
    await other.append([entry(501), entry(502)]);
    await appendToChain({ db: db.kysely, table: 'api_logs', entry: entry(503) });
    // `writer` still holds the head before 501: its first try collides on seq and is retried after the new head.
    await writer.append([entry(504), entry(505)]);
    const all = await seqs();
    expect(all.slice(-6)).toEqual([457, 458, 459, 460, 461, 462]);
    expect(new Set(all).size).toBe(all.length);
    expect(await verifyChain({ db: db.kysely, table: 'api_logs' })).toMatchObject({ ok: true, count: 462 });
    const last = await db.kysely
      .selectFrom('api_logs')
      .select('request_id')
      .orderBy('seq', 'desc')
      .limit(2)
      .execute();
    expect(last.map((r) => r.request_id)).toEqual(['r505', 'r504']);
  });

  it('a batch that loses every try throws a unique violation and writes neither rows nor counts', async () => {
    const writer = createApiLogChainWriter(db.kysely, { maxAttempts: 1 });
    await writer.append([entry(600)]);
    await appendToChain({ db: db.kysely, table: 'api_logs', entry: entry(601) });
    const before = { seqs: await seqs(), daily: await counts('stats_daily') };
    await expect(writer.append([entry(602), entry(603)])).rejects.toSatisfy(isUniqueViolation);
    expect(await seqs()).toEqual(before.seqs);
    expect(await counts('stats_daily')).toEqual(before.daily);
    // The failed head was forgotten: the next batch reads it and goes through.
    await writer.append([entry(604)]);
    expect(await verifyChain({ db: db.kysely, table: 'api_logs' })).toMatchObject({
      ok: true,
      count: before.seqs.length + 1,
    });
    expect((await counts('stats_daily'))['app_1/2026-12-01']).toBe(before.daily['app_1/2026-12-01']! + 1);
  });
});
