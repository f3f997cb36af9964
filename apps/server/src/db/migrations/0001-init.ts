import { MysqlAdapter, sql, type CreateTableBuilder, type Kysely, type Migration } from 'kysely';

const TIME = 'varchar(32)';
const ID = 'varchar(64)';
const HASH = 'char(64)';

/**
 * MySQL/MariaDB: InnoDB, utf8mb4 and a binary collation, so that identifiers, nonces and numbers compare exactly
 * (the server default collation is case-insensitive: 'abc' would collide with 'ABC').
 */
function tableOptions(db: Kysely<unknown>) {
  const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
  return <T extends string, C extends string>(b: CreateTableBuilder<T, C>): CreateTableBuilder<T, C> =>
    mysql ? b.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`) : b;
}

/** Projects, applications and their keys, used nonces, and the two hash-chained logs. */
export const init: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const opts = tableOptions(db);
    await db.schema
      .createTable('projects')
      .addColumn('id', ID, (c) => c.primaryKey())
      .addColumn('number', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('name', 'varchar(200)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', TIME, (c) => c.notNull())
      .addColumn('updated_at', TIME, (c) => c.notNull())
      .$call(opts)
      .execute();
    await db.schema
      .createTable('applications')
      .addColumn('id', ID, (c) => c.primaryKey())
      .addColumn('project_id', ID, (c) => c.notNull())
      .addColumn('name', 'varchar(200)', (c) => c.notNull())
      .addColumn('vendor', 'varchar(200)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('default_tags', 'text', (c) => c.notNull())
      .addColumn('retention_years', 'integer', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('key_version', 'integer', (c) => c.notNull())
      .addColumn('created_at', TIME, (c) => c.notNull())
      .addColumn('updated_at', TIME, (c) => c.notNull())
      .addForeignKeyConstraint('applications_project_fk', ['project_id'], 'projects', ['id'], (fk) =>
        fk.onDelete('cascade'),
      )
      .$call(opts)
      .execute();
    await db.schema.createIndex('applications_project_idx').on('applications').column('project_id').execute();
    await db.schema
      .createTable('application_keys')
      .addColumn('app_id', ID, (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('created_at', TIME, (c) => c.notNull())
      .addColumn('revoked_at', TIME)
      .addPrimaryKeyConstraint('application_keys_pk', ['app_id', 'version'])
      .addForeignKeyConstraint('application_keys_app_fk', ['app_id'], 'applications', ['id'], (fk) =>
        fk.onDelete('cascade'),
      )
      .$call(opts)
      .execute();
    await db.schema
      .createTable('used_nonces')
      .addColumn('app_id', ID, (c) => c.notNull())
      .addColumn('nonce', 'varchar(64)', (c) => c.notNull())
      .addColumn('expires_at', TIME, (c) => c.notNull())
      .addPrimaryKeyConstraint('used_nonces_pk', ['app_id', 'nonce'])
      .addForeignKeyConstraint('used_nonces_app_fk', ['app_id'], 'applications', ['id'], (fk) =>
        fk.onDelete('cascade'),
      )
      .$call(opts)
      .execute();
    await db.schema.createIndex('used_nonces_expiry_idx').on('used_nonces').column('expires_at').execute();
    await db.schema
      .createTable('api_logs')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('at', TIME, (c) => c.notNull())
      .addColumn('request_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('app_id', ID)
      .addColumn('project_id', ID)
      .addColumn('method', 'varchar(16)', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('headers', 'text', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('response', 'text', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('error_code', 'varchar(64)')
      .addColumn('prev_hash', HASH, (c) => c.notNull())
      .addColumn('hash', HASH, (c) => c.notNull())
      .$call(opts)
      .execute();
    await db.schema.createIndex('api_logs_app_at_idx').on('api_logs').columns(['app_id', 'at']).execute();
    await db.schema
      .createTable('operation_logs')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('at', TIME, (c) => c.notNull())
      .addColumn('actor', 'varchar(200)', (c) => c.notNull())
      .addColumn('action', 'varchar(100)', (c) => c.notNull())
      .addColumn('target_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('target_id', ID, (c) => c.notNull())
      .addColumn('project_id', ID)
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('prev_hash', HASH, (c) => c.notNull())
      .addColumn('hash', HASH, (c) => c.notNull())
      .$call(opts)
      .execute();
    await db.schema.createIndex('operation_logs_at_idx').on('operation_logs').column('at').execute();
    await db.schema
      .createTable('key_store')
      .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('wrapped', 'text', (c) => c.notNull())
      .addColumn('created_at', TIME, (c) => c.notNull())
      .$call(opts)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of [
      'key_store',
      'operation_logs',
      'api_logs',
      'used_nonces',
      'application_keys',
      'applications',
      'projects',
    ]) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
};
