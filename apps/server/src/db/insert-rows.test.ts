import {
  DummyDriver,
  Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type QueryResult,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { insertRows } from './insert-rows.js';
import type { Database } from './schema.js';

/** A Kysely of the given dialect that records the statements it is asked to run (no database). */
function recording(kind: 'pg' | 'mysql' | 'sqlite'): { db: Kysely<Database>; sent: CompiledQuery[] } {
  const sent: CompiledQuery[] = [];
  class Recorder extends DummyDriver {
    override acquireConnection(): Promise<DatabaseConnection> {
      return Promise.resolve({
        executeQuery: <R>(q: CompiledQuery): Promise<QueryResult<R>> => {
          sent.push(q);
          return Promise.resolve({ rows: [] });
        },
        streamQuery: () => {
          throw new Error('not used');
        },
      });
    }
  }
  const dialect: Dialect = {
    createAdapter: () =>
      kind === 'pg' ? new PostgresAdapter() : kind === 'mysql' ? new MysqlAdapter() : new SqliteAdapter(),
    createDriver: () => new Recorder(),
    createIntrospector: (db) =>
      kind === 'pg'
        ? new PostgresIntrospector(db)
        : kind === 'mysql'
          ? new MysqlIntrospector(db)
          : new SqliteIntrospector(db),
    createQueryCompiler: () =>
      kind === 'pg'
        ? new PostgresQueryCompiler()
        : kind === 'mysql'
          ? new MysqlQueryCompiler()
          : new SqliteQueryCompiler(),
  };
  return { db: new Kysely<Database>({ dialect }), sent };
}

const row = (seq: number, errorCode: string | null = null) => ({
  at: '2026-01-01T00:00:00.000Z',
  request_id: `req-${seq}`,
  app_id: seq % 2 === 0 ? null : 'app_1',
  project_id: 'prj_1',
  method: 'POST',
  path: '/api/v1/signatures',
  params: '{}',
  headers: '{"x-yz-signature":"[redacted]"}',
  status: 201,
  response: '{"id":"sig_1","患者":"张三"}',
  duration_ms: 3,
  error_code: errorCode,
  seq,
  prev_hash: '0'.repeat(64),
  hash: 'f'.repeat(64),
});

describe('insertRows', () => {
  for (const kind of ['pg', 'mysql', 'sqlite'] as const)
    it(`sends the statement and parameters Kysely compiles for the same rows (${kind})`, async () => {
      const { db, sent } = recording(kind);
      // Growing, then smaller again (a prefix of the kept text), then one row.
      const sizes = [1, 3, 50, 7, 1];
      for (const rows of sizes.map((n) =>
        Array.from({ length: n }, (_, i) => row(i, i % 3 === 1 ? 'E' : null)),
      )) {
        sent.length = 0;
        await insertRows(db, 'api_logs', rows);
        await insertRows(db, 'api_logs', rows); // the kept text serves the same shape again
        const expected = db.insertInto('api_logs').values(rows).compile();
        expect(sent.map((q) => [q.sql, q.parameters])).toEqual([
          [expected.sql, expected.parameters],
          [expected.sql, expected.parameters],
        ]);
      }
      sent.length = 0;
      await insertRows(db, 'used_nonces', [{ app_id: 'a', nonce: 'n'.repeat(16), expires_at: 'x' }]);
      const nonce = db
        .insertInto('used_nonces')
        .values([{ app_id: 'a', nonce: 'n'.repeat(16), expires_at: 'x' }])
        .compile();
      expect(sent.map((q) => [q.sql, q.parameters])).toEqual([[nonce.sql, nonce.parameters]]);
    });

  it('leaves rows of differing or undefined columns to Kysely (DEFAULT for what a row leaves out)', async () => {
    const { db, sent } = recording('pg');
    const short: Partial<ReturnType<typeof row>> = row(2);
    delete short.error_code;
    const irregular = [
      [row(1), short],
      [short, row(1)],
      [row(1), { ...row(2), error_code: undefined }],
      [row(1), { ...row(2), extra: 1 }],
    ];
    for (const rows of irregular) {
      sent.length = 0;
      await insertRows(db, 'api_logs', rows as never);
      const expected = db
        .insertInto('api_logs')
        .values(rows as never)
        .compile();
      expect(sent.map((q) => [q.sql, q.parameters])).toEqual([[expected.sql, expected.parameters]]);
    }
    await expect(insertRows(db, 'api_logs', [])).rejects.toThrow(RangeError);
  });
});
