import type { Kysely } from 'kysely';
import type { Database } from './db/schema.js';

/** What every service needs: the database (or a transaction), the clock, and who is acting (for the operation log). */
export interface ServiceContext {
  db: Kysely<Database>;
  /** Injected clock (Unix ms), so tests are deterministic. */
  now(): number;
  /** Who performs the change: `cli`, `app:<id>`, later a console user. */
  actor: string;
}

/** ISO-8601 UTC with milliseconds: the stored time format (fixed width, sorts as text). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
