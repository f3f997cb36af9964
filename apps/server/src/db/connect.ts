/**
 * Opens the database named by the configuration as a Kysely instance, checks that it is durable (writes are
 * acknowledged only once they are on disk) and exposes the migrator. One schema, three dialects.
 *
 * Durability policy (startup refuses with `DB_DURABILITY_UNSAFE`, or logs a warning, as documented here):
 * - SQLite: WAL, `synchronous=FULL`, `foreign_keys=ON`, `busy_timeout` — set by us, verified after setting.
 * - PostgreSQL: refuse if `SHOW fsync` or `SHOW synchronous_commit` is `off`.
 * - MySQL/MariaDB: refuse if `innodb_flush_log_at_trx_commit` is not 1 (0 and 2 lose up to a second of commits on
 *   a crash); warn if the binary log is on and `sync_binlog` is not 1 (a replica or point-in-time recovery may miss
 *   acknowledged commits, the primary's data is still safe).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  MysqlDialect,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
} from 'kysely';
import mysql from 'mysql2';
import pg from 'pg';
import { nameStatements } from './named-statements.js';
import type { DatabaseConfig } from '../config.js';
import { StartupError } from '../startup-error.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

export type Dialect = DatabaseConfig['dialect'];

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** Warnings found by the durability check (logged at start). */
  warnings: string[];
  close(): Promise<void>;
}

export interface DurabilityVerdict {
  refuse: string[];
  warn: string[];
}

/** PostgreSQL settings → verdict. Pure, tested table-driven. */
export function assessPostgres(settings: { fsync: string; synchronous_commit: string }): DurabilityVerdict {
  const refuse: string[] = [];
  if (settings.fsync.toLowerCase() === 'off') refuse.push('fsync is off');
  if (settings.synchronous_commit.toLowerCase() === 'off') refuse.push('synchronous_commit is off');
  return { refuse, warn: [] };
}

/** MySQL/MariaDB variables → verdict. Pure, tested table-driven. */
export function assessMysql(vars: {
  innodb_flush_log_at_trx_commit: number;
  sync_binlog: number;
  log_bin: number;
}): DurabilityVerdict {
  const refuse: string[] = [];
  const warn: string[] = [];
  if (vars.innodb_flush_log_at_trx_commit !== 1) {
    refuse.push(`innodb_flush_log_at_trx_commit is ${vars.innodb_flush_log_at_trx_commit} (must be 1)`);
  }
  if (vars.log_bin !== 0 && vars.sync_binlog !== 1) {
    warn.push(
      `binary log is on and sync_binlog is ${vars.sync_binlog}: replicas may miss acknowledged commits after a crash (set sync_binlog=1)`,
    );
  }
  return { refuse, warn };
}

function unreachable(config: DatabaseConfig, e: unknown): StartupError {
  const what = config.dialect === 'sqlite' ? config.file : config.dialect;
  return new StartupError(
    'DB_UNREACHABLE',
    `cannot open the ${config.dialect} database (${what}): ${e instanceof Error ? e.message : String(e)}`,
    { cause: e },
  );
}

/**
 * SQLite transactions start with BEGIN IMMEDIATE: they take the write lock up front (waiting up to busy_timeout)
 * instead of failing with SQLITE_BUSY when a read transaction must upgrade while another process (the CLI next to
 * a running server) writes.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * SQLite has transactional DDL: migrations run in one (immediate) transaction, which also serialises two processes
 * migrating the same file (Kysely's SQLite migration lock is a no-op) and leaves no half-applied migration.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

function openSqlite(file: string): Kysely<Database> {
  // The data directory holds patient data and the KEK: owner only.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const raw = new SqliteDatabase(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const mode = raw.pragma('journal_mode', { simple: true }) as string;
  const sync = raw.pragma('synchronous', { simple: true }) as number;
  const fk = raw.pragma('foreign_keys', { simple: true }) as number;
  if (mode.toLowerCase() !== 'wal' || sync < 2 || fk !== 1) {
    raw.close();
    throw new StartupError(
      'DB_DURABILITY_UNSAFE',
      `SQLite ${file}: journal_mode=${mode}, synchronous=${sync}, foreign_keys=${fk} (need wal, 2, 1)`,
    );
  }
  return new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: raw }) });
}

/** Opens, checks reachability and durability. Throws {@link StartupError} and leaves nothing open on failure. */
export async function openDatabase(
  config: DatabaseConfig,
  options: { onPoolError?: (e: Error) => void } = {},
): Promise<Db> {
  let kysely: Kysely<Database>;
  const warnings: string[] = [];
  switch (config.dialect) {
    case 'sqlite':
      try {
        kysely = openSqlite(config.file);
      } catch (e) {
        if (e instanceof StartupError) throw e;
        throw unreachable(config, e);
      }
      break;
    case 'postgres': {
      const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize });
      // An idle client whose connection dies (server restart, admin termination) is discarded by the pool and
      // the next query reconnects; without a listener the 'error' event would crash the process.
      pool.on('error', (e) => options.onPoolError?.(e));
      // Constant hot statements (db/named-statements.ts) are prepared once per connection.
      pool.on('connect', nameStatements);
      kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      try {
        const fsync = await sql<{ fsync: string }>`SHOW fsync`.execute(kysely);
        const sc = await sql<{ synchronous_commit: string }>`SHOW synchronous_commit`.execute(kysely);
        const verdict = assessPostgres({
          fsync: fsync.rows[0]?.fsync ?? 'on',
          synchronous_commit: sc.rows[0]?.synchronous_commit ?? 'on',
        });
        if (verdict.refuse.length > 0) {
          await kysely.destroy();
          throw new StartupError(
            'DB_DURABILITY_UNSAFE',
            `PostgreSQL would lose acknowledged writes: ${verdict.refuse.join('; ')}`,
          );
        }
      } catch (e) {
        if (e instanceof StartupError) throw e;
        await kysely.destroy().catch(() => undefined);
        throw unreachable(config, e);
      }
      break;
    }
    case 'mysql': {
      const pool = mysql.createPool({
        uri: config.url,
        connectionLimit: config.poolSize,
        charset: 'utf8mb4',
        supportBigNumbers: true,
        bigNumberStrings: false,
      });
      kysely = new Kysely<Database>({ dialect: new MysqlDialect({ pool }) });
      try {
        const r = await sql<{
          f: number | string;
          s: number | string;
          b: number | string;
        }>`SELECT @@innodb_flush_log_at_trx_commit AS f, @@sync_binlog AS s, @@log_bin AS b`.execute(kysely);
        const row = r.rows[0];
        const verdict = assessMysql({
          innodb_flush_log_at_trx_commit: Number(row?.f ?? 1),
          sync_binlog: Number(row?.s ?? 1),
          log_bin: Number(row?.b ?? 0),
        });
        if (verdict.refuse.length > 0) {
          await kysely.destroy();
          throw new StartupError(
            'DB_DURABILITY_UNSAFE',
            `MySQL/MariaDB would lose acknowledged writes: ${verdict.refuse.join('; ')}`,
          );
        }
        warnings.push(...verdict.warn);
      } catch (e) {
        if (e instanceof StartupError) throw e;
        await kysely.destroy().catch(() => undefined);
        throw unreachable(config, e);
      }
      break;
    }
  }
  return { kysely, dialect: config.dialect, warnings, close: () => kysely.destroy() };
}

export function createMigrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: migrationProvider });
}

/** Runs every pending migration; a failure is a typed startup error naming the migration. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = createMigrator(db);
  const known = new Set(Object.keys(await migrationProvider.getMigrations()));
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const msg = error instanceof Error ? error.message : JSON.stringify(error);
    if (/corrupted migrations|missing from the migration/i.test(msg)) {
      throw new StartupError(
        'DB_SCHEMA_NEWER',
        `the database has migrations this version does not know: ${msg}`,
        { cause: error },
      );
    }
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new StartupError('DB_MIGRATION_FAILED', `migration ${failed} failed: ${msg}`, { cause: error });
  }
  return (results ?? [])
    .filter((r) => r.status === 'Success' && known.has(r.migrationName))
    .map((r) => r.migrationName);
}

/** Names of migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const infos = await createMigrator(db).getMigrations();
  return infos.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** `count(*)` is a number on SQLite and a string (bigint) on PostgreSQL and MySQL. */
export function toCount(v: number | string | bigint | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : Number(v);
}

/** The error's driver codes: `code` (PostgreSQL SQLSTATE, MySQL symbol, SQLite code) and MySQL's `errno`. */
function driverCodes(e: unknown): { code: unknown; errno: unknown } {
  if (typeof e !== 'object' || e === null) return { code: undefined, errno: undefined };
  return { code: (e as { code?: unknown }).code, errno: (e as { errno?: unknown }).errno };
}

/** True for a unique or primary-key violation on any of the three dialects. */
export function isUniqueViolation(e: unknown): boolean {
  const { code, errno } = driverCodes(e);
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    errno === 1062
  );
}

/** True when the database chose this transaction as a deadlock or serialisation victim (nothing it did stays). */
export function isDeadlock(e: unknown): boolean {
  const { code, errno } = driverCodes(e);
  return code === '40001' || code === '40P01' || code === 'ER_LOCK_DEADLOCK' || errno === 1213;
}

/**
 * True for a conflict with a concurrent writer that retrying later resolves: a deadlock or serialisation victim,
 * a lock wait that timed out (MySQL/MariaDB `innodb_lock_wait_timeout`, PostgreSQL `lock_timeout`), or SQLite's
 * write lock still held after `busy_timeout`. The statement, and on MySQL at least the statement's own changes,
 * did not happen; a request meeting one is answered 503 DATABASE_BUSY, not 500.
 */
export function isTransientConflict(e: unknown): boolean {
  if (isDeadlock(e)) return true;
  const { code, errno } = driverCodes(e);
  return (
    code === '55P03' ||
    code === 'ER_LOCK_WAIT_TIMEOUT' ||
    errno === 1205 ||
    (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')))
  );
}
