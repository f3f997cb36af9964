/**
 * The dedupe-key and Idempotency-Key lookups of the ingest path (repo.findByDedupeKeys / findByIdempotencyKeys):
 * exactly one application's records of the keys asked for, in chunks, on every dialect — and on PostgreSQL
 * answered by probing the unique index per key even in a table never ANALYZEd, where the IN form read the
 * application's every row (the planner took the table for a few rows and filtered the index on app_id alone).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/connect.js';
import { openMigrated } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { findByDedupeKeys, findByIdempotencyKeys } from './repo.js';

const ROWS_A = 3000;
const ROWS_B = 300;
const dedupe = (app: string, i: number): string => `${app}-${i}`.padEnd(64, 'f');
const idem = (app: string, i: number): string | null => (i % 3 === 0 ? `K-${app}-${i}` : null);

function row(app: string, i: number) {
  return {
    id: `ev_${app}_${i}`,
    kind: 'digest' as const,
    project_id: 'prj_lookup',
    app_id: `app_${app}`,
    serial_number: `SN-${i}`,
    received_at: new Date(Date.UTC(2026, 11, 2, 0, 0, i)).toISOString(),
    tags: '[]',
    metadata: '{}',
    verification: '{}',
    dedupe_key: dedupe(app, i),
    idempotency_key: idem(app, i),
    evidence_hash: '0'.repeat(64),
    log_index: i,
  };
}

describe.each(testDialects())('evidence key lookups on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openMigrated(tdb.config);
    // Never ANALYZEd during the test: autovacuum would otherwise pick its own moment.
    if (dialect === 'postgres')
      await sql`ALTER TABLE evidence SET (autovacuum_enabled = off)`.execute(db.kysely);
    await db.kysely
      .insertInto('projects')
      .values({
        id: 'prj_lookup',
        number: 'LOOKUP',
        name: '查重',
        status: 'active',
        created_at: '2026-12-02T00:00:00.000Z',
        updated_at: '2026-12-02T00:00:00.000Z',
      })
      .execute();
    const rows = [
      ...Array.from({ length: ROWS_A }, (_, i) => row('a', i)),
      ...Array.from({ length: ROWS_B }, (_, i) => row('b', i)),
    ];
    for (let i = 0; i < rows.length; i += 200)
      await db.kysely
        .insertInto('evidence')
        .values(rows.slice(i, i + 200))
        .execute();
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it("finds exactly the application's records of the keys asked for (others' and unknown keys not)", async () => {
    const mine = [7, 100, 2999, 0, 1500].map((i) => dedupe('a', i));
    const asked = [...mine, dedupe('b', 7), dedupe('b', 100), 'f'.repeat(64), dedupe('a', ROWS_A + 1)];
    const found = await findByDedupeKeys(db.kysely, 'app_a', asked);
    expect([...found.keys()].sort()).toEqual([...mine].sort());
    const direct = await db.kysely
      .selectFrom('evidence')
      .selectAll()
      .where('id', '=', 'ev_a_100')
      .executeTakeFirst();
    expect(found.get(dedupe('a', 100))).toEqual(direct);
    const byKey = await findByIdempotencyKeys(db.kysely, 'app_a', [
      'K-a-3',
      'K-a-4',
      'K-b-3',
      'K-a-2997',
      'K-x',
    ]);
    expect([...byKey.keys()].sort()).toEqual(['K-a-2997', 'K-a-3']);
    expect(byKey.get('K-a-3')?.id).toBe('ev_a_3');
  });

  it('looks up more keys than one statement takes (1,200: three chunks)', async () => {
    const asked = Array.from({ length: 1200 }, (_, i) => dedupe('a', i * 2));
    const found = await findByDedupeKeys(db.kysely, 'app_a', asked);
    expect(found.size).toBe(1200);
    for (const k of asked) expect(found.get(k)?.dedupe_key).toBe(k);
    const others = Array.from({ length: 1200 }, (_, i) => dedupe('b', i));
    expect((await findByDedupeKeys(db.kysely, 'app_b', others)).size).toBe(ROWS_B);
    expect((await findByDedupeKeys(db.kysely, 'app_a', others)).size).toBe(0);
  });

  // PostgreSQL's planner alone chose the plan this guards against.
  if (dialect === 'postgres')
    it('reads only the records found, in a table never ANALYZEd', async () => {
      const never = await sql<{ n: string }>`SELECT count(*) AS n FROM pg_stat_user_tables
      WHERE relname = 'evidence' AND last_analyze IS NULL AND last_autoanalyze IS NULL`.execute(db.kysely);
      expect(Number(never.rows[0]?.n)).toBe(1);
      for (const lookup of [
        (trx: typeof db.kysely) =>
          findByDedupeKeys(
            trx,
            'app_a',
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].map((i) =>
              dedupe('a', i * 9),
            ),
          ),
        (trx: typeof db.kysely) =>
          findByIdempotencyKeys(
            trx,
            'app_a',
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].map(
              (i) => `K-a-${i * 9}`,
            ),
          ),
      ]) {
        const read = await db.kysely.transaction().execute(async (trx) => {
          // The table counters of this backend not yet published (pg_stat_xact_*), before and after the lookup.
          const counters = async () => {
            const r = await sql<{
              fetched: string;
              scanned: string;
            }>`SELECT coalesce(idx_tup_fetch, 0) AS fetched,
              coalesce(seq_tup_read, 0) AS scanned FROM pg_stat_xact_user_tables WHERE relname = 'evidence'`.execute(
              trx,
            );
            return { fetched: Number(r.rows[0]?.fetched ?? 0), scanned: Number(r.rows[0]?.scanned ?? 0) };
          };
          const before = await counters();
          expect((await lookup(trx)).size).toBe(20);
          const after = await counters();
          return { fetched: after.fetched - before.fetched, scanned: after.scanned - before.scanned };
        });
        expect(read.scanned).toBe(0);
        expect(read.fetched).toBeLessThanOrEqual(20);
      }
    });
});
