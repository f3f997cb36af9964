import { MysqlAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * Statistics rollups (seed §2.4, issue 6 Speed): `stats_monthly` ('YYYY-MM') and `stats_yearly` ('YYYY') next to
 * `stats_daily`, same key (project, application, kind, period), kept in the daily upsert's transaction by
 * src/stats/repo.ts. The console's 12-month and 3-year series and the all-time and 3-month totals read them, so a
 * whole-scope view sums a few thousand rows instead of every day since the first record. Filled here from the
 * existing daily rows; `yizheng stats rebuild` recomputes all three.
 */
const TABLES = [
  { table: 'stats_monthly', column: 'month', width: 7 },
  { table: 'stats_yearly', column: 'year', width: 4 },
] as const;

export const statsRollup: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
    for (const { table, column, width } of TABLES) {
      let t = db.schema
        .createTable(table)
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('app_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn(column, `varchar(${width})`, (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${table}_pk`, ['project_id', 'app_id', 'kind', column]);
      if (mysql) t = t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
      await t.execute();
      await db.schema
        .createIndex(`${table}_by_project`)
        .on(table)
        .columns(['project_id', 'kind', column, 'count'])
        .execute();
      await sql`
        INSERT INTO ${sql.table(table)} (project_id, app_id, kind, ${sql.ref(column)}, ${sql.ref('count')})
        SELECT project_id, app_id, kind, substr(day, 1, ${sql.lit(width)}), sum(${sql.ref('count')})
        FROM stats_daily
        GROUP BY project_id, app_id, kind, substr(day, 1, ${sql.lit(width)})
      `.execute(db);
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const { table } of TABLES) await db.schema.dropTable(table).execute();
  },
};
