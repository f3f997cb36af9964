import { MysqlAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * One lock row per hash chain (`api_logs`, `operation_logs`). On MySQL/MariaDB an appender locks its chain's row
 * (`SELECT … FOR UPDATE` by primary key: a record lock, no gap) before it reads the head, so appenders inside
 * callers' transactions take turns instead of taking the same seq (src/audit/hash-chain.ts). PostgreSQL uses an
 * advisory lock and SQLite serialises writers, so the rows go unused there; the table is the same everywhere.
 * The rows are inserted here so that no appender ever has to create them.
 */
export const chainLocks: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    let t = db.schema.createTable('chain_locks').addColumn('name', 'varchar(32)', (c) => c.primaryKey());
    if (db.getExecutor().adapter instanceof MysqlAdapter)
      t = t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    await t.execute();
    await sql`INSERT INTO chain_locks (name) VALUES ('api_logs'), ('operation_logs')`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('chain_locks').ifExists().execute();
  },
};
