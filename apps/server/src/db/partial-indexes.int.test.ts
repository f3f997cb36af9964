/**
 * Migration 0015: the Idempotency-Key and patient indexes cover non-NULL values only (PostgreSQL, SQLite), yet
 * every lookup through them still uses them and Idempotency-Keys stay unique per application; MySQL/MariaDB keep
 * their full indexes. The listing's patient filters are checked in modules/evidence/query-plan.int.test.ts.
 */
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigrated } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { isUniqueViolation, type Db } from './connect.js';
import type { Database } from './schema.js';

const PARTIAL = ['evidence_patient_time_idx', 'evidence_patient_name_time_idx', 'evidence_idempotency_uq'];

/** The index definitions of `evidence` by name (their WHERE clause included where the dialect shows one). */
async function indexes(db: Kysely<Database>, dialect: string): Promise<Map<string, string>> {
  const rows =
    dialect === 'postgres'
      ? (
          await sql<{ name: string; def: string }>`SELECT indexname AS name, indexdef AS def FROM pg_indexes
              WHERE tablename = 'evidence'`.execute(db)
        ).rows
      : dialect === 'sqlite'
        ? (
            await sql<{ name: string; def: string | null }>`SELECT name, sql AS def FROM sqlite_master
              WHERE type = 'index' AND tbl_name = 'evidence'`.execute(db)
          ).rows
        : (
            await sql<{ name: string; def: string }>`SELECT index_name AS name,
                group_concat(column_name ORDER BY seq_in_index) AS def
              FROM information_schema.statistics WHERE table_schema = database() AND table_name = 'evidence'
              GROUP BY index_name`.execute(db)
          ).rows;
  return new Map(rows.map((r) => [r.name, r.def ?? '']));
}

function row(id: string, idempotencyKey: string | null) {
  return {
    id,
    kind: 'digest' as const,
    project_id: 'prj_partial',
    app_id: 'app_partial',
    serial_number: id,
    received_at: '2026-12-02T00:00:00.000Z',
    tags: '[]',
    metadata: '{}',
    verification: '{}',
    dedupe_key: id.padEnd(64, '0'),
    idempotency_key: idempotencyKey,
    evidence_hash: '0'.repeat(64),
    log_index: 0,
  };
}

describe.each(testDialects())('evidence partial indexes on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openMigrated(tdb.config);
    await db.kysely
      .insertInto('projects')
      .values({
        id: 'prj_partial',
        number: 'PART',
        name: '部分索引',
        status: 'active',
        created_at: '2026-12-02T00:00:00.000Z',
        updated_at: '2026-12-02T00:00:00.000Z',
      })
      .execute();
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('covers non-NULL values only where the dialect can (not on MySQL/MariaDB)', async () => {
    const defs = await indexes(db.kysely, dialect);
    for (const name of PARTIAL) {
      expect(defs.has(name)).toBe(true);
      if (dialect === 'mysql') expect(defs.get(name)).not.toMatch(/where/i);
      else expect(defs.get(name)).toMatch(/where .*is not null/i);
    }
  });

  it('keeps Idempotency-Keys unique per application; records without one never collide', async () => {
    await db.kysely
      .insertInto('evidence')
      .values([row('e1', null), row('e2', null), row('e3', 'K-1')])
      .execute();
    const again = await db.kysely
      .insertInto('evidence')
      .values(row('e4', 'K-1'))
      .execute()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isUniqueViolation(again)).toBe(true);
  });

  it('answers Idempotency-Key lookups (= and IN) from its index (partial, or full on MySQL/MariaDB)', async () => {
    for (const q of [
      db.kysely
        .selectFrom('evidence')
        .selectAll()
        .where('app_id', '=', 'app_partial')
        .where('idempotency_key', '=', 'K-1'),
      db.kysely
        .selectFrom('evidence')
        .selectAll()
        .where('app_id', '=', 'app_partial')
        .where('idempotency_key', 'in', ['K-1', 'K-2']),
    ]) {
      const c = q.compile();
      const explain = dialect === 'sqlite' ? 'EXPLAIN QUERY PLAN ' : 'EXPLAIN ';
      const plan = await db.kysely.transaction().execute(async (trx) => {
        // A near-empty table makes a sequential scan the cheapest plan: rule it out to see the index choice.
        if (dialect === 'postgres') await sql`SET LOCAL enable_seqscan = off`.execute(trx);
        return (await trx.executeQuery(CompiledQuery.raw(explain + c.sql, [...c.parameters]))).rows;
      });
      expect(JSON.stringify(plan)).toContain('evidence_idempotency_uq');
    }
  });
});
