/**
 * Integration, the second piece: folds sequenced leaves into the stored tree, asynchronously and in batches,
 * with `@yizheng/ledger`'s integrator over the Kysely node store. Each batch is one transaction that locks the
 * `log_tree` row, reads the leaves after the integrated size, writes the completed perfect-subtree nodes and the
 * new size and root. A crash loses at most the batch in flight (it is redone after the restart); two servers
 * take turns on the row lock and never integrate the same leaf twice.
 */
import { integrate } from '@yizheng/ledger';
import { nodeLogHasher } from '@yizheng/ledger/node';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import type { Database } from '../db/schema.js';
import type { Job } from '../jobs/job.js';
import { insertNodes, KyselyNodeStore, readLeafHashes, readLogState, readTree, writeTree } from './repo.js';

export const INTEGRATION_BATCH = 4096;

export interface IntegrationStep {
  /** Tree size before and after the batch (equal: nothing to integrate). */
  from: number;
  to: number;
}

/** Integrates at most `batch` sequenced leaves after the current tree size. */
export async function integrateBatch(options: {
  db: Kysely<Database>;
  now: number;
  batch?: number;
}): Promise<IntegrationStep> {
  const batch = options.batch ?? INTEGRATION_BATCH;
  return options.db.transaction().execute(async (trx) => {
    const tree = await readTree(trx, { lock: true });
    const leaves = await readLeafHashes(trx, tree.size, batch);
    // Committed leaves form a prefix, so there is no gap; stop at one anyway rather than build a wrong tree.
    let count = 0;
    while (count < leaves.length && leaves[count]!.idx === tree.size + count) count++;
    if (count === 0) return { from: tree.size, to: tree.size };
    const hasher = nodeLogHasher((await readLogState(trx)).hash);
    const result = await integrate(
      hasher,
      new KyselyNodeStore(trx),
      tree.size,
      leaves.slice(0, count).map((l) => l.leafHash),
    );
    await insertNodes(trx, result.nodes);
    await writeTree(trx, result.newSize, result.root, isoTime(options.now));
    return { from: tree.size, to: result.newSize };
  });
}

/** Integrates until nothing is left (or `maxBatches` ran); returns the sizes before and after. */
export async function integrateAll(options: {
  db: Kysely<Database>;
  now: () => number;
  batch?: number;
  maxBatches?: number;
}): Promise<IntegrationStep> {
  const max = options.maxBatches ?? Number.POSITIVE_INFINITY;
  let first: number | undefined;
  let last = 0;
  for (let i = 0; i < max; i++) {
    const step = await integrateBatch({
      db: options.db,
      now: options.now(),
      ...(options.batch === undefined ? {} : { batch: options.batch }),
    });
    first ??= step.from;
    last = step.to;
    if (step.to === step.from) break;
  }
  return { from: first ?? last, to: last };
}

export function integratorJob(deps: { db: Kysely<Database>; now(): number; everyMs: number }): Job {
  return {
    id: 'log-integrator',
    // Job intervals are at least 100 ms.
    everyMs: Math.max(100, deps.everyMs),
    // Bounded per run, so closing the app never waits on a long backlog.
    handler: () => integrateAll({ db: deps.db, now: () => deps.now(), maxBatches: 16 }),
  };
}
