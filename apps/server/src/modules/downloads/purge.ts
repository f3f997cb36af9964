/**
 * The download-link purge job: a one-time link leaves a row in `download_tokens` when it is used (so a second use
 * is refused); once the link has expired the row no longer guards anything (the expired MAC'd link is refused by
 * its own expiry), so rows expired for longer than the grace period are deleted. The grace period keeps the row
 * while clocks of several servers may still disagree about the expiry.
 */
import type { Kysely } from 'kysely';
import { trustDb } from '../../ca/tables.js';
import { isoTime } from '../../context.js';
import type { Database } from '../../db/schema.js';
import type { Job } from '../../jobs/job.js';

/** Rows deleted per statement, so a large backlog never holds one long lock. */
const BATCH = 1000;

export async function purgeExpiredDownloadTokens(options: {
  db: Kysely<Database>;
  now: number;
  graceMs: number;
  signal?: AbortSignal;
}): Promise<{ deleted: number }> {
  const db = trustDb(options.db);
  const cutoff = isoTime(options.now - options.graceMs);
  let deleted = 0;
  for (;;) {
    const ids = await db
      .selectFrom('download_tokens')
      .select('token_id')
      .where('expires_at', '<', cutoff)
      .limit(BATCH)
      .execute();
    if (ids.length === 0) break;
    const r = await db
      .deleteFrom('download_tokens')
      .where(
        'token_id',
        'in',
        ids.map((i) => i.token_id),
      )
      .executeTakeFirst();
    deleted += Number(r.numDeletedRows);
    if (ids.length < BATCH || options.signal?.aborted === true) break;
  }
  return { deleted };
}

export function downloadPurgeJob(deps: { db: Kysely<Database>; now(): number; graceMs: number }): Job {
  return {
    id: 'download-link-purge',
    description: 'Deletes used one-time download links expired longer than the grace period',
    everyMs: 10 * 60_000,
    handler: (run) =>
      purgeExpiredDownloadTokens({ db: deps.db, now: deps.now(), graceMs: deps.graceMs, signal: run.signal }),
  };
}
