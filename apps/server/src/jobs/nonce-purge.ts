/** Removes used nonces whose replay window is over (the auth guard refuses their timestamps anyway). */
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import type { Database } from '../db/schema.js';
import type { Job } from './job.js';

export async function purgeExpiredNonces(options: { db: Kysely<Database>; now: number }): Promise<number> {
  const r = await options.db
    .deleteFrom('used_nonces')
    .where('expires_at', '<', isoTime(options.now))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

export function noncePurgeJob(deps: { db: Kysely<Database>; now(): number }): Job {
  return {
    id: 'nonce-purge',
    everyMs: 60_000,
    handler: () => purgeExpiredNonces({ db: deps.db, now: deps.now() }),
  };
}
