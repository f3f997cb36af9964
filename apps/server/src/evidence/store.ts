/**
 * The write path of evidence: a record, its payload row and its Merkle-log leaf in ONE transaction (so a record
 * never exists without its leaf, nor a leaf without its record), coalesced across concurrent requests by the
 * {@link GroupCommitWriter}. Verification (CPU) has happened before an item gets here.
 *
 * On PostgreSQL the same write is one statement (pg-write.ts: one round trip per group commit). Elsewhere, per
 * batch: `appendLeaves(trx, hashes)` reserves a contiguous run of log indices, then the rows are inserted
 * with `log_index = first + i`. A batch that fails (typically a unique violation: the same evidence or the same
 * Idempotency-Key pushed concurrently) is retried item by item; an item whose own write violates a unique index
 * resolves to the record that won (`duplicate: true`), or to EVIDENCE_IDEMPOTENCY_CONFLICT when its
 * Idempotency-Key names different evidence.
 */
import { PostgresAdapter, type Kysely, type Transaction } from 'kysely';
import { isUniqueViolation, toCount } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { YzError } from '../errors.js';
import { appendLeaves } from '../log/index.js';
import { recordStats } from '../stats/repo.js';
import * as repo from '../modules/evidence/repo.js';
import { GroupCommitWriter } from './group-commit.js';
import { pgEvidenceWrite } from './pg-write.js';

export interface PreparedEvidence {
  row: Omit<repo.NewEvidenceRow, 'log_index'>;
  payload: repo.PayloadRow;
  /** The log leaf entry: the 32-byte SM3 of the canonical record. */
  entry: Uint8Array;
}

export interface StoredEvidence {
  row: repo.EvidenceRow;
  /** True when this evidence had been stored before: the row is the first record. */
  duplicate: boolean;
}

export type EvidenceWriter = GroupCommitWriter<PreparedEvidence, StoredEvidence>;

async function writeAll(
  trx: Transaction<Database>,
  items: readonly PreparedEvidence[],
): Promise<StoredEvidence[]> {
  const first = await appendLeaves(
    trx,
    items.map((i) => i.entry),
  );
  const rows = items.map((i, k) => ({ ...i.row, log_index: first + k }));
  await repo.insertEvidence(
    trx,
    rows,
    items.map((i) => i.payload),
  );
  await recordStats(
    trx,
    rows.map((r) => ({ ...r, at: r.received_at })),
  );
  return rows.map((r) => ({ row: r as repo.EvidenceRow, duplicate: false }));
}

/** After a unique violation: the record that holds this evidence (or this Idempotency-Key). */
export async function existingFor(
  db: Kysely<Database>,
  item: Pick<PreparedEvidence['row'], 'app_id' | 'dedupe_key' | 'idempotency_key'>,
): Promise<repo.EvidenceRow | undefined> {
  if (item.idempotency_key !== null && item.idempotency_key !== undefined) {
    const byKey = await repo.findByIdempotencyKey(db, item.app_id, item.idempotency_key);
    if (byKey !== undefined) {
      if (byKey.dedupe_key !== item.dedupe_key)
        throw new YzError(
          'EVIDENCE_IDEMPOTENCY_CONFLICT',
          `Idempotency-Key ${item.idempotency_key} belongs to record ${byKey.id}`,
        );
      return byKey;
    }
  }
  return repo.findByDedupeKey(db, item.app_id, item.dedupe_key);
}

export function normaliseRow(r: repo.EvidenceRow): repo.EvidenceRow {
  return {
    ...r,
    log_index: toCount(r.log_index),
    original_size: r.original_size === null ? null : toCount(r.original_size),
    file_size: r.file_size === null ? null : toCount(r.file_size),
  };
}

export function createEvidenceWriter(options: {
  db: Kysely<Database>;
  maxItems?: number;
  onFallback?: (error: unknown, size: number) => void;
}): EvidenceWriter {
  const { db } = options;
  // PostgreSQL: the whole write in one statement, one round trip (pg-write.ts); the others: one transaction.
  const pg = db.getExecutor().adapter instanceof PostgresAdapter ? pgEvidenceWrite(db) : undefined;
  const write = async (items: readonly PreparedEvidence[]): Promise<StoredEvidence[]> => {
    let stored: StoredEvidence[];
    if (pg === undefined) stored = await db.transaction().execute((trx) => writeAll(trx, items));
    else {
      const first = await pg(items);
      stored = items.map((i, k) => ({
        row: { ...i.row, log_index: first + k } as repo.EvidenceRow,
        duplicate: false,
      }));
    }
    return stored;
  };
  return new GroupCommitWriter<PreparedEvidence, StoredEvidence>({
    maxItems: options.maxItems ?? 500,
    // PostgreSQL: a second batch's statement is sent while the first waits for its commit (the log counter's
    // row lock orders them). Elsewhere one transaction at a time: a MariaDB deadlock between two would fail an
    // item, and SQLite has one connection.
    concurrency: pg === undefined ? 1 : 2,
    overloaded: () => new YzError('NOT_READY', 'the evidence writer is overloaded: retry later'),
    writeMany: write,
    writeOne: async (item) => {
      try {
        const [stored] = await write([item]);
        return stored!;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        const existing = await existingFor(db, item.row);
        if (existing === undefined) throw e;
        return { row: normaliseRow(existing), duplicate: true };
      }
    },
    ...(options.onFallback ? { onFallback: options.onFallback } : {}),
  });
}
