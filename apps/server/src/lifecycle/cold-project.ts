/**
 * Project deletion across hot and cold storage (issue: "deleting a project removes all its data and
 * configuration"). The hot cascade (modules/projects/repo.ts) calls {@link deleteHotColdState} inside its
 * transaction; the project service calls {@link deleteColdProjectData} first, in a transaction of the cold
 * database, so a failure there leaves the project whole and the deletion can be retried, and a record never
 * outlives its project on the cold side.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { YzError } from '../errors.js';
import { coldTablesDb } from './cold-tables.js';
import { coldDatabaseOf } from './read-through.js';

/** Deletes the project's archived records and their payloads from the cold database; returns the records removed. */
export async function deleteColdProjectData(hot: Kysely<Database>, projectId: string): Promise<number> {
  const cold = coldDatabaseOf(hot);
  if (cold === undefined) return 0;
  try {
    return await cold.transaction().execute(async (trx) => {
      const records = trx.selectFrom('evidence').select('id').where('project_id', '=', projectId);
      await trx.deleteFrom('evidence_payloads').where('evidence_id', 'in', records).execute();
      const r = await trx.deleteFrom('evidence').where('project_id', '=', projectId).executeTakeFirst();
      return Number(r.numDeletedRows);
    });
  } catch (e) {
    // An unreachable cold database is a 503 for the caller (nothing was deleted), not an internal error.
    throw new YzError(
      'NOT_READY',
      'the cold database refused the deletion: nothing was deleted, retry later',
      {
        cause: e,
      },
    );
  }
}

/** Hot-side bookkeeping of the project's archiving: its strategies and the record of its moves. */
export async function deleteHotColdState(trx: Kysely<Database>, projectId: string): Promise<void> {
  const db = coldTablesDb(trx);
  await db.deleteFrom('cold_moves').where('project_id', '=', projectId).execute();
  await db.deleteFrom('cold_strategies').where('project_id', '=', projectId).execute();
}
