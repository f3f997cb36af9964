import { Type } from '@fastify/type-provider-typebox';

export const Ping = Type.Object(
  {
    pong: Type.Literal(true),
    appId: Type.String({ description: '接入编号' }),
    appName: Type.String(),
    keyVersion: Type.Integer(),
    project: Type.Object({
      id: Type.String(),
      number: Type.String({ description: '项目编号' }),
      status: Type.Union([Type.Literal('active'), Type.Literal('frozen')]),
    }),
    serverTime: Type.Integer({ description: 'Server clock, Unix ms' }),
  },
  { $id: 'Ping' },
);

export const ApplicationSelf = Type.Object(
  {
    id: Type.String({ description: '接入编号' }),
    projectId: Type.String(),
    name: Type.String(),
    vendor: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('frozen')]),
    defaultTags: Type.Array(Type.String()),
    retentionYears: Type.Integer(),
    keyVersion: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Application' },
);
