/**
 * Test helper: a fresh database per test file on every available dialect — SQLite always (a temporary file),
 * PostgreSQL when YIZHENG_TEST_PG_URL is set, MySQL/MariaDB when YIZHENG_TEST_MYSQL_URL is set. Each call
 * creates a new database with a random name and `drop()` removes it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';

export type TestDialect = DatabaseConfig['dialect'];

export interface TestDatabase {
  dialect: TestDialect;
  config: DatabaseConfig;
  /** For PostgreSQL/MySQL: the admin URL and the new database's name (tests may alter its settings). */
  adminUrl?: string;
  name?: string;
  drop(): Promise<void>;
}

/** The dialects this run can test: always sqlite, plus those whose URL is set. */
export function testDialects(env: Readonly<Record<string, string | undefined>> = process.env): TestDialect[] {
  const out: TestDialect[] = ['sqlite'];
  if (env.YIZHENG_TEST_PG_URL) out.push('postgres');
  if (env.YIZHENG_TEST_MYSQL_URL) out.push('mysql');
  return out;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export interface TestDatabaseOptions {
  /**
   * PostgreSQL only: what follows `CREATE DATABASE "name"` — a locale, say
   * (`TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'zh-Hans-CN'`, as a hospital's cluster may have).
   */
  readonly postgresCreate?: string;
}

export async function createTestDatabase(
  dialect: TestDialect,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const name = `yz_t_${randomBytes(6).toString('hex')}`;
  switch (dialect) {
    case 'sqlite': {
      const dir = mkdtempSync(join(tmpdir(), 'yz-db-'));
      return {
        dialect,
        config: { dialect: 'sqlite', file: join(dir, 'yizheng.db') },
        drop: () => {
          rmSync(dir, { recursive: true, force: true });
          return Promise.resolve();
        },
      };
    }
    case 'postgres': {
      const adminUrl = process.env.YIZHENG_TEST_PG_URL!;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name}" ${options.postgresCreate ?? ''}`);
      } finally {
        await admin.end();
      }
      return {
        dialect,
        adminUrl,
        name,
        config: { dialect: 'postgres', url: withDatabase(adminUrl, name), poolSize: 4 },
        drop: async () => {
          const c = new pg.Client({ connectionString: adminUrl });
          await c.connect();
          await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          await c.end();
        },
      };
    }
    case 'mysql': {
      const adminUrl = process.env.YIZHENG_TEST_MYSQL_URL!;
      const admin = await mysql.createConnection({ uri: adminUrl });
      await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      await admin.end();
      return {
        dialect,
        adminUrl,
        name,
        config: { dialect: 'mysql', url: withDatabase(adminUrl, name), poolSize: 4 },
        drop: async () => {
          const c = await mysql.createConnection({ uri: adminUrl });
          await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
          await c.end();
        },
      };
    }
  }
}
