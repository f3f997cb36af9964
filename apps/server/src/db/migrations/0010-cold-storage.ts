import { MysqlAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * Hot → cold storage (lifecycle/cold-*.ts, modules/strategies):
 * - `cold_strategies`: migration strategies (迁移策略) — which data (project, kinds), age before archiving, hot-side
 *   retention after migration, batch size, allowed time window and its time zone.
 * - `cold_moves`: the records copied to the cold database and verified there; the hot copy is deleted in the
 *   same transaction that writes the row (no retention) or by the archive cleanup once `delete_after` passed.
 *
 * The cold database runs every migration too, so its `evidence`, `evidence_payloads` and `file_blobs` tables are
 * the hot ones' shape.
 */
export const coldStorage: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
    const end = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
      mysql ? t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`) : t;
    await end(
      db.schema
        .createTable('cold_strategies')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(64)')
        .addColumn('kinds', 'varchar(100)', (c) => c.notNull())
        .addColumn('age_days', 'integer', (c) => c.notNull())
        .addColumn('hot_retention_days', 'integer', (c) => c.notNull())
        .addColumn('batch_size', 'integer', (c) => c.notNull())
        .addColumn('window_start', 'varchar(5)')
        .addColumn('window_end', 'varchar(5)')
        .addColumn('timezone', 'varchar(64)', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull()),
    ).execute();
    await db.schema
      .createIndex('cold_strategies_name_uq')
      .on('cold_strategies')
      .column('name')
      .unique()
      .execute();
    await end(
      db.schema
        .createTable('cold_moves')
        .addColumn('evidence_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('strategy_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('evidence_hash', 'char(64)', (c) => c.notNull())
        .addColumn('verified_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('delete_after', 'varchar(32)', (c) => c.notNull())
        .addColumn('hot_deleted_at', 'varchar(32)'),
    ).execute();
    await db.schema
      .createIndex('cold_moves_pending_idx')
      .on('cold_moves')
      .columns(['hot_deleted_at', 'delete_after'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('cold_moves').ifExists().execute();
    await db.schema.dropTable('cold_strategies').ifExists().execute();
  },
};
