import { Type } from '@fastify/type-provider-typebox';

export const ProjectSchema = Type.Object(
  {
    id: Type.String(),
    number: Type.String({ description: '项目编号' }),
    name: Type.String({ description: '项目名称' }),
    status: Type.Union([Type.Literal('active'), Type.Literal('frozen')]),
    fileStorage: Type.Union([Type.Literal('local'), Type.Literal('database')], {
      description: '电子文件存储方式',
    }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Project' },
);
