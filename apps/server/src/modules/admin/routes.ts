/**
 * The console's admin API, `/api/admin/v1` (NOT under the signed `/api/v1` scope): session authentication and
 * permission enforcement for every route (`plugins/session.ts`), then login, users, roles, projects and
 * applications, system configuration and audit.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../../config.js';
import { registerAdminSession, type AdminRouteInfo } from '../../plugins/session.js';
import { auditRoutes } from './audit/routes.js';
import { authRoutes } from './auth/routes.js';
import { catalogRoutes } from './catalog/routes.js';
import { evidenceAdminRoutes } from './evidence/routes.js';
import type { AdminRouteOptions } from './options.js';
import { ensureBuiltinRoles } from './roles/service.js';
import { roleRoutes } from './roles/routes.js';
import { createSettingsReader, defaultSettings, type SettingsReader } from './settings/service.js';
import { settingsRoutes } from './settings/routes.js';
import { userRoutes } from './users/routes.js';
import { jobRoutes } from '../jobs/routes.js';
import { historyRoutes } from '../history/routes.js';
import { strategyRoutes } from '../strategies/routes.js';
import { statsRoutes } from './stats/routes.js';

export const ADMIN_PREFIX = '/api/admin/v1';

declare module 'fastify' {
  interface FastifyInstance {
    /** The effective system configuration (系统配置), cached briefly; the console invalidates it on change. */
    systemSettings: SettingsReader;
  }
}

export function adminDefaults(config: ServerConfig) {
  return defaultSettings({
    serviceAddress: `http://${config.host}:${config.port}`,
    storagePath: config.dataDir,
    apiLog: config.apiLog,
  });
}

/** Registers the admin API under {@link ADMIN_PREFIX}; `app.adminRoutes` lists its routes and their permissions. */
export async function registerAdminApi(
  app: FastifyInstance,
  options: { now: () => number; config: ServerConfig },
): Promise<void> {
  const routes: AdminRouteInfo[] = [];
  app.decorate('adminRoutes', routes);
  const settings = createSettingsReader({
    db: app.db,
    defaults: adminDefaults(options.config),
    now: options.now,
  });
  app.decorate('systemSettings', settings);
  await app.register(async (scope) => adminApi(scope, { ...options, routes, settings }), {
    prefix: ADMIN_PREFIX,
  });
}

async function adminApi(
  scope: FastifyInstance,
  options: { now: () => number; config: ServerConfig; routes: AdminRouteInfo[]; settings: SettingsReader },
): Promise<void> {
  await ensureBuiltinRoles({ db: scope.db, now: options.now() });
  const defaults = adminDefaults(options.config);
  const opts: AdminRouteOptions = {
    now: options.now,
    config: options.config,
    defaults,
    settings: options.settings,
    cookiePath: ADMIN_PREFIX,
  };
  registerAdminSession(scope, { ...opts, routes: options.routes });
  await scope.register(authRoutes, opts);
  await scope.register(userRoutes, opts);
  await scope.register(roleRoutes, opts);
  await scope.register(catalogRoutes, opts);
  await scope.register(settingsRoutes, opts);
  await scope.register(auditRoutes, opts);
  await scope.register(jobRoutes, opts);
  await scope.register(historyRoutes, opts);
  await scope.register(strategyRoutes, opts);
  await scope.register(evidenceAdminRoutes, opts);
  await scope.register(statsRoutes, opts);
}
