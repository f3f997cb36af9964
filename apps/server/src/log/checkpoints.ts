/**
 * Signed checkpoints: the platform SM2 key signs a C2SP tlog-checkpoint (origin, size, root) as a C2SP signed
 * note, at most once per interval and only when the tree grew. Every checkpoint is kept (`log_checkpoints`, by
 * size), so consistency between any two can be shown. The publisher locks the `log_tree` row, so two servers
 * publish one checkpoint per growth, not two.
 */
import { sm2, sm3, type Sm2PublicKey } from '@yizheng/gm';
import {
  createSm2NoteSigner,
  createSm2NoteVerifier,
  openCheckpoint,
  signCheckpoint,
  type NoteSigner,
  type NoteVerifier,
  type OpenedCheckpoint,
} from '@yizheng/ledger';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import type { PlatformKey } from '../crypto/platform-key.js';
import type { Database } from '../db/schema.js';
import type { Job } from '../jobs/job.js';
import { insertCheckpoint, latestCheckpointRow, readLogState, readTree, type CheckpointRow } from './repo.js';
import { stampCheckpoints, type CheckpointStamper } from './stamper.js';

const gm = { sm2, sm3 };

/** The note signer of a log: the platform key under the log's origin as key name. */
export function checkpointSigner(key: PlatformKey, origin: string): NoteSigner {
  return createSm2NoteSigner(gm, { name: origin, privateKey: key.privateKey, publicKey: key.publicKey });
}

/** The matching verifier (what a client builds from the platform's public key). */
export function checkpointVerifier(publicKey: Sm2PublicKey, origin: string): NoteVerifier {
  return createSm2NoteVerifier(gm, { name: origin, publicKey });
}

/** Verifies a stored checkpoint note with the platform key and the log's origin (throws a LedgerError). */
export function openStoredCheckpoint(
  note: string,
  publicKey: Sm2PublicKey,
  origin: string,
): OpenedCheckpoint {
  return openCheckpoint(note, [checkpointVerifier(publicKey, origin)], { origin });
}

/**
 * Publishes a checkpoint of the integrated tree if it grew since the last one and the last one is at least
 * `minIntervalMs` old. Returns the new checkpoint, or undefined when none was due.
 */
export async function publishCheckpoint(options: {
  db: Kysely<Database>;
  key: PlatformKey;
  now: number;
  minIntervalMs: number;
}): Promise<CheckpointRow | undefined> {
  return options.db.transaction().execute(async (trx) => {
    const tree = await readTree(trx, { lock: true });
    if (tree.size === 0 || tree.root === undefined) return undefined;
    const latest = await latestCheckpointRow(trx);
    if (latest !== undefined) {
      if (latest.size >= tree.size) return undefined;
      if (options.now - Date.parse(latest.createdAt) < options.minIntervalMs) return undefined;
    }
    const { origin } = await readLogState(trx);
    const note = signCheckpoint({ origin, size: tree.size, rootHash: tree.root }, [
      checkpointSigner(options.key, origin),
    ]);
    const row: CheckpointRow = {
      size: tree.size,
      rootHash: tree.root,
      note,
      createdAt: isoTime(options.now),
    };
    await insertCheckpoint(trx, row);
    return row;
  });
}

/**
 * Publishes due checkpoints; with a `stamper` (the platform TSA), then timestamps every checkpoint not yet
 * stamped (`stamper.ts`): a refusal leaves the checkpoint published and unstamped until a later run.
 */
export function checkpointJob(deps: {
  db: Kysely<Database>;
  key: PlatformKey;
  now(): number;
  minIntervalMs: number;
  everyMs: number;
  stamper?: CheckpointStamper;
  log?: { warn(obj: object, msg: string): void };
}): Job {
  return {
    id: 'log-checkpoint',
    everyMs: deps.everyMs,
    handler: async () => {
      const c = await publishCheckpoint({
        db: deps.db,
        key: deps.key,
        now: deps.now(),
        minIntervalMs: deps.minIntervalMs,
      });
      const published = c === undefined ? {} : { size: c.size };
      if (deps.stamper === undefined) return c === undefined ? undefined : published;
      const run = await stampCheckpoints({ db: deps.db, stamper: deps.stamper, now: deps.now() });
      if (run.refused !== undefined)
        deps.log?.warn({ pending: run.pending }, `checkpoint not timestamped: ${run.refused}`);
      return { ...published, stamped: run.stamped, unstamped: run.pending };
    },
  };
}
