import { MysqlAdapter, sql, type CreateTableBuilder, type Kysely, type Migration } from 'kysely';

const TIME = 'varchar(32)';
const ID = 'varchar(64)';

function tableOptions(db: Kysely<unknown>) {
  const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
  return <T extends string, C extends string>(b: CreateTableBuilder<T, C>): CreateTableBuilder<T, C> =>
    mysql ? b.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`) : b;
}

/**
 * The console: administrators, operators and auditors (`admin_users`), roles as permission sets, role and
 * project assignments, sessions (hashed secrets), one-time login challenges, and the system configuration.
 */
export const consoleTables: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const opts = tableOptions(db);
    await db.schema
      .createTable('admin_users')
      .addColumn('id', ID, (c) => c.primaryKey())
      .addColumn('username', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('display_name', 'varchar(200)', (c) => c.notNull())
      .addColumn('phone', 'varchar(64)', (c) => c.notNull())
      .addColumn('email', 'varchar(200)', (c) => c.notNull())
      .addColumn('department', 'varchar(200)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('password_must_change', 'integer', (c) => c.notNull())
      .addColumn('cert_der', 'text')
      .addColumn('cert_fingerprint', 'char(64)')
      .addColumn('cert_subject', 'text')
      .addColumn('cert_serial', 'varchar(128)')
      .addColumn('cert_not_after', TIME)
      .addColumn('failed_logins', 'integer', (c) => c.notNull())
      .addColumn('locked_until', TIME)
      .addColumn('last_login_at', TIME)
      .addColumn('created_at', TIME, (c) => c.notNull())
      .addColumn('updated_at', TIME, (c) => c.notNull())
      .$call(opts)
      .execute();
    await db.schema
      .createTable('admin_roles')
      .addColumn('id', ID, (c) => c.primaryKey())
      .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('description', 'varchar(500)', (c) => c.notNull())
      .addColumn('builtin', 'integer', (c) => c.notNull())
      .addColumn('permissions', 'text', (c) => c.notNull())
      .addColumn('created_at', TIME, (c) => c.notNull())
      .addColumn('updated_at', TIME, (c) => c.notNull())
      .$call(opts)
      .execute();
    await db.schema
      .createTable('admin_user_roles')
      .addColumn('user_id', ID, (c) => c.notNull())
      .addColumn('role_id', ID, (c) => c.notNull())
      .addPrimaryKeyConstraint('admin_user_roles_pk', ['user_id', 'role_id'])
      .addForeignKeyConstraint('admin_user_roles_user_fk', ['user_id'], 'admin_users', ['id'], (fk) =>
        fk.onDelete('cascade'),
      )
      .addForeignKeyConstraint('admin_user_roles_role_fk', ['role_id'], 'admin_roles', ['id'], (fk) =>
        fk.onDelete('cascade'),
      )
      .$call(opts)
      .execute();
    await db.schema
      .createTable('admin_user_projects')
      .addColumn('user_id', ID, (c) => c.notNull())
      .addColumn('project_id', ID, (c) => c.notNull())
      .addPrimaryKeyConstraint('admin_user_projects_pk', ['user_id', 'project_id'])
      .addForeignKeyConstraint('admin_user_projects_user_fk', ['user_id'], 'admin_users', ['id'], (fk) =>
        fk.onDelete('cascade'),
      )
      .addForeignKeyConstraint('admin_user_projects_project_fk', ['project_id'], 'projects', ['id'], (fk) =>
        fk.onDelete('cascade'),
      )
      .$call(opts)
      .execute();
    await db.schema
      .createIndex('admin_user_projects_project_idx')
      .on('admin_user_projects')
      .column('project_id')
      .execute();
    await db.schema
      .createTable('admin_sessions')
      .addColumn('token_hash', 'char(64)', (c) => c.primaryKey())
      .addColumn('csrf_hash', 'char(64)', (c) => c.notNull())
      .addColumn('user_id', ID, (c) => c.notNull())
      .addColumn('method', 'varchar(16)', (c) => c.notNull())
      .addColumn('ip', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', TIME, (c) => c.notNull())
      .addColumn('last_seen_at', TIME, (c) => c.notNull())
      .addColumn('expires_at', TIME, (c) => c.notNull())
      .addForeignKeyConstraint('admin_sessions_user_fk', ['user_id'], 'admin_users', ['id'], (fk) =>
        fk.onDelete('cascade'),
      )
      .$call(opts)
      .execute();
    await db.schema.createIndex('admin_sessions_user_idx').on('admin_sessions').column('user_id').execute();
    await db.schema
      .createTable('admin_login_challenges')
      .addColumn('id', ID, (c) => c.primaryKey())
      .addColumn('challenge', 'varchar(128)', (c) => c.notNull())
      .addColumn('created_at', TIME, (c) => c.notNull())
      .addColumn('expires_at', TIME, (c) => c.notNull())
      .addColumn('used_at', TIME)
      .$call(opts)
      .execute();
    await db.schema
      .createIndex('admin_login_challenges_expiry_idx')
      .on('admin_login_challenges')
      .column('expires_at')
      .execute();
    await db.schema
      .createTable('system_settings')
      .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('updated_at', TIME, (c) => c.notNull())
      .$call(opts)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of [
      'system_settings',
      'admin_login_challenges',
      'admin_sessions',
      'admin_user_projects',
      'admin_user_roles',
      'admin_roles',
      'admin_users',
    ]) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
};
