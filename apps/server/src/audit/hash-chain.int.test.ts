import { sm3, toHex } from '@yizheng/gm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/connect.js';
import { openMigrated } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { canonicalJson } from './canonical-json.js';
import { appendToChain, chainHash, GENESIS, verifyChain, type OperationLogEntry } from './hash-chain.js';

const entry = (i: number): OperationLogEntry => ({
  at: `2026-11-24T12:00:${String(i % 60).padStart(2, '0')}.000Z`,
  actor: 'cli',
  action: 'project.create',
  target_type: 'project',
  target_id: `prj_${i}`,
  project_id: i % 2 === 0 ? null : `prj_${i}`,
  detail: JSON.stringify({ name: `项目 ${i}` }),
});

describe('chainHash', () => {
  it('is SM3 over the domain tag, the previous hash and the canonical columns', () => {
    const cols = { seq: 1, actor: 'cli', detail: '{}' };
    const want = toHex(sm3(new TextEncoder().encode(`yizheng-log-v1\n${GENESIS}\n${canonicalJson(cols)}`)));
    expect(chainHash(GENESIS, cols)).toBe(want);
    expect(chainHash(GENESIS, { ...cols, seq: 2 })).not.toBe(want);
    expect(chainHash('1'.repeat(64), cols)).not.toBe(want);
  });

  it('hashes the UTF-8 that TextEncoder makes: CJK, astral characters, lone surrogates (as U+FFFD)', () => {
    for (const detail of ['医生张三', '𠮷 emoji 😀', 'lone \ud800 high', 'lone \udc00 low', '\u0000\u001f']) {
      const cols = { seq: 7, actor: 'app:x', detail };
      const want = toHex(sm3(new TextEncoder().encode(`yizheng-log-v1\n${GENESIS}\n${canonicalJson(cols)}`)));
      expect(chainHash(GENESIS, cols)).toBe(want);
    }
  });
});

describe.each(testDialects())('hash-chained logs on %s', (dialect) => {
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

  it('an empty chain verifies', async () => {
    expect(await verifyChain({ db: db.kysely, table: 'operation_logs' })).toEqual({
      ok: true,
      count: 0,
      head: GENESIS,
    });
  });

  it('appends contiguous rows linked by prev_hash, also under concurrency, and verifies across pages', async () => {
    const first = await appendToChain({ db: db.kysely, table: 'operation_logs', entry: entry(1) });
    expect(first.seq).toBe(1);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        appendToChain({ db: db.kysely, table: 'operation_logs', entry: entry(i + 2) }),
      ),
    );
    const rows = await db.kysely
      .selectFrom('operation_logs')
      .select(['seq', 'prev_hash', 'hash'])
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(rows[0]!.prev_hash).toBe(GENESIS);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    const v = await verifyChain({ db: db.kysely, table: 'operation_logs', pageSize: 5 });
    expect(v).toEqual({ ok: true, count: 13, head: rows[12]!.hash });
  });

  it("appends inside callers' transactions, racing plain appends and each other, without failing one", async () => {
    const head = async (): Promise<number> =>
      Number(
        (
          await db.kysely
            .selectFrom('operation_logs')
            .select('seq')
            .orderBy('seq', 'desc')
            .limit(1)
            .executeTakeFirstOrThrow()
        ).seq,
      );
    const from = await head();
    const at = '2026-11-24T12:00:00.000Z';
    // Each caller writes its own change, then reads the chain (on MySQL/MariaDB that read fixes the
    // transaction's REPEATABLE READ snapshot before the append), then appends the entry recording the change.
    const inTransactions = Array.from({ length: 16 }, (_, i) =>
      db.kysely.transaction().execute(async (trx) => {
        await trx
          .insertInto('system_settings')
          .values({ key: `race-${i}`, value: '1', updated_at: at })
          .execute();
        await trx.selectFrom('operation_logs').select('seq').orderBy('seq', 'desc').limit(1).execute();
        return appendToChain({ db: trx, table: 'operation_logs', entry: entry(100 + i) });
      }),
    );
    const plain = Array.from({ length: 16 }, (_, i) =>
      appendToChain({ db: db.kysely, table: 'operation_logs', entry: entry(200 + i) }),
    );
    const results = await Promise.allSettled([...inTransactions, ...plain]);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const settings = await db.kysely
      .selectFrom('system_settings')
      .select('key')
      .where('key', 'like', 'race-%')
      .execute();
    expect(settings).toHaveLength(16);
    await db.kysely.deleteFrom('system_settings').where('key', 'like', 'race-%').execute();
    expect(await head()).toBe(from + 32);
    const v = await verifyChain({ db: db.kysely, table: 'operation_logs' });
    expect(v).toMatchObject({ ok: true, count: from + 32 });
  });

  it('a changed column is reported at its row (hash_mismatch)', async () => {
    await db.kysely.updateTable('operation_logs').set({ actor: 'mallory' }).where('seq', '=', 7).execute();
    expect(await verifyChain({ db: db.kysely, table: 'operation_logs' })).toMatchObject({
      ok: false,
      seq: 7,
      reason: 'hash_mismatch',
    });
    await db.kysely.updateTable('operation_logs').set({ actor: 'cli' }).where('seq', '=', 7).execute();
    expect(await verifyChain({ db: db.kysely, table: 'operation_logs' })).toMatchObject({ ok: true });
  });

  it('a row rewritten with a consistent own hash still breaks the link (prev_hash_mismatch)', async () => {
    const row = await db.kysely
      .selectFrom('operation_logs')
      .selectAll()
      .where('seq', '=', 4)
      .executeTakeFirstOrThrow();
    const forgedPrev = 'f'.repeat(64);
    const cols: Record<string, unknown> = { ...row };
    delete cols.prev_hash;
    delete cols.hash;
    const forged = chainHash(forgedPrev, { ...(cols as Record<string, string | number | null>), seq: 4 });
    await db.kysely
      .updateTable('operation_logs')
      .set({ prev_hash: forgedPrev, hash: forged })
      .where('seq', '=', 4)
      .execute();
    expect(await verifyChain({ db: db.kysely, table: 'operation_logs' })).toMatchObject({
      ok: false,
      seq: 4,
      reason: 'prev_hash_mismatch',
    });
    await db.kysely
      .updateTable('operation_logs')
      .set({ prev_hash: row.prev_hash, hash: row.hash })
      .where('seq', '=', 4)
      .execute();
  });

  it('a deleted row is reported (sequence_gap)', async () => {
    await db.kysely.deleteFrom('operation_logs').where('seq', '=', 10).execute();
    expect(await verifyChain({ db: db.kysely, table: 'operation_logs' })).toMatchObject({
      ok: false,
      seq: 10,
      reason: 'sequence_gap',
    });
  });

  it('the API log has its own chain', async () => {
    const r = await appendToChain({
      db: db.kysely,
      table: 'api_logs',
      entry: {
        at: '2026-11-24T12:00:00.000Z',
        request_id: 'r1',
        app_id: 'app_1',
        project_id: 'prj_1',
        method: 'GET',
        path: '/api/v1/ping',
        params: '{}',
        headers: '{}',
        status: 200,
        response: '{}',
        duration_ms: 3,
        error_code: null,
      },
    });
    expect(r.seq).toBe(1);
    expect(await verifyChain({ db: db.kysely, table: 'api_logs' })).toMatchObject({
      ok: true,
      count: 1,
      head: r.hash,
    });
  });
});
