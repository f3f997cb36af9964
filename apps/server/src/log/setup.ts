/**
 * The log's fixed parameters. The hash and origin are stored in `log_state`; a configuration may set them only
 * while the log is empty. Afterwards a different configured hash or origin refuses the start
 * (`LOG_CONFIG_CHANGED`): every leaf, node and checkpoint depends on them.
 */
import type { Kysely } from 'kysely';
import type { LogConfig } from '../config.js';
import type { Database } from '../db/schema.js';
import { StartupError } from '../startup-error.js';
import { readLogState } from './repo.js';

export async function initLog(
  db: Kysely<Database>,
  config: Pick<LogConfig, 'hash' | 'origin'>,
): Promise<void> {
  const matches = (s: { hash: string; origin: string }): boolean =>
    s.hash === config.hash && s.origin === config.origin;
  const before = await readLogState(db);
  if (matches(before)) return;
  // Conditional on an empty log, atomically: a concurrent append makes this a no-op.
  await db
    .updateTable('log_state')
    .set({ hash_alg: config.hash, origin: config.origin })
    .where('id', '=', 1)
    .where('next_index', '=', 0)
    .execute();
  const after = await readLogState(db);
  if (matches(after)) return;
  throw new StartupError(
    'LOG_CONFIG_CHANGED',
    `the Merkle log has ${after.nextIndex} leaves with hash ${after.hash} and origin ${after.origin}; ` +
      `the configuration says hash ${config.hash} and origin ${config.origin} (set them back: a log's hash ` +
      `and origin cannot change)`,
  );
}
