/** System configuration (系统配置): query, modify, reset to defaults. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminCtx } from '../../../plugins/session.js';
import type { AdminRouteOptions } from '../options.js';
import { getSettings, resetSettings, updateSettings } from './service.js';

export const settingsRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  app.get('/settings', { config: { permission: 'config:read' }, schema: { tags: ['console'] } }, () =>
    getSettings({ db: app.db, defaults: opts.defaults }),
  );
  app.patch(
    '/settings',
    {
      config: { permission: 'config:update' },
      schema: {
        tags: ['console'],
        summary: 'Modifies settings (all given keys are validated first; all or nothing)',
        // Values are checked per key by the service (no coercion here: `false` must stay a boolean).
        body: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50 }),
      },
    },
    async (request) => {
      try {
        return await updateSettings({
          ctx: adminCtx(app, request, opts.now),
          defaults: opts.defaults,
          changes: request.body,
        });
      } finally {
        opts.settings.invalidate();
      }
    },
  );
  app.post(
    '/settings/reset',
    {
      config: { permission: 'config:update' },
      schema: {
        tags: ['console'],
        summary: 'Resets the given keys (or all) to their defaults',
        body: Type.Optional(
          Type.Object(
            { keys: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 })) },
            { additionalProperties: false },
          ),
        ),
      },
    },
    async (request) => {
      try {
        return await resetSettings({
          ctx: adminCtx(app, request, opts.now),
          defaults: opts.defaults,
          keys: request.body?.keys,
        });
      } finally {
        opts.settings.invalidate();
      }
    },
  );
  return Promise.resolve();
};
