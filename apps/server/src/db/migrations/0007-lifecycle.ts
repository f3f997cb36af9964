import { MysqlAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * Data lifecycle (src/jobs, modules/jobs, modules/history):
 * - `job_state`: one row per declared job — its default and current schedule, enabled or stopped, and a pending
 *   "run now" request. Every server reads it, so a stop, a new schedule or a run request made on one server (or
 *   by the CLI) applies on all of them.
 * - `job_leases`: who runs a job now; taken atomically (insert, or update of an expired lease), renewed while the
 *   run lasts, so one instance at a time runs an exclusive job even with several servers on one database.
 * - `job_runs`: each run (start, end, outcome, counts, error) when the job-log switch (系统配置 jobLog) is on.
 * - `history_sources`: external databases for history migration (历史数据迁移); the connection URL is sealed
 *   with the field crypto (never stored or logged in clear); the column mapping of the intermediate table.
 * - `history_tasks`: a migration of one source into one application — validation level, time window, throttle,
 *   and the durable cursor, advanced in the same transaction as the records it covers.
 * - `history_failures`: source rows that failed validation, kept with the reason.
 */
export const lifecycle: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
    const end = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
      mysql ? t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`) : t;
    await end(
      db.schema
        .createTable('job_state')
        .addColumn('job_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('description', 'varchar(500)', (c) => c.notNull())
        .addColumn('default_schedule', 'varchar(100)', (c) => c.notNull())
        .addColumn('schedule', 'varchar(100)')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('run_requested_at', 'varchar(32)')
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull()),
    ).execute();
    await end(
      db.schema
        .createTable('job_leases')
        .addColumn('job_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('holder', 'varchar(100)', (c) => c.notNull())
        .addColumn('acquired_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(32)', (c) => c.notNull()),
    ).execute();
    await end(
      db.schema
        .createTable('job_runs')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('job_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('trigger', 'varchar(16)', (c) => c.notNull())
        .addColumn('holder', 'varchar(100)', (c) => c.notNull())
        .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('ended_at', 'varchar(32)')
        .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
        .addColumn('counts', 'text')
        .addColumn('error', 'text'),
    ).execute();
    await db.schema.createIndex('job_runs_by_job').on('job_runs').columns(['job_id', 'started_at']).execute();
    await end(
      db.schema
        .createTable('history_sources')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('url_sealed', 'text', (c) => c.notNull())
        .addColumn('source_table', 'varchar(128)', (c) => c.notNull())
        .addColumn('mapping', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull()),
    ).execute();
    await end(
      db.schema
        .createTable('history_tasks')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('source_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('app_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('level', 'varchar(16)', (c) => c.notNull())
        .addColumn('window_start', 'varchar(5)')
        .addColumn('window_end', 'varchar(5)')
        .addColumn('rows_per_second', 'integer', (c) => c.notNull())
        .addColumn('batch_size', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('cursor', 'varchar(200)')
        .addColumn('total', 'bigint')
        .addColumn('migrated', 'bigint', (c) => c.notNull())
        .addColumn('duplicates', 'bigint', (c) => c.notNull())
        .addColumn('failed', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull()),
    ).execute();
    await end(
      db.schema
        .createTable('history_failures')
        .addColumn('task_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('source_key', 'varchar(200)', (c) => c.notNull())
        .addColumn('code', 'varchar(64)', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('history_failures_pk', ['task_id', 'source_key']),
    ).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of [
      'history_failures',
      'history_tasks',
      'history_sources',
      'job_runs',
      'job_leases',
      'job_state',
    ])
      await db.schema.dropTable(t).ifExists().execute();
  },
};
