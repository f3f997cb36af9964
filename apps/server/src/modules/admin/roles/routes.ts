/** Roles (角色管理) as permission sets. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminCtx } from '../../../plugins/session.js';
import type { AdminRouteOptions } from '../options.js';
import { createRole, deleteRole, getRole, listRoles, updateRole } from './service.js';

const Ref = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 64 }) });
const Permissions = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 });

export const roleRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  const ctx = (request: Parameters<typeof adminCtx>[1]) => adminCtx(app, request, opts.now);
  app.get('/roles', { config: { permission: 'role:read' }, schema: { tags: ['console'] } }, (request) =>
    listRoles({ ctx: ctx(request) }),
  );
  app.get(
    '/roles/:ref',
    { config: { permission: 'role:read' }, schema: { tags: ['console'], params: Ref } },
    (request) => getRole({ ctx: ctx(request), ref: request.params.ref }),
  );
  app.post(
    '/roles',
    {
      config: { permission: 'role:write' },
      schema: {
        tags: ['console'],
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 64 }),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            permissions: Permissions,
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const role = await createRole({ ctx: ctx(request), ...request.body });
      void reply.code(201);
      return role;
    },
  );
  app.patch(
    '/roles/:ref',
    {
      config: { permission: 'role:write' },
      schema: {
        tags: ['console'],
        params: Ref,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            permissions: Type.Optional(Permissions),
          },
          { additionalProperties: false },
        ),
      },
    },
    (request) => updateRole({ ctx: ctx(request), ref: request.params.ref, ...request.body }),
  );
  app.delete(
    '/roles/:ref',
    { config: { permission: 'role:write' }, schema: { tags: ['console'], params: Ref } },
    (request) => deleteRole({ ctx: ctx(request), ref: request.params.ref }),
  );
  return Promise.resolve();
};
