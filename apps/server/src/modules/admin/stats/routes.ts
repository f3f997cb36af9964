/**
 * Statistics in the console (seed §2.4): `GET /stats?project=&app=&kind=` — totals and the 30-day, 12-month and
 * 3-year series of signature data, digests, files and API calls, from the `stats_daily` aggregates (src/stats).
 * Operators see their assigned projects only: no project means the sum over the caller's scope.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { YzError } from '../../../errors.js';
import { adminCtx, assertProjectInScope, projectScope } from '../../../plugins/session.js';
import { statsView } from '../../../stats/query.js';
import { getApplication } from '../../applications/service.js';
import { getProject } from '../../projects/service.js';
import type { AdminRouteOptions } from '../options.js';

const Kind = Type.Union([
  Type.Literal('signature'),
  Type.Literal('digest'),
  Type.Literal('file'),
  Type.Literal('api_call'),
]);

export const statsRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  app.get(
    '/stats',
    {
      config: { permission: 'stats:read' },
      schema: {
        tags: ['console'],
        summary: 'Statistics by project and application: totals and the 30-day, 12-month and 3-year series',
        querystring: Type.Object(
          {
            project: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            app: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            kind: Type.Optional(Kind),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const ctx = adminCtx(app, request, opts.now);
      const { project, app: appId, kind } = request.query;
      let projects = projectScope(request);
      if (project !== undefined) {
        const p = await getProject({ ctx, ref: project });
        assertProjectInScope(request, p.id);
        projects = [p.id];
      }
      if (appId !== undefined) {
        const a = await getApplication({ ctx, id: appId });
        assertProjectInScope(request, a.projectId);
        // An application of another project than the one asked for: not found there.
        if (project !== undefined && projects?.[0] !== a.projectId) throw new YzError('APP_NOT_FOUND', appId);
      }
      return statsView({
        db: app.db,
        now: opts.now(),
        ...(projects !== undefined ? { projects } : {}),
        ...(appId !== undefined ? { app: appId } : {}),
        ...(kind !== undefined ? { kind } : {}),
      });
    },
  );
  return Promise.resolve();
};
