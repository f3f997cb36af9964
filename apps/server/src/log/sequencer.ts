/**
 * Sequencing, the first of the log's three pieces: a durable index before the write returns. The caller's
 * transaction bumps the single `log_state` counter row by N (which locks the row until that transaction ends)
 * and stores the N leaves. Consequences:
 *
 * - indices are contiguous across any number of server processes on one database: a second appender waits on
 *   the row lock and continues from the committed counter;
 * - a rollback undoes the counter and the leaves together (no gaps);
 * - committed leaves always form a prefix [0, next_index): a transaction that reserved later indices could only
 *   start after the earlier one committed. The integrator relies on this.
 *
 * Call it as late as possible in the transaction (the row lock serialises appenders until commit). The evidence
 * writer on PostgreSQL does the same in one statement (evidence/pg-write.ts: the counter CTE first).
 */
import { nodeLogHasher } from '@yizheng/ledger/node';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { insertLeaves, isMysql } from './repo.js';

/** Largest entry accepted as one leaf (an entry is a canonical record hash or a small canonical record). */
export const MAX_ENTRY_BYTES = 64 * 1024;

/** Throws a TypeError unless `entries` is an array of Uint8Array of at most {@link MAX_ENTRY_BYTES} each. */
export function checkEntries(entries: readonly Uint8Array[]): void {
  const input: unknown = entries;
  if (!Array.isArray(input)) throw new TypeError('appendLeaves: entries must be an array of Uint8Array');
  entries.forEach((e, i) => {
    if (!(e instanceof Uint8Array)) throw new TypeError(`appendLeaves: entry ${i} is not a Uint8Array`);
    if (e.length > MAX_ENTRY_BYTES) {
      throw new TypeError(`appendLeaves: entry ${i} is ${e.length} bytes (at most ${MAX_ENTRY_BYTES})`);
    }
  });
}

/**
 * Assigns the next `entries.length` indices, stores each entry with its RFC 9162 leaf hash in `trx`, and returns
 * the first index (entry i gets first + i). With no entries nothing is reserved and the next free index is
 * returned.
 */
export async function appendLeaves(
  trx: Transaction<Database>,
  entries: readonly Uint8Array[],
): Promise<number> {
  checkEntries(entries);
  const n = entries.length;
  let next: number | string;
  let hash: 'sm3' | 'sha256';
  if (n === 0) {
    const row = await trx
      .selectFrom('log_state')
      .select(['next_index'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return Number(row.next_index);
  }
  if (isMysql(trx)) {
    await trx
      .updateTable('log_state')
      .set({ next_index: sql<number>`next_index + ${n}` })
      .where('id', '=', 1)
      .execute();
    const row = await trx
      .selectFrom('log_state')
      .select(['next_index', 'hash_alg'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    next = row.next_index;
    hash = row.hash_alg;
  } else {
    const row = await trx
      .updateTable('log_state')
      .set({ next_index: sql<number>`next_index + ${n}` })
      .where('id', '=', 1)
      .returning(['next_index', 'hash_alg'])
      .executeTakeFirstOrThrow();
    next = row.next_index;
    hash = row.hash_alg;
  }
  const first = Number(next) - n;
  const hasher = nodeLogHasher(hash);
  await insertLeaves(
    trx,
    first,
    entries,
    entries.map((e) => hasher.hashLeaf(e)),
  );
  return first;
}
