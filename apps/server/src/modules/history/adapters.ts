/**
 * Source databases of history migration (历史数据迁移) behind one {@link SourceAdapter} interface: PostgreSQL
 * (pg), MySQL/MariaDB (mysql2) and SQLite (better-sqlite3, read-only). An Oracle-like database (达梦, 人大金仓 in
 * Oracle mode, …) is added by implementing the interface and listing it in {@link ADAPTERS}.
 *
 * Rows are read in key order after a cursor (`WHERE key > ? ORDER BY key LIMIT n`): a stable, index-friendly
 * scan that resumes exactly where the last committed batch ended and never holds a long transaction on the
 * hospital's database. Identifiers (table, columns) are validated and quoted; values are bound parameters.
 */
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { YzError } from '../../errors.js';
import type { HistorySourceKind } from '../../lifecycle/tables.js';

export type SourceValue = string | number | bigint | Uint8Array | Date | null;
export type SourceRow = Readonly<Record<string, SourceValue>>;

export interface SourceQuery {
  table: string;
  /** Key column: unique, ordered. */
  key: string;
  keyType: 'integer' | 'text';
  columns: readonly string[];
}

export interface SourceAdapter {
  readonly kind: HistorySourceKind;
  /** Opens and counts the rows of the table (the connection test). */
  count(q: Pick<SourceQuery, 'table'>): Promise<number>;
  /** Up to `limit` rows with key > `after` (all from the start when null), in key order. */
  read(q: SourceQuery, after: string | null, limit: number): Promise<SourceRow[]>;
  close(): Promise<void>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function checkIdentifier(name: string, what: string): string {
  if (!IDENT.test(name))
    throw new YzError('HISTORY_MAPPING_INVALID', `${what} "${name}" is not a plain identifier`);
  return name;
}

function unreachable(e: unknown): YzError {
  const code = (e as { code?: unknown }).code;
  // Never echo the connection URL (it may hold a password): the driver's code and message only.
  const msg = e instanceof Error ? e.message.replace(/\/\/[^@\s]*@/g, '//***@') : String(e);
  return new YzError(
    'HISTORY_SOURCE_UNREACHABLE',
    `${typeof code === 'string' ? `${code}: ` : ''}${msg}`.slice(0, 500),
  );
}

function keyParam(q: SourceQuery, after: string): string | number {
  return q.keyType === 'integer' ? Number(after) : after;
}

function postgres(url: string): SourceAdapter {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => undefined);
  const quote = (s: string) => `"${s}"`;
  return {
    kind: 'postgres',
    async count(q) {
      try {
        const r = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(q.table)}`);
        return Number(r.rows[0]?.n ?? 0);
      } catch (e) {
        throw unreachable(e);
      }
    },
    async read(q, after, limit) {
      const cols = [q.key, ...q.columns.filter((c) => c !== q.key)].map(quote).join(', ');
      const where = after === null ? '' : `WHERE ${quote(q.key)} > $2`;
      const params: unknown[] = [limit];
      if (after !== null) params.push(keyParam(q, after));
      try {
        const r = await pool.query<Record<string, SourceValue>>(
          `SELECT ${cols} FROM ${quote(q.table)} ${where} ORDER BY ${quote(q.key)} LIMIT $1`,
          params,
        );
        return r.rows;
      } catch (e) {
        throw unreachable(e);
      }
    },
    close: () => pool.end(),
  };
}

function mysqlAdapter(url: string): SourceAdapter {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: 1,
    connectTimeout: 5_000,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const quote = (s: string) => `\`${s}\``;
  return {
    kind: 'mysql',
    async count(q) {
      try {
        const [rows] = await pool.query(`SELECT count(*) AS n FROM ${quote(q.table)}`);
        return Number((rows as { n: string | number }[])[0]?.n ?? 0);
      } catch (e) {
        throw unreachable(e);
      }
    },
    async read(q, after, limit) {
      const cols = [q.key, ...q.columns.filter((c) => c !== q.key)].map(quote).join(', ');
      const where = after === null ? '' : `WHERE ${quote(q.key)} > ?`;
      const params: unknown[] = after === null ? [limit] : [keyParam(q, after), limit];
      try {
        const [rows] = await pool.query(
          `SELECT ${cols} FROM ${quote(q.table)} ${where} ORDER BY ${quote(q.key)} LIMIT ?`,
          params,
        );
        return rows as SourceRow[];
      } catch (e) {
        throw unreachable(e);
      }
    },
    close: () => pool.end(),
  };
}

function sqlite(url: string): SourceAdapter {
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  let db: Database.Database | undefined;
  const open = (): Database.Database => {
    try {
      db ??= new Database(file, { readonly: true, fileMustExist: true });
      return db;
    } catch (e) {
      throw unreachable(e);
    }
  };
  const quote = (s: string) => `"${s}"`;
  return {
    kind: 'sqlite',
    count(q) {
      try {
        const r = open()
          .prepare(`SELECT count(*) AS n FROM ${quote(q.table)}`)
          .get() as { n: number };
        return Promise.resolve(r.n);
      } catch (e) {
        return Promise.reject(e instanceof YzError ? e : unreachable(e));
      }
    },
    read(q, after, limit) {
      const cols = [q.key, ...q.columns.filter((c) => c !== q.key)].map(quote).join(', ');
      const where = after === null ? '' : `WHERE ${quote(q.key)} > ?`;
      const params: unknown[] = after === null ? [limit] : [keyParam(q, after), limit];
      try {
        const rows = open()
          .prepare(`SELECT ${cols} FROM ${quote(q.table)} ${where} ORDER BY ${quote(q.key)} LIMIT ?`)
          .all(...params) as SourceRow[];
        return Promise.resolve(rows);
      } catch (e) {
        return Promise.reject(e instanceof YzError ? e : unreachable(e));
      }
    },
    close() {
      db?.close();
      return Promise.resolve();
    },
  };
}

export const ADAPTERS: Readonly<Record<HistorySourceKind, (url: string) => SourceAdapter>> = {
  postgres,
  mysql: mysqlAdapter,
  sqlite,
};

/** The kind of a connection URL (postgres://, mysql:// or mariadb://, sqlite:/path or a .db file). */
export function sourceKindOf(url: string): HistorySourceKind {
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  if (/^(mysql|mariadb):\/\//.test(url)) return 'mysql';
  if (/^sqlite:/.test(url)) return 'sqlite';
  throw new YzError(
    'HISTORY_SOURCE_INVALID',
    'the URL must start with postgres://, mysql://, mariadb:// or sqlite:',
  );
}

export function openSource(url: string): SourceAdapter {
  const kind = sourceKindOf(url);
  return ADAPTERS[kind](url.replace(/^mariadb:/, 'mysql:'));
}
