/** Signed-API routes about the calling application's project. (Administration comes with the console.) */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { appAuthOf } from '../../plugins/auth.js';
import { signedApiErrors, signedApiSecurity } from '../shared-schema.js';
import { ProjectSchema } from './schema.js';
import { getProject } from './service.js';

export const projectRoutes: FastifyPluginAsyncTypebox<{ now(): number }> = (app, opts) => {
  app.get(
    '/project',
    {
      schema: {
        tags: ['signed API'],
        summary: 'The project of the calling application (项目信息详情)',
        security: signedApiSecurity,
        response: { 200: ProjectSchema, ...signedApiErrors },
      },
    },
    (request) => {
      const a = appAuthOf(request);
      return getProject({
        ctx: { db: app.db, now: () => opts.now(), actor: `app:${a.appId}` },
        ref: a.projectId,
      });
    },
  );
  return Promise.resolve();
};
