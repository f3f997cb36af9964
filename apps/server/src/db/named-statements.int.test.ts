/**
 * Named statements on a real PostgreSQL: a registered constant text is prepared once per connection under its
 * name and executed by name after that (pg_prepared_statements of the session shows it); any other text stays
 * unnamed, and results are the same either way.
 */
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { openDatabase, type Db } from './connect.js';
import { namedStatement } from './named-statements.js';

const REGISTERED = 'SELECT $1::int + $2::int AS n, pg_backend_pid() AS pid';
const OTHER = 'SELECT $1::int * $2::int AS n, pg_backend_pid() AS pid';

describe.skipIf(!testDialects().includes('postgres'))('named statements (PostgreSQL)', () => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase('postgres');
    db = await openDatabase(tdb.config);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('names are derived from the text: one name per text, another text another name', () => {
    expect(namedStatement(REGISTERED)).toBe(namedStatement(REGISTERED));
    expect(namedStatement(REGISTERED)).toMatch(/^yz_[0-9a-f]{24}$/);
    expect(namedStatement(`${REGISTERED} `)).not.toBe(namedStatement(REGISTERED));
  });

  it('a registered text is prepared once per session and run by name; another text is not prepared', async () => {
    const name = namedStatement(REGISTERED);
    await db.kysely.connection().execute(async (c) => {
      for (let i = 0; i < 3; i++) {
        const r = await c.executeQuery<{ n: number }>(CompiledQuery.raw(REGISTERED, [i, 40]));
        expect(r.rows[0]?.n).toBe(40 + i);
      }
      const o = await c.executeQuery<{ n: number }>(CompiledQuery.raw(OTHER, [6, 7]));
      expect(o.rows[0]?.n).toBe(42);
      const prepared = await sql<{ name: string; statement: string }>`
        SELECT name, statement FROM pg_prepared_statements`.execute(c);
      expect(prepared.rows).toEqual([{ name, statement: REGISTERED }]);
    });
  });

  it('a wrong parameter is refused as before (the error, not a broken connection) and the name keeps working', async () => {
    await db.kysely.connection().execute(async (c) => {
      await expect(c.executeQuery(CompiledQuery.raw(REGISTERED, ['x', 1]))).rejects.toMatchObject({
        code: '22P02',
      });
      const r = await c.executeQuery<{ n: number }>(CompiledQuery.raw(REGISTERED, [1, 1]));
      expect(r.rows[0]?.n).toBe(2);
    });
  });
});
