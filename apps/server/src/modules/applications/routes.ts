/** Signed-API routes about the calling application itself. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { appAuthOf } from '../../plugins/auth.js';
import { signedApiErrors, signedApiSecurity } from '../shared-schema.js';
import { ApplicationSelf, Ping } from './schema.js';
import { getApplication } from './service.js';

export const applicationRoutes: FastifyPluginAsyncTypebox<{ now(): number }> = (app, opts) => {
  app.get(
    '/ping',
    {
      schema: {
        tags: ['signed API'],
        summary: 'Checks the request signature; returns the calling application and its project',
        security: signedApiSecurity,
        response: { 200: Ping, ...signedApiErrors },
      },
    },
    (request) => {
      const a = appAuthOf(request);
      return {
        pong: true as const,
        appId: a.appId,
        appName: a.appName,
        keyVersion: a.keyVersion,
        project: { id: a.projectId, number: a.projectNumber, status: a.projectStatus },
        serverTime: opts.now(),
      };
    },
  );
  app.get(
    '/application',
    {
      schema: {
        tags: ['signed API'],
        summary: 'The calling application (第三方应用详情)',
        security: signedApiSecurity,
        response: { 200: ApplicationSelf, ...signedApiErrors },
      },
    },
    async (request) => {
      const a = appAuthOf(request);
      // The response schema leaves out the public key.
      return getApplication({
        ctx: { db: app.db, now: () => opts.now(), actor: `app:${a.appId}` },
        id: a.appId,
      });
    },
  );
  return Promise.resolve();
};
