import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * Text columns compare byte by byte on PostgreSQL too (`COLLATE "C"`), as every table already does on
 * MySQL/MariaDB (`utf8mb4_bin`) and SQLite (`BINARY`). Before this, PostgreSQL compared them under the database's
 * default collation, which is the host's locale when the cluster was made: on a hospital server often
 * `zh_CN.UTF-8`, whose comparisons cost far more than memcmp, in every B-tree descent of every insert and
 * lookup. Nearly every indexed text column here is machine-made (ids, SM3 hex, ISO 8601 times, codes), for which
 * only byte order makes sense. Measured on PostgreSQL 15, 200,000 evidence rows inserted with INSERT … SELECT into
 * the evidence table's shape: 8% less time than under `C.UTF-8` and 33% less than under ICU `zh-Hans-CN`.
 *
 * Equality is unchanged (every collation involved is deterministic), so uniqueness is too; ordering becomes code
 * point order everywhere (UTF-8 byte order is code point order), the same on all three dialects. It also lets
 * PostgreSQL answer `LIKE 'prefix%'` from a B-tree.
 *
 * Every text column of the tables below (all tables as of 0016) is changed in place: the same type, so no table
 * is rewritten (checked: the same relfilenode); PostgreSQL rebuilds the indexes that use them. Later migrations
 * declare `COLLATE "C"` on PostgreSQL for new text columns (db/bytewise-text.int.test.ts checks every table).
 */
const TABLES = [
  'admin_login_challenges',
  'admin_roles',
  'admin_sessions',
  'admin_user_projects',
  'admin_user_roles',
  'admin_users',
  'api_log_periods',
  'api_logs',
  'application_keys',
  'applications',
  'ca_certificates',
  'chain_locks',
  'cold_moves',
  'cold_strategies',
  'digest_artifacts',
  'download_tokens',
  'evidence',
  'evidence_payloads',
  'file_blobs',
  'history_failures',
  'history_sources',
  'history_tasks',
  'job_leases',
  'job_runs',
  'job_state',
  'key_store',
  'log_checkpoint_stamps',
  'log_checkpoints',
  'log_leaves',
  'log_nodes',
  'log_state',
  'log_tree',
  'operation_logs',
  'projects',
  'stats_daily',
  'stats_monthly',
  'stats_yearly',
  'system_settings',
  'tsa_serials',
  'used_nonces',
  'write_buffer_offsets',
] as const;

interface TextColumn {
  table: string;
  column: string;
  /** format_type: `character varying(64)`, `character(64)`, `text`. */
  type: string;
}

/** The text columns of {@link TABLES} whose collation is (`to` 'C') or is not (`to` 'default') "C". */
async function columnsToChange(db: Kysely<unknown>, to: 'C' | 'default'): Promise<TextColumn[]> {
  const r = await sql<TextColumn>`
    SELECT c.relname AS "table", a.attname AS "column", format_type(a.atttypid, a.atttypmod) AS "type"
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = current_schema()::regnamespace
       AND c.relkind = 'r'
       AND c.relname = ANY(${[...TABLES]}::text[])
       AND a.attnum > 0 AND NOT a.attisdropped
       AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)
       AND (a.attcollation = (SELECT oid FROM pg_collation
                                WHERE collname = 'C' AND collnamespace = 'pg_catalog'::regnamespace))
           = ${to === 'default'}
     ORDER BY c.relname, a.attnum`.execute(db);
  return r.rows;
}

/** One ALTER TABLE per table (its indexes rebuilt once), every listed column to `collation`. */
async function alter(
  db: Kysely<unknown>,
  columns: readonly TextColumn[],
  collation: 'C' | 'default',
): Promise<void> {
  const byTable = new Map<string, TextColumn[]>();
  for (const c of columns) byTable.set(c.table, [...(byTable.get(c.table) ?? []), c]);
  for (const [table, cols] of byTable) {
    const clauses = cols.map(
      (c) => sql`ALTER COLUMN ${sql.ref(c.column)} TYPE ${sql.raw(c.type)} COLLATE ${sql.ref(collation)}`,
    );
    await sql`ALTER TABLE ${sql.table(table)} ${sql.join(clauses)}`.execute(db);
  }
}

export const bytewiseText: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
    await alter(db, await columnsToChange(db, 'C'), 'C');
  },
  async down(db: Kysely<unknown>): Promise<void> {
    if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
    await alter(db, await columnsToChange(db, 'default'), 'default');
  },
};
