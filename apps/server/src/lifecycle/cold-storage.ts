/**
 * Cold storage for the app: opens the cold database named by `coldDatabase` (YIZHENG_COLD_DATABASE_URL — another
 * PostgreSQL or MySQL/MariaDB database, or a SQLite file), runs the migrations on it too, attaches it behind the
 * hot database for read-through (lifecycle/read-through.ts), and declares the hot → cold migration and
 * archive-cleanup jobs. Without a cold database the jobs are declared all the same and do nothing, and reads are
 * the hot ones. The connection URL is only ever logged with its password masked.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { describeDatabase, type ServerConfig } from '../config.js';
import { migrateToLatest, openDatabase, pendingMigrations, type Db } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { archiveCleanupJob } from '../jobs/archive-cleanup.js';
import { coldMigrationJob } from '../jobs/cold-migration.js';
import { isStartupError, StartupError } from '../startup-error.js';
import { attachColdDatabase } from './read-through.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The cold database of archived evidence, when configured. */
    coldDb: Kysely<Database> | undefined;
  }
}

export async function registerColdStorage(
  app: FastifyInstance,
  options: { config: ServerConfig; now(): number; open?: Db | undefined },
): Promise<void> {
  const { config } = options;
  const now = (): number => options.now();
  let cold: Db | undefined = options.open;
  if (cold === undefined && config.coldDatabase !== undefined) {
    try {
      cold = await openDatabase(config.coldDatabase, {
        onPoolError: (e) => {
          app.log.warn({ err: e }, 'cold database connection lost (the pool reconnects)');
        },
      });
    } catch (e) {
      // Say which database refused (the message names the dialect, never the URL's password).
      if (isStartupError(e)) throw new StartupError(e.code, `cold database: ${e.message}`, { cause: e });
      throw e;
    }
    const opened = cold;
    app.addHook('onClose', () => opened.close());
  }
  if (cold !== undefined) {
    for (const w of cold.warnings) app.log.warn({ dialect: cold.dialect, cold: true }, w);
    if (config.migrateOnStart) {
      const applied = await migrateToLatest(cold.kysely);
      if (applied.length > 0) app.log.info({ applied }, 'cold database migrations applied');
    } else {
      const pending = await pendingMigrations(cold.kysely);
      if (pending.length > 0)
        throw new StartupError(
          'DB_MIGRATION_PENDING',
          `cold database: pending migrations ${pending.join(', ')}: run \`yizheng migrate\``,
        );
    }
    const detach = attachColdDatabase(app.db, cold.kysely);
    // Registered after the close hook above, so it runs first (Fastify runs onClose hooks in reverse order).
    app.addHook('onClose', () => {
      detach();
      return Promise.resolve();
    });
    if (config.coldDatabase !== undefined)
      app.log.info({ cold: describeDatabase(config.coldDatabase) }, 'cold storage attached');
  }
  app.decorate('coldDb', cold?.kysely);
  const deps = { hot: app.db, cold: cold?.kysely, now };
  app.jobs.register(coldMigrationJob(deps));
  app.jobs.register(archiveCleanupJob(deps));
}
