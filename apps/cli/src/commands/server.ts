/**
 * `yizheng start` and `yizheng migrate`, and the plumbing the project/app commands share: configuration from
 * the environment (YIZHENG_HOST, YIZHENG_PORT, YIZHENG_DATA_DIR, DATABASE_URL, YIZHENG_KEK_FILE, …) with
 * command-line flags on top, a migrated database, and server errors turned into exit code 2 with their code.
 */
import type { Command } from 'commander';
import {
  attachColdDatabase,
  describeDatabase,
  isStartupError,
  isYzError,
  loadConfig,
  migrateToLatest,
  openDatabase,
  startServer,
  type ConfigOverrides,
  type Db,
  type ServerConfig,
  type ServiceContext,
} from '@yizheng/server';
import { UsageError, type Io } from '../cli-error.js';

/** The environment is read here, at the edge, and nowhere in the server. */
export function configFrom(overrides: ConfigOverrides): ServerConfig {
  return loadConfig({ env: process.env, overrides });
}

/** Server errors (startup refusals, catalogue codes) are input errors for the CLI: exit 2 with the code. */
export function asUsageError(e: unknown): unknown {
  if (isStartupError(e) || isYzError(e)) return new UsageError(`${e.code}: ${e.message}`);
  return e;
}

/**
 * Opens the configured database, runs pending migrations, runs `fn` with a service context, closes. With a cold
 * database configured (YIZHENG_COLD_DATABASE_URL) it is opened, migrated and attached behind the hot one, as the
 * server does, so the services read archived records through and a project deletion removes them too.
 */
export async function withServices<T>(
  options: { dataDir?: string | undefined },
  fn: (ctx: ServiceContext) => Promise<T>,
): Promise<T> {
  try {
    const config = configFrom({ dataDir: options.dataDir });
    const db = await openDatabase(config.database);
    let cold: Db | undefined;
    try {
      await migrateToLatest(db.kysely);
      if (config.coldDatabase !== undefined) {
        cold = await openDatabase(config.coldDatabase);
        await migrateToLatest(cold.kysely);
        attachColdDatabase(db.kysely, cold.kysely);
      }
      return await fn({ db: db.kysely, now: Date.now, actor: 'cli' });
    } finally {
      await cold?.close();
      await db.close();
    }
  } catch (e) {
    throw asUsageError(e);
  }
}

export const dataDirOption = [
  '--data-dir <dir>',
  'data directory (env YIZHENG_DATA_DIR, default ./data)',
] as const;

export function registerServer(program: Command, io: Io): void {
  program
    .command('start')
    .description(
      'start the Yizheng server (SQLite under ./data unless DATABASE_URL is set); migrations run first',
    )
    .option('--host <host>', 'listen address (env YIZHENG_HOST, default 127.0.0.1)')
    .option('--port <port>', 'listen port (env YIZHENG_PORT, default 8080)')
    .option(...dataDirOption)
    .action(async (o: { host?: string; port?: string; dataDir?: string }) => {
      try {
        const config = configFrom({ host: o.host, port: o.port, dataDir: o.dataDir });
        const app = await startServer(config);
        io.err(`Yizheng listening on ${app.listeningOrigin} (${describeDatabase(config.database)})\n`);
        io.err(`First time? In another terminal: yizheng demo --url ${app.listeningOrigin}\n`);
      } catch (e) {
        throw asUsageError(e);
      }
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .option(...dataDirOption)
    .action(async (o: { dataDir?: string }) => {
      try {
        const config = configFrom({ dataDir: o.dataDir });
        const db = await openDatabase(config.database);
        try {
          const applied = await migrateToLatest(db.kysely);
          io.out(
            applied.length === 0 ? 'database schema is up to date\n' : `applied: ${applied.join(', ')}\n`,
          );
        } finally {
          await db.close();
        }
      } catch (e) {
        throw asUsageError(e);
      }
    });
}
