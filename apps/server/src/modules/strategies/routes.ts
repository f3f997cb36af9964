/** Migration strategies under the admin API (`/api/admin/v1/strategies`): `strategy:read`, `strategy:manage`. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminCtx } from '../../plugins/session.js';
import type { AdminRouteOptions } from '../admin/options.js';
import { StrategyBody, StrategyId, StrategyPatch, StrategyView } from './schema.js';
import { createStrategy, deleteStrategy, getStrategy, listStrategies, updateStrategy } from './service.js';

export const strategyRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  const tags = ['console'];
  const read = { permission: 'strategy:read' } as const;
  const manage = { permission: 'strategy:manage' } as const;
  app.get(
    '/strategies',
    { config: read, schema: { tags, response: { 200: Type.Object({ items: Type.Array(StrategyView) }) } } },
    async () => ({ items: await listStrategies({ db: app.db }) }),
  );
  app.post(
    '/strategies',
    { config: manage, schema: { tags, body: StrategyBody, response: { 201: StrategyView } } },
    async (request, reply) =>
      reply
        .code(201)
        .send(await createStrategy({ ctx: adminCtx(app, request, opts.now), body: request.body })),
  );
  app.get(
    '/strategies/:id',
    { config: read, schema: { tags, params: StrategyId, response: { 200: StrategyView } } },
    (request) => getStrategy({ db: app.db, ref: request.params.id }),
  );
  app.patch(
    '/strategies/:id',
    {
      config: manage,
      schema: { tags, params: StrategyId, body: StrategyPatch, response: { 200: StrategyView } },
    },
    (request) =>
      updateStrategy({ ctx: adminCtx(app, request, opts.now), id: request.params.id, patch: request.body }),
  );
  app.delete(
    '/strategies/:id',
    { config: manage, schema: { tags, params: StrategyId, response: { 200: StrategyView } } },
    (request) => deleteStrategy({ ctx: adminCtx(app, request, opts.now), id: request.params.id }),
  );
  return Promise.resolve();
};
