import {
  MysqlAdapter,
  PostgresAdapter,
  sql,
  type CreateTableBuilder,
  type Kysely,
  type Migration,
} from 'kysely';

/**
 * The Redis write buffer (缓存数据落库, src/buffer) and the digest jobs (src/jobs/digest-*.ts):
 * - `write_buffer_offsets`: per buffered stream, the id of the last Redis entry committed to the database (the
 *   flush skips entries at or below it, so a flush interrupted between the commit and the Redis trim never writes
 *   an entry twice) and, for the API log, the head of its hash chain across the period tables.
 * - `api_log_periods`: the API-log period tables (`api_log_YYYYMM`) created by the flush, with their seq range.
 * - `digest_artifacts`: per digest record, the stored PDF evidence report (file-store address) and the platform
 *   TSA token that reinforces it (加固时间戳).
 */
export const writeBuffer: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const adapter = db.getExecutor().adapter;
    const mysql = adapter instanceof MysqlAdapter;
    const blob = adapter instanceof PostgresAdapter ? sql`bytea` : mysql ? sql`longblob` : sql`blob`;
    const end = <T extends string, C extends string>(
      b: CreateTableBuilder<T, C>,
    ): CreateTableBuilder<T, C> =>
      mysql ? b.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`) : b;
    await db.schema
      .createTable('write_buffer_offsets')
      .addColumn('stream', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('last_id', 'varchar(48)', (c) => c.notNull())
      .addColumn('head_seq', 'bigint')
      .addColumn('head_hash', 'char(64)')
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .$call(end)
      .execute();
    await db.schema
      .createTable('api_log_periods')
      .addColumn('period', 'varchar(6)', (c) => c.primaryKey())
      .addColumn('table_name', 'varchar(32)', (c) => c.notNull())
      .addColumn('min_seq', 'bigint')
      .addColumn('max_seq', 'bigint')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .$call(end)
      .execute();
    await db.schema
      .createTable('digest_artifacts')
      .addColumn('evidence_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('report_sm3', 'char(64)')
      .addColumn('report_storage', 'varchar(16)')
      .addColumn('report_size', 'bigint')
      .addColumn('report_at', 'varchar(32)')
      .addColumn('timestamp_token', blob)
      .addColumn('timestamp_sm3', 'char(64)')
      .addColumn('timestamp_gen_time', 'varchar(32)')
      .addColumn('timestamp_at', 'varchar(32)')
      .$call(end)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('digest_artifacts').ifExists().execute();
    await db.schema.dropTable('api_log_periods').ifExists().execute();
    await db.schema.dropTable('write_buffer_offsets').ifExists().execute();
  },
};
