/**
 * Text compares byte by byte on every dialect (migration 0017 on PostgreSQL; utf8mb4_bin on MySQL/MariaDB and
 * BINARY on SQLite from the start): the same order everywhere, whatever the server's locale. The PostgreSQL
 * database is made with an ICU Chinese default collation, as a hospital's cluster may have, under which the same
 * values sort otherwise (乙 中 a A …) — so these checks fail without the migration.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { createMigrator, migrateToLatest, openDatabase, type Db } from './connect.js';

const ZH_CLUSTER = `TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'zh-Hans-CN'`;
const VALUES = ['b', 'a', 'B', 'A', '中', '乙', 'é', 'a-1', 'a1', 'a_b'];
/** UTF-8 byte order (= code point order). */
const BYTE_ORDER = [...VALUES].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

describe.each(testDialects())('text order on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect, dialect === 'postgres' ? { postgresCreate: ZH_CLUSTER } : {});
    db = await openDatabase(tdb.config);
    await migrateToLatest(db.kysely);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('ORDER BY and range conditions on an indexed text column follow byte order', async () => {
    await db.kysely
      .insertInto('projects')
      .values(
        VALUES.map((v, i) => ({
          id: v,
          number: `N-${i}`,
          name: v,
          status: 'active' as const,
          created_at: 'x',
          updated_at: 'x',
        })),
      )
      .execute();
    const rows = await db.kysely.selectFrom('projects').select('id').orderBy('id').execute();
    expect(rows.map((r) => r.id)).toEqual(BYTE_ORDER);
    const after = await db.kysely
      .selectFrom('projects')
      .select('id')
      .where('id', '>', 'a')
      .orderBy('id')
      .execute();
    expect(after.map((r) => r.id)).toEqual(
      BYTE_ORDER.filter((v) => Buffer.compare(Buffer.from(v), Buffer.from('a')) > 0),
    );
    // Equality is exact: case and accents count.
    expect(await db.kysely.selectFrom('projects').select('id').where('id', '=', 'É').execute()).toEqual([]);
  });
});

describe.skipIf(!testDialects().includes('postgres'))('migration 0017 on PostgreSQL', () => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase('postgres', { postgresCreate: ZH_CLUSTER });
    db = await openDatabase(tdb.config);
    await migrateToLatest(db.kysely);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  /** Text columns of Yizheng's tables (Kysely's own left out) by collation name. */
  async function collations(): Promise<Map<string, string[]>> {
    const r = await sql<{ collation: string; column: string }>`
      SELECT co.collname AS collation, c.relname || '.' || a.attname AS column
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_collation co ON co.oid = a.attcollation
       WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
         AND c.relname NOT LIKE 'kysely%' AND a.attnum > 0 AND NOT a.attisdropped
         AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)`.execute(db.kysely);
    const out = new Map<string, string[]>();
    for (const row of r.rows) out.set(row.collation, [...(out.get(row.collation) ?? []), row.column]);
    return out;
  }

  it('every text column of every table collates as "C" (a later migration must declare it too)', async () => {
    const byCollation = await collations();
    expect([...byCollation.keys()]).toEqual(['C']);
    expect(byCollation.get('C')).toEqual(
      expect.arrayContaining([
        'evidence.id',
        'evidence.dedupe_key',
        'evidence.received_at',
        'used_nonces.nonce',
      ]),
    );
  });

  it('down restores the database default collation, with the indexes still in use; up again makes them "C"', async () => {
    const migrator = createMigrator(db.kysely);
    const down = await migrator.migrateDown();
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => r.migrationName)).toEqual(['0017-bytewise-text']);
    const restored = await collations();
    expect([...restored.keys()]).toEqual(['default']);
    // The evidence indexes survived the change and still answer their lookups.
    const plan = await db.kysely.connection().execute(async (c) => {
      await sql`SET enable_seqscan = off`.execute(c);
      return sql<{ 'QUERY PLAN': string }>`
        EXPLAIN SELECT id FROM evidence WHERE app_id = 'a' AND dedupe_key = 'k'`.execute(c);
    });
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/evidence_dedupe_uq/);
    expect(await migrateToLatest(db.kysely)).toEqual(['0017-bytewise-text']);
    expect([...(await collations()).keys()]).toEqual(['C']);
  });
});
