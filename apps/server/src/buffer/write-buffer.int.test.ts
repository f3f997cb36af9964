/**
 * The Redis write buffer (缓存数据落库) on every available database, against the real Redis
 * (YIZHENG_TEST_REDIS_URL, default redis://127.0.0.1:6379/0; each test run uses its own key prefix and deletes
 * its keys): API-log entries and statistics are buffered, flushed into period tables created on demand, the
 * chain continues from `api_logs` and verifies across tables, the admin query pages across them with a keyset
 * cursor; a flush interrupted between commit and trim, and two concurrent flushers, never write an entry twice.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendToChain, type ApiLogEntry } from '../audit/hash-chain.js';
import { periodOf } from '../audit/api-log-periods.js';
import { getApiLog, parseCursor, queryApiLogs, verifyApiLogChain } from '../audit/api-log-read.js';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import { YzError } from '../errors.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { flushApiLogRound, streamKeys } from './flush.js';
import { compareStreamIds } from './stream-id.js';
import { bufferDb } from './tables.js';
import { WriteBuffer } from './write-buffer.js';

const REDIS_URL = process.env.YIZHENG_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const log = pino({ level: 'silent' });
const NOW = Date.UTC(2026, 11, 2, 3, 0);

function entry(at: string, i: number, app: string | null = 'app_1'): ApiLogEntry {
  return {
    at,
    request_id: `req-${i}`,
    app_id: app,
    project_id: app === null ? null : 'prj_1',
    method: 'POST',
    path: `/api/v1/digests/${i}`,
    params: '{}',
    headers: '{"x-yz-signature":"[redacted]"}',
    status: 201,
    response: `{"id":"${i}"}`,
    duration_ms: 3,
    error_code: null,
  };
}

it('orders Redis stream ids numerically', () => {
  expect(compareStreamIds('9-1', '10-0')).toBe(-1);
  expect(compareStreamIds('10-2', '10-10')).toBe(-1);
  expect(compareStreamIds('10-2', '10-2')).toBe(0);
  expect(() => compareStreamIds('x', '1-0')).toThrow(RangeError);
});

it('refuses a malformed cursor with AUDIT_CURSOR_INVALID', () => {
  for (const bad of ['abc', '0', '-1', '1e3', '99999999999999999']) {
    try {
      parseCursor(bad);
      expect.fail(bad);
    } catch (e) {
      expect(e).toBeInstanceOf(YzError);
      expect((e as YzError).code).toBe('AUDIT_CURSOR_INVALID');
    }
  }
  expect(parseCursor('42')).toBe(42);
});

describe.each(testDialects())('write buffer on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  let redis: Redis;
  const prefix = `yz-test:${randomBytes(6).toString('hex')}:`;
  const keys = streamKeys(prefix);
  const buffers: WriteBuffer[] = [];
  const open = (): WriteBuffer => {
    const b = new WriteBuffer({
      db: db.kysely,
      redis: redis.duplicate(),
      prefix,
      now: () => NOW,
      log,
      batchSize: 7,
    });
    buffers.push(b);
    return b;
  };
  const count = async (table: string): Promise<number> =>
    Number(
      (
        await db.kysely
          .selectFrom(table as 'api_logs')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const apiCalls = async (): Promise<number> => {
    const rows = await db.kysely
      .selectFrom('stats_daily')
      .selectAll()
      .where('kind', '=', 'api_call')
      .execute();
    return rows.reduce((s, r) => s + Number(r.count), 0);
  };
  const digests = async (): Promise<number> => {
    const rows = await db.kysely.selectFrom('stats_daily').selectAll().where('kind', '=', 'digest').execute();
    return rows.reduce((s, r) => s + Number(r.count), 0);
  };

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openDatabase(tdb.config);
    await migrateToLatest(db.kysely);
    redis = new Redis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
  }, 60_000);
  afterEach(async () => {
    for (const b of buffers.splice(0)) await b.close();
  });
  afterAll(async () => {
    const left = await redis.keys(`${prefix}*`);
    if (left.length > 0) await redis.del(...left);
    await redis.quit();
    await db.close();
    await tdb.drop();
  });

  it('buffers, flushes into period tables created on demand, and keeps one chain across tables', async () => {
    // Three entries written directly before Redis was configured.
    for (let i = 1; i <= 3; i++)
      await appendToChain({ db: db.kysely, table: 'api_logs', entry: entry('2026-10-20T01:00:00.000Z', i) });
    const buffer = open();
    // November and December (Shanghai); one November entry arrives after a December one.
    const ats = [
      '2026-11-30T15:59:59.000Z', // 2026-11-30 23:59:59 Shanghai
      '2026-11-30T16:00:01.000Z', // 2026-12-01 00:00:01 Shanghai
      '2026-11-30T15:59:59.900Z',
      ...Array.from(
        { length: 12 },
        (_, i) => `2026-12-01T0${Math.floor(i / 10)}:${String(i % 10).padStart(2, '0')}:00.000Z`,
      ),
    ];
    await Promise.all(
      ats.map((at, i) => buffer.appendApiLog(entry(at, 10 + i, i % 5 === 0 ? null : 'app_1'))),
    );
    expect(await redis.xlen(keys.apiLog)).toBe(ats.length);

    const counts = await buffer.flush();
    expect(counts).toMatchObject({ apiLogs: ats.length, skipped: 0, rejected: 0 });
    expect(await redis.xlen(keys.apiLog)).toBe(0);
    expect(periodOf(ats[0]!)).toBe('202611');
    expect(await count('api_log_202611')).toBe(2);
    expect(await count('api_log_202612')).toBe(ats.length - 2);
    expect(await count('api_logs')).toBe(3);
    const periods = await bufferDb(db.kysely)
      .selectFrom('api_log_periods')
      .selectAll()
      .orderBy('period')
      .execute();
    expect(periods.map((p) => p.period)).toEqual(['202611', '202612']);
    expect(await verifyApiLogChain({ db: db.kysely, pageSize: 4 })).toMatchObject({
      ok: true,
      count: 3 + ats.length,
    });
    // Calls made by an application count as API calls; nothing else is counted from the buffer.
    expect(await apiCalls()).toBe(ats.filter((_, i) => i % 5 !== 0).length);
    expect(await digests()).toBe(0);

    // Keyset paging newest first across the three tables, interleaved seqs included.
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 20; guard++) {
      const page = await queryApiLogs({ db: db.kysely, filter: {}, pageSize: 4, cursor });
      expect(page.total).toBe(3 + ats.length);
      seen.push(...page.items.map((i) => i.seq));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 3 + ats.length }, (_, i) => 3 + ats.length - i));
    const filtered = await queryApiLogs({ db: db.kysely, filter: { path: '/digests/12' }, pageSize: 10 });
    expect(filtered.items.map((i) => i.requestId)).toEqual(['req-12']);
    expect((await getApiLog(db.kysely, 5)).requestId).toBe('req-11');
    // Old callers' page numbers still work.
    const p2 = await queryApiLogs({ db: db.kysely, filter: {}, page: 2, pageSize: 5 });
    expect(p2.items.map((i) => i.seq)).toEqual([13, 12, 11, 10, 9]);

    // Tampering with a period table's row breaks the chain at that row.
    await db.kysely
      .updateTable('api_log_202612' as 'api_logs')
      .set({ status: 500 })
      .where('seq', '=', 8)
      .execute();
    expect(await verifyApiLogChain({ db: db.kysely })).toMatchObject({
      ok: false,
      seq: 8,
      reason: 'hash_mismatch',
    });
    await db.kysely
      .updateTable('api_log_202612' as 'api_logs')
      .set({ status: 201 })
      .where('seq', '=', 8)
      .execute();
  });

  it('never writes an entry twice when a flush dies between the commit and the Redis trim', async () => {
    const before = await verifyApiLogChain({ db: db.kysely });
    const buffer = open();
    await Promise.all(
      [1, 2, 3, 4, 5].map((i) => buffer.appendApiLog(entry('2026-12-02T01:00:00.000Z', 100 + i))),
    );
    const died = new Error('killed after commit');
    await expect(
      flushApiLogRound({ db: db.kysely, redis, now: () => NOW }, keys.apiLog, 100, {
        afterCommit: () => Promise.reject(died),
      }),
    ).rejects.toBe(died);
    // Committed, still in Redis.
    expect(await redis.xlen(keys.apiLog)).toBe(5);
    const counts = await buffer.flush();
    expect(counts).toMatchObject({ apiLogs: 0, skipped: 5 });
    expect(await redis.xlen(keys.apiLog)).toBe(0);
    const after = await verifyApiLogChain({ db: db.kysely });
    expect(after).toMatchObject({ ok: true, count: (before.ok ? before.count : 0) + 5 });
  });

  it('two concurrent flushers commit each entry once; malformed entries are set aside', async () => {
    const before = await verifyApiLogChain({ db: db.kysely });
    const a = open();
    const b = open();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).appendApiLog(entry('2026-12-02T02:00:00.000Z', 200 + i)),
      ),
    );
    await redis.xadd(keys.apiLog, '*', 'e', '{"not":"an entry"}');
    const [ca, cb] = await Promise.all([a.flush(), b.flush()]);
    expect(ca.apiLogs + cb.apiLogs).toBe(40);
    expect(ca.rejected + cb.rejected).toBe(1);
    expect(await redis.xlen(`${keys.apiLog}:rejected`)).toBe(1);
    expect(await verifyApiLogChain({ db: db.kysely })).toMatchObject({
      ok: true,
      count: (before.ok ? before.count : 0) + 40,
    });
  });

  it('close() drains and flushes everything', async () => {
    const before = await apiCalls();
    const buffer = open();
    const pending = Array.from({ length: 25 }, (_, i) =>
      buffer.appendApiLog(entry('2026-12-02T03:00:00.000Z', 300 + i)),
    );
    await Promise.all(pending);
    await buffer.close();
    expect(await redis.xlen(keys.apiLog)).toBe(0);
    expect(await apiCalls()).toBe(before + 25);
  });
});
