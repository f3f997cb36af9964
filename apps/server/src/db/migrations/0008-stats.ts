import { MysqlAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * Statistics (统计, seed §2.4): `stats_daily` holds one count per (project, application, kind, day), the day in
 * Asia/Shanghai as 'YYYY-MM-DD'; kind is signature | digest | file | api_call. Incremented in the evidence write
 * transaction and by the API-log writer (src/stats), so the console's totals and charts are range sums over at
 * most ~1,100 days per series, never a scan of the evidence table. `yizheng stats rebuild` recomputes it.
 */
export const stats: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
    let t = db.schema
      .createTable('stats_daily')
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('app_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('day', 'varchar(10)', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('stats_daily_pk', ['project_id', 'app_id', 'kind', 'day']);
    if (mysql) t = t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    await t.execute();
    // Series over all applications of a project read (project, kind, day) ranges.
    await db.schema
      .createIndex('stats_daily_by_project_day')
      .on('stats_daily')
      .columns(['project_id', 'kind', 'day', 'count'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('stats_daily').execute();
  },
};
