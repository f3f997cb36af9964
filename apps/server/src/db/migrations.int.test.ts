import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStartupError } from '../startup-error.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import Sqlite from 'better-sqlite3';
import {
  isDeadlock,
  isTransientConflict,
  isUniqueViolation,
  migrateToLatest,
  openDatabase,
  pendingMigrations,
  toCount,
  type Db,
} from './connect.js';
import { MIGRATIONS } from './migrations/index.js';

describe.each(testDialects())('database on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openDatabase(tdb.config);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('runs every migration once; nothing pending afterwards; running again is a no-op', async () => {
    expect(await pendingMigrations(db.kysely)).toEqual(Object.keys(MIGRATIONS));
    expect(await migrateToLatest(db.kysely)).toEqual(Object.keys(MIGRATIONS));
    expect(await pendingMigrations(db.kysely)).toEqual([]);
    expect(await migrateToLatest(db.kysely)).toEqual([]);
  });

  it('count(*) normalises to a number; unique violations are recognised', async () => {
    const row = {
      id: 'p1',
      number: 'N-1',
      name: '心内科',
      status: 'active' as const,
      created_at: 'x',
      updated_at: 'x',
    };
    await db.kysely.insertInto('projects').values(row).execute();
    const r = await db.kysely
      .selectFrom('projects')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(toCount(r.n)).toBe(1);
    let err: unknown;
    try {
      await db.kysely
        .insertInto('projects')
        .values({ ...row, id: 'p2' })
        .execute();
    } catch (e) {
      err = e;
    }
    expect(isUniqueViolation(err)).toBe(true);
  });

  it('a deadlock victim and a timed-out lock wait are transient conflicts, not unique violations', async () => {
    const expectConflict = (err: unknown, deadlock: boolean): void => {
      expect(err).toBeInstanceOf(Error);
      expect(isTransientConflict(err)).toBe(true);
      expect(isDeadlock(err)).toBe(deadlock);
      expect(isUniqueViolation(err)).toBe(false);
    };
    if (tdb.config.dialect === 'sqlite') {
      // SQLite has one writer: a second connection that may not wait gets SQLITE_BUSY.
      const holder = new Sqlite(tdb.config.file);
      const other = new Sqlite(tdb.config.file, { timeout: 0 });
      holder.exec('BEGIN IMMEDIATE');
      let err: unknown;
      try {
        other.exec('BEGIN IMMEDIATE');
      } catch (e) {
        err = e;
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
        other.close();
      }
      expectConflict(err, false);
      return;
    }
    const at = '2026-12-03T00:00:00.000Z';
    await db.kysely
      .insertInto('system_settings')
      .values(['dl-a', 'dl-b'].map((key) => ({ key, value: '0', updated_at: at })))
      .execute();
    const set = (trx: typeof db.kysely, key: string): Promise<unknown> =>
      trx.updateTable('system_settings').set({ value: '1' }).where('key', '=', key).execute();
    const latch = (): { open: () => void; opened: Promise<void> } => {
      let open!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      return { open, opened };
    };

    // Two transactions lock the same two rows in opposite orders: the database aborts one of them.
    const [a, b] = [latch(), latch()];
    const errors: unknown[] = [];
    const cross = (first: string, second: string, mine: typeof a, theirs: typeof a): Promise<void> =>
      db.kysely
        .transaction()
        .execute(async (trx) => {
          await set(trx, first);
          mine.open();
          await theirs.opened;
          await set(trx, second);
        })
        .catch((e: unknown) => {
          errors.push(e);
        });
    await Promise.all([cross('dl-a', 'dl-b', a, b), cross('dl-b', 'dl-a', b, a)]);
    expect(errors).toHaveLength(1);
    expectConflict(errors[0], true);

    // A lock wait that outlasts the lock timeout.
    const [held, done] = [latch(), latch()];
    const holder = db.kysely.transaction().execute(async (trx) => {
      await set(trx, 'dl-a');
      held.open();
      await done.opened;
    });
    await held.opened;
    let err: unknown;
    try {
      await db.kysely.transaction().execute(async (trx) => {
        if (tdb.config.dialect === 'postgres') await sql`SET LOCAL lock_timeout = '100ms'`.execute(trx);
        else await sql`SET SESSION innodb_lock_wait_timeout = 1`.execute(trx);
        try {
          await set(trx, 'dl-a');
        } finally {
          if (tdb.config.dialect === 'mysql')
            await sql`SET SESSION innodb_lock_wait_timeout = DEFAULT`.execute(trx);
        }
      });
    } catch (e) {
      err = e;
    }
    done.open();
    await holder;
    expectConflict(err, false);
  });

  it('text compares exactly (case and accents matter), CJK round-trips', async () => {
    const base = { name: '儿科 Pädiatrie 🏥', status: 'active' as const, created_at: 'x', updated_at: 'x' };
    await db.kysely
      .insertInto('projects')
      .values({ ...base, id: 'c1', number: 'abc' })
      .execute();
    await db.kysely
      .insertInto('projects')
      .values({ ...base, id: 'c2', number: 'ABC' })
      .execute();
    const got = await db.kysely.selectFrom('projects').select(['name']).where('number', '=', 'abc').execute();
    expect(got).toEqual([{ name: base.name }]);
  });

  it('foreign keys cascade from projects to applications', async () => {
    await db.kysely
      .insertInto('applications')
      .values({
        id: 'a1',
        project_id: 'c1',
        name: 'HIS',
        vendor: '',
        status: 'active',
        default_tags: '[]',
        retention_years: 30,
        public_key: 'x',
        key_version: 1,
        created_at: 'x',
        updated_at: 'x',
      })
      .execute();
    await db.kysely.deleteFrom('projects').where('id', '=', 'c1').execute();
    const n = await db.kysely
      .selectFrom('applications')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(toCount(n.n)).toBe(0);
    await sql`SELECT 1`.execute(db.kysely);
  });

  if (dialect === 'postgres') {
    it('refuses to start on a database with synchronous_commit=off (DB_DURABILITY_UNSAFE)', async () => {
      const admin = new pg.Client({ connectionString: tdb.adminUrl });
      await admin.connect();
      await admin.query(`ALTER DATABASE "${tdb.name!}" SET synchronous_commit = off`);
      await admin.end();
      let err: unknown;
      try {
        await openDatabase(tdb.config);
      } catch (e) {
        err = e;
      }
      expect(isStartupError(err, 'DB_DURABILITY_UNSAFE')).toBe(true);
    });
  }
});

describe.each(testDialects())('migration failures on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openDatabase(tdb.config);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('DB_MIGRATION_FAILED when a migration cannot run (a table is in the way)', async () => {
    await db.kysely.schema.createTable('operation_logs').addColumn('x', 'integer').execute();
    let err: unknown;
    try {
      await migrateToLatest(db.kysely);
    } catch (e) {
      err = e;
    }
    expect(isStartupError(err, 'DB_MIGRATION_FAILED')).toBe(true);
    expect((err as Error).message).toContain('0001-init');
  });

  it('DB_SCHEMA_NEWER when the database has a migration this version does not know', async () => {
    // A fresh database: MySQL DDL is not transactional, the failed one above is half-migrated there.
    const fresh = await createTestDatabase(dialect);
    const db2 = await openDatabase(fresh.config);
    try {
      await migrateToLatest(db2.kysely);
      await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999-future', '2030-01-01T00:00:00.000Z')`.execute(
        db2.kysely,
      );
      let err: unknown;
      try {
        await migrateToLatest(db2.kysely);
      } catch (e) {
        err = e;
      }
      expect(isStartupError(err, 'DB_SCHEMA_NEWER')).toBe(true);
    } finally {
      await db2.close();
      await fresh.drop();
    }
  });
});

describe('unreachable databases', () => {
  it.each([
    [{ dialect: 'postgres' as const, url: 'postgres://postgres@127.0.0.1:1/none', poolSize: 1 }],
    [{ dialect: 'mysql' as const, url: 'mysql://root@127.0.0.1:1/none', poolSize: 1 }],
    // The parent "directory" is a regular file.
    [{ dialect: 'sqlite' as const, file: `${fileURLToPath(import.meta.url)}/yizheng.db` }],
  ])('DB_UNREACHABLE for %j', async (config) => {
    let err: unknown;
    try {
      await openDatabase(config);
    } catch (e) {
      err = e;
    }
    expect(isStartupError(err, 'DB_UNREACHABLE')).toBe(true);
  });
});
