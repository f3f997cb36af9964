/** TypeBox schemas of the job admin API. */
import { Type } from '@fastify/type-provider-typebox';

export const JobId = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$' }),
});

export const JobRun = Type.Object({
  id: Type.String(),
  jobId: Type.String(),
  trigger: Type.Union([Type.Literal('schedule'), Type.Literal('manual')]),
  holder: Type.String(),
  startedAt: Type.String(),
  endedAt: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union([
    Type.Literal('running'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
    Type.Literal('interrupted'),
  ]),
  counts: Type.Record(Type.String(), Type.Number()),
  error: Type.Union([Type.String(), Type.Null()]),
});

export const JobView = Type.Object({
  id: Type.String(),
  description: Type.String(),
  kind: Type.Union([Type.Literal('cron'), Type.Literal('interval')]),
  defaultSchedule: Type.String(),
  schedule: Type.String(),
  enabled: Type.Boolean(),
  exclusive: Type.Boolean(),
  running: Type.Boolean(),
  runningOn: Type.Union([Type.String(), Type.Null()]),
  lastRun: Type.Union([JobRun, Type.Null()]),
  nextRun: Type.Union([Type.String(), Type.Null()]),
});

export const RunsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    before: Type.Optional(Type.String({ maxLength: 32, pattern: '^\\d{4}-\\d{2}-\\d{2}T' })),
  },
  { additionalProperties: false },
);

export const ScheduleBody = Type.Object(
  { schedule: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]) },
  { additionalProperties: false },
);

export const RunQuery = Type.Object({ wait: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export const RunStarted = Type.Object({ runId: Type.String(), run: Type.Union([JobRun, Type.Null()]) });
