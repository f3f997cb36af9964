/**
 * Projects (项目管理) and applications (第三方接入管理) in the console, over the same services the CLI uses.
 * Users without `scope:all-projects` (operators) only see their assigned projects.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminCtx, assertProjectInScope, projectScope } from '../../../plugins/session.js';
import {
  createApplication,
  getApplication,
  listApplications,
  rotateApplicationKey,
  setApplicationStatus,
  updateApplication,
} from '../../applications/service.js';
import {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  setProjectStatus,
  updateProject,
} from '../../projects/service.js';
import type { AdminRouteOptions } from '../options.js';

const Ref = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 64 }) });
const Refs = Type.Object(
  { refs: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
const Status = Type.Union([Type.Literal('active'), Type.Literal('frozen')]);
const FileStorage = Type.Union([Type.Literal('local'), Type.Literal('database')]);
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 });

export const catalogRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  const ctx = (request: Parameters<typeof adminCtx>[1]) => adminCtx(app, request, opts.now);

  app.get(
    '/projects',
    {
      config: { permission: 'project:read' },
      schema: {
        tags: ['console'],
        querystring: Type.Object(
          {
            number: Type.Optional(Type.String({ maxLength: 64 })),
            name: Type.Optional(Type.String({ maxLength: 200 })),
            status: Type.Optional(Status),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const all = await listProjects({ ctx: ctx(request), ...request.query });
      const scope = projectScope(request);
      return scope === undefined ? all : all.filter((p) => scope.includes(p.id));
    },
  );
  app.get(
    '/projects/:ref',
    { config: { permission: 'project:read' }, schema: { tags: ['console'], params: Ref } },
    async (request) => {
      const p = await getProject({ ctx: ctx(request), ref: request.params.ref });
      assertProjectInScope(request, p.id);
      return p;
    },
  );
  app.post(
    '/projects',
    {
      config: { permission: 'project:create' },
      schema: {
        tags: ['console'],
        body: Type.Object(
          {
            number: Type.String({ minLength: 1, maxLength: 64 }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            fileStorage: Type.Optional(FileStorage),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const p = await createProject({ ctx: ctx(request), ...request.body });
      void reply.code(201);
      return p;
    },
  );
  app.patch(
    '/projects/:ref',
    {
      config: { permission: 'project:update' },
      schema: {
        tags: ['console'],
        params: Ref,
        body: Type.Object(
          {
            number: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            fileStorage: Type.Optional(FileStorage),
          },
          { additionalProperties: false },
        ),
      },
    },
    (request) => updateProject({ ctx: ctx(request), ref: request.params.ref, ...request.body }),
  );
  for (const [path, status] of [
    ['/projects/freeze', 'frozen'],
    ['/projects/unfreeze', 'active'],
  ] as const) {
    app.post(
      path,
      { config: { permission: 'project:freeze' }, schema: { tags: ['console'], body: Refs } },
      (request) => setProjectStatus({ ctx: ctx(request), refs: request.body.refs, status }),
    );
  }
  app.delete(
    '/projects/:ref',
    { config: { permission: 'project:delete' }, schema: { tags: ['console'], params: Ref } },
    (request) => deleteProject({ ctx: ctx(request), ref: request.params.ref }),
  );

  app.get(
    '/applications',
    {
      config: { permission: 'application:read' },
      schema: {
        tags: ['console'],
        querystring: Type.Object(
          {
            project: Type.Optional(Type.String({ maxLength: 64 })),
            name: Type.Optional(Type.String({ maxLength: 200 })),
            status: Type.Optional(Status),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const all = await listApplications({ ctx: ctx(request), ...request.query });
      const scope = projectScope(request);
      return scope === undefined ? all : all.filter((a) => scope.includes(a.projectId));
    },
  );
  app.get(
    '/applications/:ref',
    { config: { permission: 'application:read' }, schema: { tags: ['console'], params: Ref } },
    async (request) => {
      const a = await getApplication({ ctx: ctx(request), id: request.params.ref });
      assertProjectInScope(request, a.projectId);
      return a;
    },
  );
  app.post(
    '/applications',
    {
      config: { permission: 'application:create' },
      schema: {
        tags: ['console'],
        summary:
          'Creates an application; without a public key a pair is generated and the private key returned once',
        body: Type.Object(
          {
            project: Type.String({ minLength: 1, maxLength: 64 }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            vendor: Type.Optional(Type.String({ maxLength: 200 })),
            defaultTags: Type.Optional(Tags),
            retentionYears: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
            publicKey: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const created = await createApplication({ ctx: ctx(request), ...request.body });
      void reply.code(201).header('cache-control', 'no-store');
      return created;
    },
  );
  app.patch(
    '/applications/:ref',
    {
      config: { permission: 'application:update' },
      schema: {
        tags: ['console'],
        params: Ref,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            vendor: Type.Optional(Type.String({ maxLength: 200 })),
            defaultTags: Type.Optional(Tags),
            retentionYears: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    (request) => updateApplication({ ctx: ctx(request), id: request.params.ref, ...request.body }),
  );
  for (const [path, status] of [
    ['/applications/freeze', 'frozen'],
    ['/applications/unfreeze', 'active'],
  ] as const) {
    app.post(
      path,
      { config: { permission: 'application:freeze' }, schema: { tags: ['console'], body: Refs } },
      (request) => setApplicationStatus({ ctx: ctx(request), ids: request.body.refs, status }),
    );
  }
  app.post(
    '/applications/:ref/key',
    {
      config: { permission: 'application:key' },
      schema: {
        tags: ['console'],
        summary:
          'Rotates the key; without a public key a pair is generated and the private key returned once',
        params: Ref,
        body: Type.Optional(
          Type.Object(
            { publicKey: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })) },
            { additionalProperties: false },
          ),
        ),
      },
    },
    async (request, reply) => {
      const r = await rotateApplicationKey({
        ctx: ctx(request),
        id: request.params.ref,
        publicKey: request.body?.publicKey,
      });
      void reply.header('cache-control', 'no-store');
      return r;
    },
  );
  return Promise.resolve();
};
