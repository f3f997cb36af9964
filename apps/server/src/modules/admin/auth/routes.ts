/** Login, logout, the current session and one's own password. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { YzError } from '../../../errors.js';
import { adminCtx, clearedSessionCookie, sessionCookie, sessionOf } from '../../../plugins/session.js';
import type { AdminRouteOptions } from '../options.js';
import { PERMISSIONS } from '../permissions.js';
import { changeOwnPassword, getUser } from '../users/service.js';
import { MAX_PASSWORD_LENGTH } from './password.js';
import {
  createChallenge,
  endSession,
  loginWithCertificate,
  loginWithPassword,
  type LoginResult,
} from './service.js';
import { loadTrustStore } from './trust.js';

const Username = Type.String({ minLength: 1, maxLength: 64 });

export const authRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  const secure = (protocol: string): boolean => protocol === 'https';
  const loggedIn = (login: LoginResult) => ({
    userId: login.userId,
    username: login.username,
    csrfToken: login.csrfToken,
    passwordMustChange: login.passwordMustChange,
  });

  app.post(
    '/auth/challenge',
    { config: { public: true }, schema: { tags: ['console'], summary: 'A one-time login challenge' } },
    async () => {
      const settings = await opts.settings();
      return createChallenge({ db: app.db, now: opts.now(), ttlSeconds: settings.challengeTtlSeconds });
    },
  );

  app.post(
    '/auth/login/certificate',
    {
      config: { public: true },
      schema: {
        tags: ['console'],
        summary: 'Certificate login: the challenge signed with the user key',
        body: Type.Object(
          {
            username: Username,
            challengeId: Type.String({ minLength: 1, maxLength: 64 }),
            signature: Type.String({ minLength: 1, maxLength: 2048 }),
            certificate: Type.Optional(Type.String({ maxLength: 65536 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const settings = await opts.settings();
      const login = await loginWithCertificate({
        db: app.db,
        now: opts.now(),
        ip: request.ip,
        settings,
        ...request.body,
        trust: loadTrustStore({
          trustFile: opts.config.consoleTrustFile,
          crlFile: opts.config.consoleCrlFile,
        }),
      });
      void reply.header('set-cookie', sessionCookie(login.token, secure(request.protocol), opts.cookiePath));
      return loggedIn(login);
    },
  );

  app.post(
    '/auth/login/password',
    {
      config: { public: true },
      schema: {
        tags: ['console'],
        summary: 'Password login (when enabled in the system configuration)',
        body: Type.Object(
          { username: Username, password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const login = await loginWithPassword({
        db: app.db,
        now: opts.now(),
        ip: request.ip,
        settings: await opts.settings(),
        ...request.body,
      });
      void reply.header('set-cookie', sessionCookie(login.token, secure(request.protocol), opts.cookiePath));
      return loggedIn(login);
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { session: true, passwordChange: true },
      schema: { tags: ['console'], summary: 'Ends the session' },
    },
    async (request, reply) => {
      const s = sessionOf(request);
      await endSession(app.db, s.tokenHash);
      void reply.header('set-cookie', clearedSessionCookie(secure(request.protocol), opts.cookiePath));
      return { ok: true };
    },
  );

  app.get(
    '/session',
    {
      config: { session: true, passwordChange: true },
      schema: { tags: ['console'], summary: 'The logged-in user, roles, projects and effective permissions' },
    },
    async (request) => {
      const s = sessionOf(request);
      const user = await getUser({ ctx: adminCtx(app, request, opts.now), ref: s.user.id });
      const settings = await opts.settings();
      return {
        user,
        method: s.method,
        idleTimeoutMinutes: settings.idleTimeoutMinutes,
        unitName: settings.unitName,
      };
    },
  );

  app.post(
    '/session/password',
    {
      config: { session: true, passwordChange: true },
      schema: {
        tags: ['console'],
        summary: 'Changes one’s own password',
        body: Type.Object(
          {
            current: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
            next: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const s = sessionOf(request);
      const settings = await opts.settings();
      if (!settings.passwordLogin) throw new YzError('LOGIN_PASSWORD_DISABLED');
      await changeOwnPassword({
        ctx: adminCtx(app, request, opts.now),
        userId: s.user.id,
        current: request.body.current,
        next: request.body.next,
        policy: { minLength: settings.passwordMinLength, minClasses: settings.passwordMinClasses },
      });
      return { ok: true };
    },
  );

  app.get(
    '/permissions',
    { config: { session: true }, schema: { tags: ['console'], summary: 'The permission catalogue' } },
    () =>
      Object.entries(PERMISSIONS).map(([id, p]) => ({
        id,
        duty: p.duty,
        'zh-CN': p['zh-CN'],
        'en-US': p['en-US'],
      })),
  );
  return Promise.resolve();
};
