/**
 * Migration strategies (迁移策略, seed §1.7): which data (project, kinds) moves from the hot database to the cold
 * one, how old it must be, how long the hot copy is kept after the cold copy was verified, the batch size and the
 * allowed time window (in a configurable time zone). Used by the admin API, the CLI (`yizheng strategy …`) and
 * the cold-migration job. Every change is written to the operation log.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { Value } from 'typebox/value';
import { appendToChain } from '../../audit/hash-chain.js';
import { isoTime, type ServiceContext } from '../../context.js';
import { isUniqueViolation } from '../../db/connect.js';
import type { Database, EvidenceKind } from '../../db/schema.js';
import { YzError } from '../../errors.js';
import { DEFAULT_TIMEZONE } from '../../jobs/manager.js';
import { coldTablesDb, type ColdStrategiesTable } from '../../lifecycle/cold-tables.js';
import {
  StrategyBody,
  StrategyPatch,
  type StrategyBodyType,
  type StrategyPatchType,
  type StrategyViewType,
} from './schema.js';

export const STRATEGY_DEFAULTS = { hotRetentionDays: 0, batchSize: 500 };
const KINDS: readonly EvidenceKind[] = ['signature', 'digest', 'file'];
const MAX_STRATEGIES = 200;

function newId(): string {
  return `cstr_${randomBytes(8).toString('hex')}`;
}

/** Throws STRATEGY_INVALID unless `tz` is a time zone this runtime knows. */
export function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz }).format(0);
  } catch {
    throw new YzError('STRATEGY_INVALID', `unknown time zone ${tz.slice(0, 64)}`);
  }
}

export function parseKinds(text: string): EvidenceKind[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  return Array.isArray(v) ? KINDS.filter((k) => v.includes(k)) : [];
}

function view(r: ColdStrategiesTable, counts: { moved: number; keptHot: number }): StrategyViewType {
  return {
    id: r.id,
    name: r.name,
    projectId: r.project_id,
    kinds: parseKinds(r.kinds),
    ageDays: r.age_days,
    hotRetentionDays: r.hot_retention_days,
    batchSize: r.batch_size,
    window:
      r.window_start === null || r.window_end === null ? null : { start: r.window_start, end: r.window_end },
    timezone: r.timezone,
    enabled: r.enabled === 1,
    moved: counts.moved,
    keptHot: counts.keptHot,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

async function countsOf(db: Kysely<Database>): Promise<Map<string, { moved: number; keptHot: number }>> {
  const rows = await coldTablesDb(db)
    .selectFrom('cold_moves')
    .select((eb) => [
      'strategy_id',
      eb.fn.countAll<number | string>().as('moved'),
      eb.fn
        .sum<number | string | null>(sql<number>`case when hot_deleted_at is null then 1 else 0 end`)
        .as('kept'),
    ])
    .groupBy('strategy_id')
    .execute();
  return new Map(rows.map((r) => [r.strategy_id, { moved: Number(r.moved), keptHot: Number(r.kept ?? 0) }]));
}

async function resolveProject(db: Kysely<Database>, ref: string | null | undefined): Promise<string | null> {
  if (ref === null || ref === undefined) return null;
  const p = await db
    .selectFrom('projects')
    .select('id')
    .where((eb) => eb.or([eb('id', '=', ref), eb('number', '=', ref)]))
    .executeTakeFirst();
  if (!p) throw new YzError('STRATEGY_INVALID', `no project ${ref}`);
  return p.id;
}

/** The admin API validates bodies by schema; the CLI's come here unchecked, so the service checks them too. */
function checkShape(schema: typeof StrategyBody | typeof StrategyPatch, body: unknown): void {
  if (Value.Check(schema, body)) return;
  const first = [...Value.Errors(schema, body)][0];
  throw new YzError(
    'STRATEGY_INVALID',
    first ? `${first.instancePath || '/'} ${first.message}`.slice(0, 300) : 'invalid strategy',
  );
}

function checkWindow(w: { start: string; end: string } | null | undefined): void {
  if (w && w.start === w.end) throw new YzError('STRATEGY_INVALID', 'the window is empty');
}

async function row(db: Kysely<Database>, id: string): Promise<ColdStrategiesTable> {
  const r = await coldTablesDb(db)
    .selectFrom('cold_strategies')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r) throw new YzError('STRATEGY_NOT_FOUND', id);
  return r;
}

async function logOp(ctx: ServiceContext, action: string, id: string, detail: object): Promise<void> {
  await appendToChain({
    db: ctx.db,
    table: 'operation_logs',
    entry: {
      at: isoTime(ctx.now()),
      actor: ctx.actor,
      action,
      target_type: 'cold_strategy',
      target_id: id,
      project_id: null,
      detail: JSON.stringify(detail),
    },
  });
}

/**
 * Runs a change and its operation-log entry in one transaction. A unique violation is the name (→
 * STRATEGY_NAME_TAKEN) when another strategy holds it; otherwise it is a lost race for the log's next seq
 * (MySQL/MariaDB, see audit/hash-chain.ts) and the whole transaction is retried.
 */
async function changeWithLog(
  ctx: ServiceContext,
  name: string,
  selfId: string,
  change: (trx: Kysely<Database>) => Promise<void>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.db.transaction().execute(change);
      return;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const holder = await coldTablesDb(ctx.db)
        .selectFrom('cold_strategies')
        .select('id')
        .where('name', '=', name)
        .executeTakeFirst();
      if (holder !== undefined && holder.id !== selfId)
        throw new YzError('STRATEGY_NAME_TAKEN', name, { cause: e });
      if (attempt >= 10) throw e;
    }
  }
}

export async function listStrategies(options: { db: Kysely<Database> }): Promise<StrategyViewType[]> {
  const rows = await coldTablesDb(options.db)
    .selectFrom('cold_strategies')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const counts = await countsOf(options.db);
  return rows.map((r) => view(r, counts.get(r.id) ?? { moved: 0, keptHot: 0 }));
}

/** The enabled strategies as stored (for the migration job). */
export function enabledStrategies(db: Kysely<Database>): Promise<ColdStrategiesTable[]> {
  return coldTablesDb(db)
    .selectFrom('cold_strategies')
    .selectAll()
    .where('enabled', '=', 1)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** By id, or else by name (the CLI accepts either). */
export async function getStrategy(options: { db: Kysely<Database>; ref: string }): Promise<StrategyViewType> {
  const { db, ref } = options;
  const r =
    (await coldTablesDb(db)
      .selectFrom('cold_strategies')
      .selectAll()
      .where('id', '=', ref)
      .executeTakeFirst()) ??
    (await coldTablesDb(db)
      .selectFrom('cold_strategies')
      .selectAll()
      .where('name', '=', ref)
      .executeTakeFirst());
  if (!r) throw new YzError('STRATEGY_NOT_FOUND', ref.slice(0, 200));
  return view(r, (await countsOf(db)).get(r.id) ?? { moved: 0, keptHot: 0 });
}

export async function createStrategy(options: {
  ctx: ServiceContext;
  body: StrategyBodyType;
}): Promise<StrategyViewType> {
  const { ctx, body } = options;
  checkShape(StrategyBody, body);
  const timezone = body.timezone ?? DEFAULT_TIMEZONE;
  checkTimezone(timezone);
  checkWindow(body.window);
  const projectId = await resolveProject(ctx.db, body.project);
  const at = isoTime(ctx.now());
  const r: ColdStrategiesTable = {
    id: newId(),
    name: body.name,
    project_id: projectId,
    kinds: JSON.stringify(KINDS.filter((k) => body.kinds.includes(k))),
    age_days: body.ageDays,
    hot_retention_days: body.hotRetentionDays ?? STRATEGY_DEFAULTS.hotRetentionDays,
    batch_size: body.batchSize ?? STRATEGY_DEFAULTS.batchSize,
    window_start: body.window?.start ?? null,
    window_end: body.window?.end ?? null,
    timezone,
    enabled: body.enabled === false ? 0 : 1,
    created_at: at,
    updated_at: at,
  };
  await changeWithLog(ctx, r.name, r.id, async (trx) => {
    const n = await coldTablesDb(trx)
      .selectFrom('cold_strategies')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(n.n) >= MAX_STRATEGIES)
      throw new YzError('STRATEGY_INVALID', `at most ${MAX_STRATEGIES} strategies`);
    await coldTablesDb(trx).insertInto('cold_strategies').values(r).execute();
    await logOp({ ...ctx, db: trx }, 'strategy.create', r.id, { name: r.name, projectId, kinds: body.kinds });
  });
  return view(r, { moved: 0, keptHot: 0 });
}

export async function updateStrategy(options: {
  ctx: ServiceContext;
  id: string;
  patch: StrategyPatchType;
}): Promise<StrategyViewType> {
  const { ctx, patch } = options;
  checkShape(StrategyPatch, patch);
  const old = await row(ctx.db, options.id);
  if (patch.timezone !== undefined) checkTimezone(patch.timezone);
  checkWindow(patch.window);
  const set: Partial<ColdStrategiesTable> = { updated_at: isoTime(ctx.now()) };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.project !== undefined) set.project_id = await resolveProject(ctx.db, patch.project);
  if (patch.kinds !== undefined) set.kinds = JSON.stringify(KINDS.filter((k) => patch.kinds?.includes(k)));
  if (patch.ageDays !== undefined) set.age_days = patch.ageDays;
  if (patch.hotRetentionDays !== undefined) set.hot_retention_days = patch.hotRetentionDays;
  if (patch.batchSize !== undefined) set.batch_size = patch.batchSize;
  if (patch.window !== undefined) {
    set.window_start = patch.window?.start ?? null;
    set.window_end = patch.window?.end ?? null;
  }
  if (patch.timezone !== undefined) set.timezone = patch.timezone;
  if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
  await changeWithLog(ctx, set.name ?? old.name, old.id, async (trx) => {
    await coldTablesDb(trx).updateTable('cold_strategies').set(set).where('id', '=', old.id).execute();
    await logOp({ ...ctx, db: trx }, 'strategy.update', old.id, patch);
  });
  return getStrategy({ db: ctx.db, ref: old.id });
}

/**
 * Deletes a strategy. Records it archived stay archived (their `cold_moves` rows keep the strategy id, and the
 * archive cleanup still removes their hot copies when due).
 */
export async function deleteStrategy(options: {
  ctx: ServiceContext;
  id: string;
}): Promise<StrategyViewType> {
  const { ctx } = options;
  const before = await getStrategy({ db: ctx.db, ref: options.id });
  if (before.id !== options.id) throw new YzError('STRATEGY_NOT_FOUND', options.id.slice(0, 200));
  await changeWithLog(ctx, before.name, before.id, async (trx) => {
    await coldTablesDb(trx).deleteFrom('cold_strategies').where('id', '=', before.id).execute();
    await logOp({ ...ctx, db: trx }, 'strategy.delete', before.id, { name: before.name });
  });
  return before;
}
