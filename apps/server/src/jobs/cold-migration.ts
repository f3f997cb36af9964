/**
 * Hot → cold migration (热数据迁移至冷库, seed §1.6–1.7) as a job: for each enabled strategy whose time window is
 * open, moves records older than its age, one batch at a time, copy → verify on the cold side → mark and (with
 * no retention) delete on the hot side (lifecycle/cold-archive.ts). Batches are taken oldest first; a record
 * already archived (`cold_moves`) is never taken again. Stops between batches when the job is stopped, the
 * server closes, or the window ends.
 */
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import type { Database, EvidenceKind } from '../db/schema.js';
import { copyToCold, markAndRemoveHot, readHotUnits, verifyColdCopies } from '../lifecycle/cold-archive.js';
import { coldTablesDb, type ColdStrategiesTable } from '../lifecycle/cold-tables.js';
import { inWindow } from '../modules/history/service.js';
import { enabledStrategies, parseKinds } from '../modules/strategies/service.js';
import type { Job } from './job.js';

export interface ColdMigrationDeps {
  hot: Kysely<Database>;
  /** The cold database, or undefined when none is configured (the job then does nothing). */
  cold: Kysely<Database> | undefined;
  now(): number;
}

export interface ColdMigrationTotals {
  strategies: number;
  batches: number;
  copied: number;
  archived: number;
  deletedHot: number;
}

/**
 * One project and kind: the unit a run walks, on the (project_id, kind, received_at, id) index, with a keyset
 * cursor so records kept hot for their retention (already in `cold_moves`) are stepped over once per run.
 */
export interface Scope {
  projectId: string;
  kind: EvidenceKind;
  /** Rows strictly after this (received_at, id). */
  after?: { receivedAt: string; id: string } | undefined;
}

/** The next batch of a strategy: hot records older than its age, not archived yet, oldest first. */
export async function nextBatch(
  hot: Kysely<Database>,
  s: ColdStrategiesTable,
  now: number,
  scope?: Scope,
): Promise<string[]> {
  return (await nextRows(hot, s, now, scope)).map((r) => r.id);
}

async function nextRows(
  hot: Kysely<Database>,
  s: ColdStrategiesTable,
  now: number,
  scope: Scope | undefined,
): Promise<{ id: string; received_at: string }[]> {
  const kinds: EvidenceKind[] = scope ? [scope.kind] : parseKinds(s.kinds);
  if (kinds.length === 0) return [];
  let q = coldTablesDb(hot)
    .selectFrom('evidence as e')
    .leftJoin('cold_moves as m', 'm.evidence_id', 'e.id')
    .select(['e.id', 'e.received_at'])
    .where('m.evidence_id', 'is', null)
    .where('e.kind', 'in', kinds)
    .where('e.received_at', '<', isoTime(now - s.age_days * 86_400_000));
  const projectId = scope?.projectId ?? s.project_id;
  if (projectId !== null) q = q.where('e.project_id', '=', projectId);
  const after = scope?.after;
  if (after !== undefined)
    q = q.where((eb) =>
      eb.or([
        eb('e.received_at', '>', after.receivedAt),
        eb.and([eb('e.received_at', '=', after.receivedAt), eb('e.id', '>', after.id)]),
      ]),
    );
  return q.orderBy('e.received_at').orderBy('e.id').limit(s.batch_size).execute();
}

/** One batch of one strategy; returns what it did (copied 0 when a crashed run had copied it already). */
export async function migrateBatch(options: {
  hot: Kysely<Database>;
  cold: Kysely<Database>;
  strategy: ColdStrategiesTable;
  now: number;
  scope?: Scope;
}): Promise<{ records: number; copied: number; deletedHot: number; last?: Scope['after'] }> {
  const { hot, cold, strategy, now } = options;
  const rows = await nextRows(hot, strategy, now, options.scope);
  const lastRow = rows[rows.length - 1];
  if (lastRow === undefined) return { records: 0, copied: 0, deletedHot: 0 };
  const units = await readHotUnits(
    hot,
    rows.map((r) => r.id),
  );
  const copied = await copyToCold({ hot, cold, units });
  await verifyColdCopies({ cold, units });
  const deletedHot = await markAndRemoveHot({ hot, units, strategy, now });
  return {
    records: units.length,
    copied,
    deletedHot,
    last: { receivedAt: lastRow.received_at, id: lastRow.id },
  };
}

/** The (project, kind) pairs a strategy covers. */
async function scopesOf(hot: Kysely<Database>, s: ColdStrategiesTable): Promise<Scope[]> {
  const projects =
    s.project_id !== null
      ? [s.project_id]
      : (await hot.selectFrom('projects').select('id').orderBy('id').execute()).map((p) => p.id);
  return projects.flatMap((projectId) => parseKinds(s.kinds).map((kind) => ({ projectId, kind })));
}

export async function runColdMigration(options: {
  deps: ColdMigrationDeps;
  signal: AbortSignal;
}): Promise<ColdMigrationTotals> {
  const { deps, signal } = options;
  const totals: ColdMigrationTotals = { strategies: 0, batches: 0, copied: 0, archived: 0, deletedHot: 0 };
  const cold = deps.cold;
  if (cold === undefined) return totals;
  for (const s of await enabledStrategies(deps.hot)) {
    if (signal.aborted) break;
    if (!inWindow(s, deps.now(), s.timezone)) continue;
    totals.strategies++;
    for (const scope of await scopesOf(deps.hot, s)) {
      while (!signal.aborted && inWindow(s, deps.now(), s.timezone)) {
        const b = await migrateBatch({ hot: deps.hot, cold, strategy: s, now: deps.now(), scope });
        if (b.records === 0) break;
        scope.after = b.last;
        totals.batches++;
        totals.copied += b.copied;
        totals.archived += b.records;
        totals.deletedHot += b.deletedHot;
      }
    }
  }
  return totals;
}

export const COLD_MIGRATION_JOB_ID = 'cold-migration';

export function coldMigrationJob(deps: ColdMigrationDeps): Job {
  return {
    id: COLD_MIGRATION_JOB_ID,
    description: '热数据迁移至冷库：按迁移策略分批复制、校验后删除热库数据',
    defaultSchedule: '*/10 * * * *',
    handler: ({ signal }) => runColdMigration({ deps, signal }),
    // Without a cold database a run does nothing: not worth a row in the run log every time.
    record: deps.cold !== undefined,
  };
}
