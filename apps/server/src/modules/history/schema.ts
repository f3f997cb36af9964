/** TypeBox schemas of history migration (sources, column mapping, tasks). */
import { Type, type Static } from '@fastify/type-provider-typebox';

const Column = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' });

/** Which intermediate-table (中间表) column holds each signature-data field. */
export const ColumnMapping = Type.Object(
  {
    key: Column,
    keyType: Type.Union([Type.Literal('integer'), Type.Literal('text')]),
    serialNumber: Column,
    signature: Column,
    /** A column holding `cms` or `raw`; otherwise `defaultFormat` for every row. */
    format: Type.Optional(Column),
    defaultFormat: Type.Union([Type.Literal('cms'), Type.Literal('raw')]),
    certificate: Type.Optional(Column),
    original: Type.Optional(Column),
    timestampToken: Type.Optional(Column),
    signedAt: Type.Optional(Column),
    signer: Type.Optional(Column),
    patientId: Type.Optional(Column),
    patientName: Type.Optional(Column),
    businessType: Type.Optional(Column),
  },
  { additionalProperties: false },
);
export type ColumnMappingType = Static<typeof ColumnMapping>;

export const SourceBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    url: Type.String({
      minLength: 8,
      maxLength: 2000,
      description: 'postgres://, mysql://, mariadb:// or sqlite:/path',
    }),
    table: Column,
    mapping: ColumnMapping,
  },
  { additionalProperties: false },
);
export type SourceBodyType = Static<typeof SourceBody>;

export const SourceView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  table: Type.String(),
  mapping: ColumnMapping,
  createdAt: Type.String(),
});

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });

export const TaskBody = Type.Object(
  {
    sourceId: Type.String({ minLength: 1, maxLength: 40 }),
    appId: Type.String({ minLength: 1, maxLength: 64 }),
    level: Type.Union([Type.Literal('format'), Type.Literal('signature'), Type.Literal('full')]),
    window: Type.Optional(Type.Object({ start: HHMM, end: HHMM }, { additionalProperties: false })),
    rowsPerSecond: Type.Integer({ minimum: 1, maximum: 100_000 }),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type TaskBodyType = Static<typeof TaskBody>;

export const TaskView = Type.Object({
  id: Type.String(),
  sourceId: Type.String(),
  appId: Type.String(),
  level: Type.String(),
  window: Type.Union([Type.Object({ start: Type.String(), end: Type.String() }), Type.Null()]),
  rowsPerSecond: Type.Integer(),
  batchSize: Type.Integer(),
  status: Type.String(),
  cursor: Type.Union([Type.String(), Type.Null()]),
  total: Type.Union([Type.Integer(), Type.Null()]),
  migrated: Type.Integer(),
  duplicates: Type.Integer(),
  failed: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String(),
});

export const Failure = Type.Object({
  sourceKey: Type.String(),
  code: Type.String(),
  reason: Type.String(),
  at: Type.String(),
});
