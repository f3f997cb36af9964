/** `/healthz`: the process is up. `/readyz`: the database answers and every migration is applied. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { pendingMigrations } from '../../db/connect.js';
import { YzError } from '../../errors.js';

const Health = Type.Object({ status: Type.Literal('ok') });
const Ready = Type.Object({ status: Type.Literal('ready'), database: Type.String() });

export const healthRoutes: FastifyPluginAsyncTypebox = (app) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'Process is up', response: { 200: Health } } },
    () => ({
      status: 'ok' as const,
    }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Database reachable and migrations applied',
        response: { 200: Ready, 503: Type.Ref('Problem') },
      },
    },
    async () => {
      try {
        await sql`SELECT 1`.execute(app.db);
      } catch (e) {
        throw new YzError('NOT_READY', 'database unreachable', { cause: e });
      }
      const pending = await pendingMigrations(app.db);
      if (pending.length > 0) throw new YzError('NOT_READY', `pending migrations: ${pending.join(', ')}`);
      return { status: 'ready' as const, database: app.dbDialect };
    },
  );
  return Promise.resolve();
};
