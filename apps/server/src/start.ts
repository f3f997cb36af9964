/** Builds the app, listens, and closes gracefully on SIGINT/SIGTERM. Shared by main.ts and `yizheng start`. */
import type { FastifyInstance } from 'fastify';
import { build, type BuildOptions } from './app.js';
import { describeDatabase, type ServerConfig } from './config.js';

export async function startServer(
  config: ServerConfig,
  options: BuildOptions & { signals?: boolean } = {},
): Promise<FastifyInstance> {
  const app = await build(config, options);
  const address = await app.listen({ host: config.host, port: config.port });
  app.log.info(
    { address, database: describeDatabase(config.database), dataDir: config.dataDir },
    'Yizheng listening',
  );
  if (options.signals !== false) {
    const close = (signal: string): void => {
      app.log.info({ signal }, 'shutting down');
      app.close().then(
        () => process.exit(0),
        (e: unknown) => {
          app.log.error({ err: e }, 'error while closing');
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', close);
    process.once('SIGTERM', close);
  }
  return app;
}
