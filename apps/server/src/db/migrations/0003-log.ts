import { MysqlAdapter, PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * The Merkle log (see `src/log/index.ts`): one sequencing row (`log_state`: the next index to assign, the log's
 * hash and origin), one integration row (`log_tree`: the integrated size and root), the sequenced leaves, the
 * perfect-subtree nodes of the tree (write-once, by level and index) and every signed checkpoint.
 *
 * The two state rows are inserted here so that appending never has to create them (and two processes never race
 * to); the hash and origin are the defaults until the first start with a configuration writes its own (allowed
 * only while the log is empty).
 */
export const log: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const adapter = db.getExecutor().adapter;
    const mysql = adapter instanceof MysqlAdapter;
    const blob = adapter instanceof PostgresAdapter ? sql`bytea` : mysql ? sql`longblob` : sql`blob`;
    const hash = adapter instanceof PostgresAdapter ? sql`bytea` : mysql ? sql`varbinary(64)` : sql`blob`;
    const end = sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

    let t1 = db.schema
      .createTable('log_state')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('next_index', 'bigint', (c) => c.notNull())
      .addColumn('hash_alg', 'varchar(16)', (c) => c.notNull())
      .addColumn('origin', 'varchar(255)', (c) => c.notNull());
    if (mysql) t1 = t1.modifyEnd(end);
    await t1.execute();

    let t2 = db.schema
      .createTable('log_tree')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('root_hash', hash)
      .addColumn('updated_at', 'varchar(32)');
    if (mysql) t2 = t2.modifyEnd(end);
    await t2.execute();

    let t3 = db.schema
      .createTable('log_leaves')
      .addColumn('idx', 'bigint', (c) => c.primaryKey())
      .addColumn('entry', blob, (c) => c.notNull())
      .addColumn('leaf_hash', hash, (c) => c.notNull());
    if (mysql) t3 = t3.modifyEnd(end);
    await t3.execute();

    let t4 = db.schema
      .createTable('log_nodes')
      .addColumn('level', 'integer', (c) => c.notNull())
      .addColumn('idx', 'bigint', (c) => c.notNull())
      .addColumn('hash', hash, (c) => c.notNull())
      .addPrimaryKeyConstraint('log_nodes_pk', ['level', 'idx']);
    if (mysql) t4 = t4.modifyEnd(end);
    await t4.execute();

    let t5 = db.schema
      .createTable('log_checkpoints')
      .addColumn('size', 'bigint', (c) => c.primaryKey())
      .addColumn('root_hash', hash, (c) => c.notNull())
      .addColumn('note', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull());
    if (mysql) t5 = t5.modifyEnd(end);
    await t5.execute();

    await sql`INSERT INTO log_state (id, next_index, hash_alg, origin) VALUES (1, 0, 'sm3', 'yizheng.local/log')`.execute(
      db,
    );
    await sql`INSERT INTO log_tree (id, size) VALUES (1, 0)`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of ['log_checkpoints', 'log_nodes', 'log_leaves', 'log_tree', 'log_state']) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
};
