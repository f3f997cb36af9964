/** Users (用户管理) and role/project assignment. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminCtx, sessionOf } from '../../../plugins/session.js';
import type { AdminRouteOptions } from '../options.js';
import {
  assignProjects,
  assignRoles,
  bindCertificate,
  createUser,
  deleteUser,
  exportCertificate,
  getUser,
  listUsers,
  resetPassword,
  setUsersStatus,
  updateUser,
} from './service.js';

const Text = (max: number) => Type.String({ maxLength: max });
const Ref = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 64 }) });
const Refs = Type.Object(
  { refs: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
const Profile = {
  displayName: Type.Optional(Text(200)),
  phone: Type.Optional(Text(64)),
  email: Type.Optional(Text(200)),
  department: Type.Optional(Text(200)),
};
const RefList = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 500 });

export const userRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  const ctx = (request: Parameters<typeof adminCtx>[1]) => adminCtx(app, request, opts.now);

  app.get(
    '/users',
    {
      config: { permission: 'user:read' },
      schema: {
        tags: ['console'],
        summary: 'Users, filtered by any of the fields',
        querystring: Type.Object(
          {
            username: Type.Optional(Text(64)),
            displayName: Type.Optional(Text(200)),
            department: Type.Optional(Text(200)),
            phone: Type.Optional(Text(64)),
            email: Type.Optional(Text(200)),
            status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('frozen')])),
            role: Type.Optional(Text(64)),
            project: Type.Optional(Text(64)),
          },
          { additionalProperties: false },
        ),
      },
    },
    (request) => {
      const { role, project, ...rest } = request.query;
      return listUsers({ ctx: ctx(request), ...rest, roleId: role, projectId: project });
    },
  );

  app.get(
    '/users/:ref',
    { config: { permission: 'user:read' }, schema: { tags: ['console'], params: Ref } },
    (request) => getUser({ ctx: ctx(request), ref: request.params.ref }),
  );

  app.get(
    '/users/:ref/permissions',
    { config: { permission: 'user:read' }, schema: { tags: ['console'], params: Ref } },
    async (request) => {
      const u = await getUser({ ctx: ctx(request), ref: request.params.ref });
      return { userId: u.id, roles: u.roles.map((r) => r.name), permissions: u.permissions };
    },
  );

  app.post(
    '/users',
    {
      config: { permission: 'user:create' },
      schema: {
        tags: ['console'],
        summary: 'Creates a user; a one-time password is returned once',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
            ...Profile,
            roles: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 20 }),
            projects: Type.Optional(RefList),
            certificate: Type.Optional(Type.String({ maxLength: 65536 })),
            issuePassword: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const created = await createUser({ ctx: ctx(request), ...request.body });
      void reply.code(201);
      return created;
    },
  );

  app.patch(
    '/users/:ref',
    {
      config: { permission: 'user:update' },
      schema: { tags: ['console'], params: Ref, body: Type.Object(Profile, { additionalProperties: false }) },
    },
    (request) => updateUser({ ctx: ctx(request), ref: request.params.ref, ...request.body }),
  );

  app.delete(
    '/users/:ref',
    { config: { permission: 'user:delete' }, schema: { tags: ['console'], params: Ref } },
    (request) =>
      deleteUser({ ctx: ctx(request), actorUserId: sessionOf(request).user.id, ref: request.params.ref }),
  );

  for (const [path, status] of [
    ['/users/freeze', 'frozen'],
    ['/users/unfreeze', 'active'],
  ] as const) {
    app.post(
      path,
      { config: { permission: 'user:freeze' }, schema: { tags: ['console'], body: Refs } },
      (request) =>
        setUsersStatus({
          ctx: ctx(request),
          actorUserId: sessionOf(request).user.id,
          refs: request.body.refs,
          status,
        }),
    );
  }

  app.put(
    '/users/:ref/certificate',
    {
      config: { permission: 'user:update' },
      schema: {
        tags: ['console'],
        summary: 'Binds the login certificate (PEM or base64 DER)',
        params: Ref,
        body: Type.Object(
          { certificate: Type.String({ minLength: 1, maxLength: 65536 }) },
          { additionalProperties: false },
        ),
      },
    },
    (request) =>
      bindCertificate({ ctx: ctx(request), ref: request.params.ref, certificate: request.body.certificate }),
  );

  app.delete(
    '/users/:ref/certificate',
    { config: { permission: 'user:update' }, schema: { tags: ['console'], params: Ref } },
    (request) => bindCertificate({ ctx: ctx(request), ref: request.params.ref, certificate: null }),
  );

  app.get(
    '/users/:ref/certificate',
    {
      config: { permission: 'user:read' },
      schema: { tags: ['console'], summary: 'Exports the bound certificate', params: Ref },
    },
    async (request, reply) => {
      const pem = await exportCertificate({ ctx: ctx(request), ref: request.params.ref });
      void reply
        .type('application/x-pem-file')
        .header(
          'content-disposition',
          `attachment; filename="${encodeURIComponent(request.params.ref)}.pem"`,
        );
      return pem;
    },
  );

  app.put(
    '/users/:ref/roles',
    {
      config: { permission: 'role:assign' },
      schema: {
        tags: ['console'],
        params: Ref,
        body: Type.Object(
          { roles: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 }) },
          { additionalProperties: false },
        ),
      },
    },
    (request) =>
      assignRoles({
        ctx: ctx(request),
        actorUserId: sessionOf(request).user.id,
        ref: request.params.ref,
        roles: request.body.roles,
      }),
  );

  app.put(
    '/users/:ref/projects',
    {
      config: { permission: 'role:assign' },
      schema: {
        tags: ['console'],
        params: Ref,
        body: Type.Object({ projects: RefList }, { additionalProperties: false }),
      },
    },
    (request) =>
      assignProjects({ ctx: ctx(request), ref: request.params.ref, projects: request.body.projects }),
  );

  app.post(
    '/users/:ref/password-reset',
    {
      config: { permission: 'user:update' },
      schema: { tags: ['console'], summary: 'Issues a new one-time password (shown once)', params: Ref },
    },
    (request) =>
      resetPassword({ ctx: ctx(request), actorUserId: sessionOf(request).user.id, ref: request.params.ref }),
  );
  return Promise.resolve();
};
