/**
 * The database plugin: opens the configured database (durability checked), runs pending migrations when the
 * configuration says so, decorates `app.db`, and closes the pool with the app.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { DatabaseConfig } from '../config.js';
import { migrateToLatest, openDatabase, pendingMigrations, type Db, type Dialect } from '../db/connect.js';
import { StartupError } from '../startup-error.js';
import type { Database } from '../db/schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    dbDialect: Dialect;
  }
}

export interface DbPluginOptions {
  database: DatabaseConfig;
  migrateOnStart: boolean;
  /** An already open database (tests, the CLI); the plugin then does not close it. */
  open?: Db;
}

async function dbPlugin(app: FastifyInstance, options: DbPluginOptions): Promise<void> {
  const db =
    options.open ??
    (await openDatabase(options.database, {
      onPoolError: (e) => {
        app.log.warn({ err: e }, 'database connection lost (the pool reconnects)');
      },
    }));
  for (const w of db.warnings) app.log.warn({ dialect: db.dialect }, w);
  if (options.open === undefined) app.addHook('onClose', () => db.close());
  if (options.migrateOnStart) {
    const applied = await migrateToLatest(db.kysely);
    if (applied.length > 0) app.log.info({ applied }, 'migrations applied');
  } else {
    const pending = await pendingMigrations(db.kysely);
    if (pending.length > 0) {
      throw new StartupError(
        'DB_MIGRATION_PENDING',
        `pending migrations ${pending.join(', ')}: run \`yizheng migrate\``,
      );
    }
  }
  app.decorate('db', db.kysely);
  app.decorate('dbDialect', db.dialect);
}

export default fp(dbPlugin, { name: 'yizheng-db', fastify: '5.x' });
