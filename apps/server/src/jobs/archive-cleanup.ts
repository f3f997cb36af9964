/**
 * Archived-table cleanup (归档数据清理) as a job: deletes the hot copies of archived records whose retention after
 * migration has passed (`cold_moves.delete_after`). Before each batch is deleted the cold copies are read back
 * and checked again against the hot ones (lifecycle/cold-archive.ts verifyColdCopies): nothing is removed that
 * is not present and intact on the cold side. Without a cold database it removes nothing.
 */
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import type { Database } from '../db/schema.js';
import { deleteHotCopies, readHotUnits, verifyColdCopies } from '../lifecycle/cold-archive.js';
import { coldTablesDb } from '../lifecycle/cold-tables.js';
import type { Job } from './job.js';

export interface ArchiveCleanupDeps {
  hot: Kysely<Database>;
  cold: Kysely<Database> | undefined;
  now(): number;
  /** Records per batch (default 500). */
  batchSize?: number;
}

export async function runArchiveCleanup(options: {
  deps: ArchiveCleanupDeps;
  signal: AbortSignal;
}): Promise<{ batches: number; deletedHot: number }> {
  const { deps, signal } = options;
  const totals = { batches: 0, deletedHot: 0 };
  const cold = deps.cold;
  if (cold === undefined) return totals;
  const moves = coldTablesDb(deps.hot);
  while (!signal.aborted) {
    const at = isoTime(deps.now());
    const due = await moves
      .selectFrom('cold_moves')
      .select(['evidence_id', 'evidence_hash'])
      .where('hot_deleted_at', 'is', null)
      .where('delete_after', '<=', at)
      .orderBy('delete_after')
      .orderBy('evidence_id')
      .limit(deps.batchSize ?? 500)
      .execute();
    if (due.length === 0) break;
    const ids = due.map((d) => d.evidence_id);
    const units = await readHotUnits(deps.hot, ids);
    // The hash recorded when the move was verified must still be the hot record's.
    const expected = new Map(due.map((d) => [d.evidence_id, d.evidence_hash]));
    await verifyColdCopies({
      cold,
      units: units.map((u) => ({
        ...u,
        row: { ...u.row, evidence_hash: expected.get(u.row.id) ?? u.row.evidence_hash },
      })),
    });
    await deps.hot.transaction().execute(async (trx) => {
      await deleteHotCopies(trx, units);
      for (let i = 0; i < ids.length; i += 200)
        await coldTablesDb(trx)
          .updateTable('cold_moves')
          .set({ hot_deleted_at: at })
          .where('evidence_id', 'in', ids.slice(i, i + 200))
          .where('hot_deleted_at', 'is', null)
          .execute();
    });
    totals.batches++;
    totals.deletedHot += units.length;
  }
  return totals;
}

export const ARCHIVE_CLEANUP_JOB_ID = 'archive-cleanup';

export function archiveCleanupJob(deps: ArchiveCleanupDeps): Job {
  return {
    id: ARCHIVE_CLEANUP_JOB_ID,
    description: '归档数据清理：删除已迁移至冷库、校验通过且超过保留期的热库数据',
    defaultSchedule: '30 * * * *',
    handler: ({ signal }) => runArchiveCleanup({ deps, signal }),
    // Without a cold database a run does nothing: not worth a row in the run log every time.
    record: deps.cold !== undefined,
  };
}
