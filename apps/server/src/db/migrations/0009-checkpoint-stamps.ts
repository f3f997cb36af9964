import { MysqlAdapter, PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * Timestamps of the log's own checkpoints (DESIGN.md core path step 6): one RFC 3161 token from the platform
 * TSA (SM2/SM3) over each checkpoint's note bytes, by tree size. A separate table, written after the checkpoint
 * is published (`src/log/stamper.ts`): a checkpoint without a row here is still valid and is stamped by a later
 * run when the TSA refused (clock drift).
 */
export const checkpointStamps: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const adapter = db.getExecutor().adapter;
    const mysql = adapter instanceof MysqlAdapter;
    const blob = adapter instanceof PostgresAdapter ? sql`bytea` : mysql ? sql`longblob` : sql`blob`;
    let t = db.schema
      .createTable('log_checkpoint_stamps')
      .addColumn('size', 'bigint', (c) => c.primaryKey())
      .addColumn('token', blob, (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull());
    if (mysql) t = t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    await t.execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('log_checkpoint_stamps').ifExists().execute();
  },
};
