/** TypeBox schemas of hot → cold migration strategies (迁移策略, seed §1.7). */
import { Type, type Static } from '@fastify/type-provider-typebox';

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
const Kind = Type.Union([Type.Literal('signature'), Type.Literal('digest'), Type.Literal('file')]);

export const StrategyId = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 40, pattern: '^cstr_[0-9a-f]{1,32}$' }),
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  /** A project id or number; null or absent: every project. */
  project: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
  kinds: Type.Array(Kind, { minItems: 1, maxItems: 3, uniqueItems: true }),
  ageDays: Type.Integer({ minimum: 0, maximum: 36_500 }),
  hotRetentionDays: Type.Integer({ minimum: 0, maximum: 3_650 }),
  batchSize: Type.Integer({ minimum: 1, maximum: 5_000 }),
  window: Type.Union([Type.Object({ start: HHMM, end: HHMM }, { additionalProperties: false }), Type.Null()]),
  /** IANA time zone of the window (default Asia/Shanghai). */
  timezone: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+/-]+$' }),
  enabled: Type.Boolean(),
};

export const StrategyBody = Type.Object(
  {
    name: fields.name,
    project: Type.Optional(fields.project),
    kinds: fields.kinds,
    ageDays: fields.ageDays,
    hotRetentionDays: Type.Optional(fields.hotRetentionDays),
    batchSize: Type.Optional(fields.batchSize),
    window: Type.Optional(fields.window),
    timezone: Type.Optional(fields.timezone),
    enabled: Type.Optional(fields.enabled),
  },
  { additionalProperties: false },
);
export type StrategyBodyType = Static<typeof StrategyBody>;

export const StrategyPatch = Type.Partial(Type.Object(fields), {
  additionalProperties: false,
  minProperties: 1,
});
export type StrategyPatchType = Static<typeof StrategyPatch>;

export const StrategyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  projectId: Type.Union([Type.String(), Type.Null()]),
  kinds: Type.Array(Kind),
  ageDays: Type.Integer(),
  hotRetentionDays: Type.Integer(),
  batchSize: Type.Integer(),
  window: Type.Union([Type.Object({ start: Type.String(), end: Type.String() }), Type.Null()]),
  timezone: Type.String(),
  enabled: Type.Boolean(),
  /** Records archived under this strategy (cold copy verified), and of them those still kept hot. */
  moved: Type.Integer(),
  keptHot: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type StrategyViewType = Static<typeof StrategyView>;
