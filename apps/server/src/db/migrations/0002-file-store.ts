import { MysqlAdapter, PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * Small files kept in the database (`file_blobs`, content-addressed by SM3), and the per-project choice of file
 * storage (seed §2.3 "支持多种电子文件存储方式"): `local` (content-addressed directory, the default) or `database`.
 */
export const fileStore: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const adapter = db.getExecutor().adapter;
    const blob =
      adapter instanceof PostgresAdapter
        ? sql`bytea`
        : adapter instanceof MysqlAdapter
          ? sql`longblob`
          : sql`blob`;
    const mysql = adapter instanceof MysqlAdapter;
    await db.schema
      .alterTable('projects')
      .addColumn('file_storage', 'varchar(16)', (c) => c.notNull().defaultTo('local'))
      .execute();
    let t = db.schema
      .createTable('file_blobs')
      .addColumn('sm3', 'char(64)', (c) => c.primaryKey())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('content', blob, (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull());
    if (mysql) t = t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    await t.execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('file_blobs').ifExists().execute();
    await db.schema.alterTable('projects').dropColumn('file_storage').execute();
  },
};
