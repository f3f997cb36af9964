/**
 * Timestamps of the log's own checkpoints (DESIGN.md core path step 6: "checkpoints are timestamped by the
 * TSA"). The log knows only the {@link CheckpointStamper} interface — an RFC 3161 token over a note's bytes — so
 * it does not depend on the TSA module; the app passes in the platform TSA (`modules/tsa/checkpoint-stamper.ts`).
 *
 * Stamping happens after a checkpoint is published and outside its transaction: a refusing TSA (clock drift,
 * seed 001 §6) never holds back a checkpoint. {@link stampCheckpoints} stamps every checkpoint that has no
 * token yet (newest first), so a refused one is stamped by the next run. Tokens are kept in
 * `log_checkpoint_stamps`, by tree size.
 */
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import type { Database } from '../db/schema.js';
import { toBytes } from './repo.js';

/** An RFC 3161 TimeStampToken (DER ContentInfo) over `data`, or a {@link CheckpointStampError}. */
export interface CheckpointStamper {
  stamp(data: Uint8Array): Promise<Uint8Array>;
}

export type CheckpointStampErrorCode = 'CHECKPOINT_STAMP_REFUSED' | 'CHECKPOINT_STAMP_INVALID';

/** The TSA refused (its status and text as the detail) or answered something that is not a token. */
export class CheckpointStampError extends Error {
  override readonly name = 'CheckpointStampError';
  constructor(
    readonly code: CheckpointStampErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface StampRun {
  /** Checkpoints stamped in this run. */
  stamped: number;
  /** Checkpoints of this run's batch still without a token (a refusal stops the run; the next one retries). */
  pending: number;
  /** Why the TSA refused, when it did. */
  refused?: string;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The bytes a checkpoint's token covers: its signed note, UTF-8, exactly as published. */
export const checkpointStampData = (note: string): Uint8Array => utf8(note);

/** Stamps up to `limit` checkpoints that have no token yet, newest first. Never throws for a TSA refusal. */
export async function stampCheckpoints(options: {
  db: Kysely<Database>;
  stamper: CheckpointStamper;
  now: number;
  limit?: number;
}): Promise<StampRun> {
  const { db, stamper } = options;
  const unstamped = await db
    .selectFrom('log_checkpoints as c')
    .leftJoin('log_checkpoint_stamps as s', 's.size', 'c.size')
    .select(['c.size', 'c.note'])
    .where('s.size', 'is', null)
    .orderBy('c.size', 'desc')
    .limit(options.limit ?? 16)
    .execute();
  let stamped = 0;
  for (const row of unstamped) {
    let token: Uint8Array;
    try {
      token = await stamper.stamp(checkpointStampData(row.note));
    } catch (e) {
      if (!(e instanceof CheckpointStampError)) throw e;
      return { stamped, pending: unstamped.length - stamped, refused: `${e.code}: ${e.message}` };
    }
    try {
      await db
        .insertInto('log_checkpoint_stamps')
        .values({ size: Number(row.size), token, created_at: isoTime(options.now) })
        .execute();
    } catch (e) {
      // Another server stamped the same checkpoint first: its token stands.
      if ((await checkpointStamp(db, Number(row.size))) === undefined) throw e;
    }
    stamped++;
  }
  return { stamped, pending: 0 };
}

/** The token of the checkpoint at `size`, when it has been stamped. */
export async function checkpointStamp(db: Kysely<Database>, size: number): Promise<Uint8Array | undefined> {
  const row = await db
    .selectFrom('log_checkpoint_stamps')
    .select('token')
    .where('size', '=', size)
    .executeTakeFirst();
  return row === undefined ? undefined : toBytes(row.token);
}
