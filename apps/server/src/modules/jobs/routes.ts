/** Job management under the admin API (`/api/admin/v1/jobs`): `job:read` to look, `job:manage` to act. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminCtx } from '../../plugins/session.js';
import type { AdminRouteOptions } from '../admin/options.js';
import { JobId, JobRun, JobView, RunQuery, RunStarted, RunsQuery, ScheduleBody } from './schema.js';
import { getJob, listJobs, listRuns, runJob, setJobEnabled, setJobSchedule } from './service.js';

export const jobRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  const tags = ['console'];
  app.get(
    '/jobs',
    {
      config: { permission: 'job:read' },
      schema: { tags, response: { 200: Type.Object({ items: Type.Array(JobView) }) } },
    },
    async () => ({ items: await listJobs({ manager: app.jobs }) }),
  );
  app.get(
    '/jobs/:id',
    { config: { permission: 'job:read' }, schema: { tags, params: JobId, response: { 200: JobView } } },
    (request) => getJob({ manager: app.jobs, id: request.params.id }),
  );
  app.get(
    '/jobs/:id/runs',
    {
      config: { permission: 'job:read' },
      schema: {
        tags,
        params: JobId,
        querystring: RunsQuery,
        response: { 200: Type.Object({ items: Type.Array(JobRun) }) },
      },
    },
    async (request) => ({
      items: await listRuns({
        manager: app.jobs,
        id: request.params.id,
        limit: request.query.limit ?? 20,
        ...(request.query.before !== undefined ? { before: request.query.before } : {}),
      }),
    }),
  );
  for (const [action, enabled] of [
    ['start', true],
    ['stop', false],
  ] as const)
    app.post(
      `/jobs/:id/${action}`,
      { config: { permission: 'job:manage' }, schema: { tags, params: JobId, response: { 200: JobView } } },
      (request) =>
        setJobEnabled({
          ctx: adminCtx(app, request, opts.now),
          manager: app.jobs,
          id: request.params.id,
          enabled,
        }),
    );
  app.put(
    '/jobs/:id/schedule',
    {
      config: { permission: 'job:manage' },
      schema: { tags, params: JobId, body: ScheduleBody, response: { 200: JobView } },
    },
    (request) =>
      setJobSchedule({
        ctx: adminCtx(app, request, opts.now),
        manager: app.jobs,
        id: request.params.id,
        schedule: request.body.schedule,
      }),
  );
  app.post(
    '/jobs/:id/run',
    {
      config: { permission: 'job:manage' },
      schema: { tags, params: JobId, querystring: RunQuery, response: { 200: RunStarted, 202: RunStarted } },
    },
    async (request, reply) => {
      const wait = request.query.wait ?? false;
      const r = await runJob({
        ctx: adminCtx(app, request, opts.now),
        manager: app.jobs,
        id: request.params.id,
        wait,
      });
      return reply.code(wait ? 200 : 202).send(r);
    },
  );
  return Promise.resolve();
};
