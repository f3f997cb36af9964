/** Audit routes: read, export and integrity check of the operation and API logs. No route modifies them. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AdminRouteOptions } from '../options.js';
import {
  MAX_PAGE_SIZE,
  checkIntegrity,
  exportApiLogsCsv,
  exportOperationsCsv,
  getApiLog,
  getOperation,
  queryApiLogs,
  queryOperations,
} from './service.js';

const Time = Type.String({ maxLength: 32, pattern: '^\\d{4}-\\d{2}-\\d{2}' });
const Paging = {
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
};
const OpFilter = {
  actor: Type.Optional(Type.String({ maxLength: 200 })),
  action: Type.Optional(Type.String({ maxLength: 100 })),
  targetType: Type.Optional(Type.String({ maxLength: 64 })),
  targetId: Type.Optional(Type.String({ maxLength: 64 })),
  projectId: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Time),
  to: Type.Optional(Time),
};
const ApiFilter = {
  appId: Type.Optional(Type.String({ maxLength: 64 })),
  projectId: Type.Optional(Type.String({ maxLength: 64 })),
  method: Type.Optional(Type.String({ maxLength: 16 })),
  path: Type.Optional(Type.String({ maxLength: 500 })),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  errorCode: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Time),
  to: Type.Optional(Time),
};
const Seq = Type.Object({ seq: Type.Integer({ minimum: 1 }) });

export const auditRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app) => {
  const csvHeaders = (name: string) => ({
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}"`,
  });
  app.get(
    '/audit/operations',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['console'],
        querystring: Type.Object(
          {
            ...OpFilter,
            pageSize: Paging.pageSize,
            cursor: Type.Optional(Type.String({ maxLength: 16, pattern: '^[1-9][0-9]*$' })),
          },
          { additionalProperties: false },
        ),
      },
    },
    (request) => {
      const { pageSize = 20, cursor, ...filter } = request.query;
      return queryOperations({ db: app.db, filter, pageSize, cursor });
    },
  );
  app.get(
    '/audit/operations/export',
    {
      config: { permission: 'audit:export' },
      schema: { tags: ['console'], querystring: Type.Object(OpFilter, { additionalProperties: false }) },
    },
    async (request, reply) => {
      void reply.headers(csvHeaders('operation-log.csv'));
      return exportOperationsCsv(app.db, request.query);
    },
  );
  app.get(
    '/audit/operations/:seq',
    { config: { permission: 'audit:read' }, schema: { tags: ['console'], params: Seq } },
    (request) => getOperation(app.db, request.params.seq),
  );
  app.get(
    '/audit/api-logs',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['console'],
        querystring: Type.Object(
          { ...ApiFilter, ...Paging, cursor: Type.Optional(Type.String({ maxLength: 20 })) },
          { additionalProperties: false },
        ),
      },
    },
    (request) => {
      const { page = 1, pageSize = 20, cursor, ...filter } = request.query;
      return queryApiLogs({ db: app.db, filter, page, pageSize, cursor });
    },
  );
  app.get(
    '/audit/api-logs/export',
    {
      config: { permission: 'audit:export' },
      schema: { tags: ['console'], querystring: Type.Object(ApiFilter, { additionalProperties: false }) },
    },
    async (request, reply) => {
      void reply.headers(csvHeaders('api-log.csv'));
      return exportApiLogsCsv(app.db, request.query);
    },
  );
  app.get(
    '/audit/api-logs/:seq',
    { config: { permission: 'audit:read' }, schema: { tags: ['console'], params: Seq } },
    (request) => getApiLog(app.db, request.params.seq),
  );
  app.get(
    '/audit/integrity',
    {
      config: { permission: 'audit:verify' },
      schema: {
        tags: ['console'],
        summary: 'Recomputes the hash chain of both logs',
      },
    },
    async () => ({
      operationLog: await checkIntegrity(app.db, 'operation_logs'),
      apiLog: await checkIntegrity(app.db, 'api_logs'),
    }),
  );
  return Promise.resolve();
};
