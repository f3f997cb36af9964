/** History migration under the admin API (`/api/admin/v1/history`): `history:read` to look, `history:manage` to act. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { evidenceConfigOf } from '../../evidence/deps.js';
import { adminCtx } from '../../plugins/session.js';
import type { AdminRouteOptions } from '../admin/options.js';
import { Failure, SourceBody, SourceView, TaskBody, TaskView } from './schema.js';
import {
  createSource,
  createTask,
  getTask,
  listFailures,
  listSources,
  listTasks,
  setTaskPaused,
  testSource,
} from './service.js';

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z]+_[0-9a-f]+$' }) });

export const historyRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  const tags = ['console'];
  const read = { permission: 'history:read' } as const;
  const manage = { permission: 'history:manage' } as const;
  app.get(
    '/history/sources',
    { config: read, schema: { tags, response: { 200: Type.Object({ items: Type.Array(SourceView) }) } } },
    async () => ({
      items: await listSources({ db: app.db }),
    }),
  );
  app.post(
    '/history/sources',
    { config: manage, schema: { tags, body: SourceBody, response: { 201: SourceView } } },
    async (request, reply) =>
      reply.code(201).send(
        await createSource({
          ctx: adminCtx(app, request, opts.now),
          fieldCrypto: app.fieldCrypto,
          body: request.body,
        }),
      ),
  );
  app.post(
    '/history/sources/:id/test',
    {
      config: manage,
      schema: {
        tags,
        params: Id,
        response: { 200: Type.Object({ ok: Type.Boolean(), rows: Type.Integer() }) },
      },
    },
    (request) => testSource({ db: app.db, fieldCrypto: app.fieldCrypto, id: request.params.id }),
  );
  app.get(
    '/history/tasks',
    { config: read, schema: { tags, response: { 200: Type.Object({ items: Type.Array(TaskView) }) } } },
    async () => ({
      items: await listTasks({ db: app.db }),
    }),
  );
  app.post(
    '/history/tasks',
    { config: manage, schema: { tags, body: TaskBody, response: { 201: TaskView } } },
    async (request, reply) =>
      reply.code(201).send(
        await createTask({
          ctx: adminCtx(app, request, opts.now),
          body: request.body,
          trustStore: evidenceConfigOf(opts.config).trustStore !== undefined,
        }),
      ),
  );
  app.get(
    '/history/tasks/:id',
    { config: read, schema: { tags, params: Id, response: { 200: TaskView } } },
    (request) => getTask({ db: app.db, id: request.params.id }),
  );
  app.get(
    '/history/tasks/:id/failures',
    {
      config: read,
      schema: {
        tags,
        params: Id,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            after: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Failure) }) },
      },
    },
    async (request) => ({
      items: await listFailures({
        db: app.db,
        id: request.params.id,
        limit: request.query.limit ?? 100,
        ...(request.query.after !== undefined ? { after: request.query.after } : {}),
      }),
    }),
  );
  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const)
    app.post(
      `/history/tasks/:id/${action}`,
      { config: manage, schema: { tags, params: Id, response: { 200: TaskView } } },
      (request) => setTaskPaused({ ctx: adminCtx(app, request, opts.now), id: request.params.id, paused }),
    );
  return Promise.resolve();
};
