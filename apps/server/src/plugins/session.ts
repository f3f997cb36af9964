/**
 * Console authentication and permission enforcement for the `/api/admin/v1` scope.
 *
 * Every route of the scope declares, in its `config`, either `public: true` (login, challenge) or the
 * `permission` it needs; a route declaring neither makes the server refuse to start, so no admin route can be
 * left unguarded. On each request (preValidation, before the body is validated):
 *
 *  1. the session cookie resolves to a live session (ADMIN_SESSION_REQUIRED / ADMIN_SESSION_EXPIRED: idle
 *     timeout from the system configuration, absolute 12 h);
 *  2. state-changing methods carry the session's CSRF token in `X-CSRF-Token` (ADMIN_CSRF_INVALID), compared
 *     in constant time through hashes;
 *  3. a user holding a one-time password may only change it (ADMIN_PASSWORD_CHANGE_REQUIRED);
 *  4. the user's effective permissions include the route's (ADMIN_PERMISSION_DENIED).
 *
 * Failed state-changing requests are written to the operation log (who, from where, which route, the code);
 * successful changes are logged by the services in the transaction of the change.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appendToChain } from '../audit/hash-chain.js';
import { isoTime, type ServiceContext } from '../context.js';
import { YzError } from '../errors.js';
import { resolveSession, secretMatches, type ActiveSession } from '../modules/admin/auth/service.js';
import type { Permission } from '../modules/admin/permissions.js';
import type { Settings } from '../modules/admin/settings/service.js';
import { effectivePermissions } from '../modules/admin/users/service.js';
import { projectsOfUser } from '../modules/admin/users/repo.js';

export const SESSION_COOKIE = 'yz_console';
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Admin routes: the permission required. */
    permission?: Permission;
    /** Admin routes: reachable without a session (login). */
    public?: boolean;
    /** Admin routes: any logged-in user (their own session, password, logout). */
    session?: boolean;
    /** Admin routes: reachable while a one-time password must be changed. */
    passwordChange?: boolean;
  }
  interface FastifyInstance {
    /** Every admin route and what it requires (for the route × role test and the docs). */
    adminRoutes: AdminRouteInfo[];
  }
  interface FastifyRequest {
    adminSession: AdminSession | undefined;
    adminErrorCode: string | undefined;
  }
}

export interface AdminRouteInfo {
  method: string;
  url: string;
  permission: Permission | undefined;
  public: boolean;
  session: boolean;
}

export interface AdminSession extends ActiveSession {
  permissions: ReadonlySet<Permission>;
  /** Projects assigned to the user (operators). */
  projects: readonly string[];
  ip: string;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function sessionCookie(token: string, secure: boolean, prefix: string): string {
  return `${SESSION_COOKIE}=${token}; Path=${prefix}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean, prefix: string): string {
  return `${SESSION_COOKIE}=; Path=${prefix}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

export function sessionOf(request: FastifyRequest): AdminSession {
  if (request.adminSession === undefined) throw new YzError('ADMIN_SESSION_REQUIRED');
  return request.adminSession;
}

/** The service context of an admin request: the actor is `console:<username>@<client address>`. */
export function adminCtx(app: FastifyInstance, request: FastifyRequest, now: () => number): ServiceContext {
  const s = request.adminSession;
  const who = s === undefined ? 'anonymous' : s.user.username;
  return { db: app.db, now, actor: `console:${who}@${request.ip}` };
}

export function hasPermission(request: FastifyRequest, p: Permission): boolean {
  return request.adminSession?.permissions.has(p) ?? false;
}

/**
 * Project scope (operators): users without `scope:all-projects` act only in their assigned projects.
 * Returns undefined when unrestricted, else the allowed project ids.
 */
export function projectScope(request: FastifyRequest): readonly string[] | undefined {
  const s = sessionOf(request);
  return s.permissions.has('scope:all-projects') ? undefined : s.projects;
}

export function assertProjectInScope(request: FastifyRequest, projectId: string): void {
  const scope = projectScope(request);
  if (scope !== undefined && !scope.includes(projectId)) throw new YzError('ADMIN_PROJECT_SCOPE', projectId);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerAdminSession(
  scope: FastifyInstance,
  options: { now: () => number; settings: () => Promise<Settings>; routes: AdminRouteInfo[] },
): void {
  scope.decorateRequest('adminSession', undefined);
  scope.decorateRequest('adminErrorCode', undefined);
  const routes = options.routes;
  scope.addHook('onRoute', (route) => {
    const c = route.config;
    if (c?.public !== true && c?.session !== true && c?.permission === undefined)
      throw new Error(`admin route ${route.method.toString()} ${route.url} declares no permission`);
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({
        method,
        url: route.url,
        permission: c?.permission,
        public: c?.public === true,
        session: c?.session === true,
      });
    }
  });
  scope.addHook('preValidation', async (request: FastifyRequest) => {
    const config = request.routeOptions.config;
    if (config.public === true) return;
    const settings = await options.settings();
    const session = await resolveSession({
      db: scope.db,
      now: options.now(),
      token: readCookie(request.headers.cookie, SESSION_COOKIE),
      idleTimeoutMs: settings.idleTimeoutMinutes * 60_000,
    });
    if (!SAFE_METHODS.has(request.method)) {
      const csrf = request.headers[CSRF_HEADER];
      if (typeof csrf !== 'string' || csrf.length > 128 || !secretMatches(csrf, session.csrfHash))
        throw new YzError('ADMIN_CSRF_INVALID');
    }
    const permissions = new Set(await effectivePermissions(scope.db, session.user.id));
    request.adminSession = {
      ...session,
      permissions,
      projects: await projectsOfUser(scope.db, session.user.id),
      ip: request.ip,
    };
    if (
      session.method === 'password' &&
      session.user.password_must_change === 1 &&
      config.passwordChange !== true
    )
      throw new YzError('ADMIN_PASSWORD_CHANGE_REQUIRED');
    if (config.permission !== undefined && !permissions.has(config.permission))
      throw new YzError('ADMIN_PERMISSION_DENIED', config.permission);
  });
  scope.addHook('onSend', (request, reply, payload) => {
    if (reply.statusCode >= 400 && typeof payload === 'string')
      request.adminErrorCode = /"code":"([A-Z0-9_]+)"/.exec(payload)?.[1];
    return Promise.resolve(payload);
  });
  scope.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    if (SAFE_METHODS.has(request.method) || reply.statusCode < 400) return;
    if (request.routeOptions.config.public === true) return; // login attempts are logged by the login service
    try {
      const who = request.adminSession?.user.username ?? 'anonymous';
      await appendToChain({
        db: scope.db,
        table: 'operation_logs',
        entry: {
          at: isoTime(options.now()),
          actor: `console:${who}@${request.ip}`,
          action: 'admin.request',
          target_type: 'route',
          target_id: `${request.method} ${request.routeOptions.url ?? request.url}`.slice(0, 64),
          project_id: null,
          detail: JSON.stringify({
            ip: request.ip,
            result: 'failure',
            status: reply.statusCode,
            code: request.adminErrorCode ?? null,
            url: request.url.slice(0, 500),
          }),
        },
      });
    } catch (e) {
      request.log.error({ err: e }, 'operation log write failed');
    }
  });
}
