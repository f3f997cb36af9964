import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { trustDb } from '../../ca/tables.js';
import { isUniqueViolation } from '../../db/connect.js';

/**
 * TSA serial numbers (RFC 3161 §2.4.2: unique per TSA, here also increasing): a process reserves a block of
 * `blockSize` serials in one transaction (`tsa_serials.next` += blockSize) and hands them out from memory. Unique
 * and increasing across restarts and across processes sharing the database; a restart skips the rest of its block.
 */
export interface SerialAllocator {
  next(): Promise<bigint>;
}

const COUNTER = 'tsa';

export function createSerialAllocator(options: {
  db: Kysely<Database>;
  blockSize?: number;
}): SerialAllocator {
  const db = trustDb(options.db);
  const blockSize = BigInt(options.blockSize ?? 256);
  let next = 0n;
  let end = 0n;
  let pending: Promise<void> | undefined;

  const reserve = async (): Promise<void> => {
    try {
      await reserveOnce();
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      await reserveOnce(); // another process created the counter row first
    }
  };
  const reserveOnce = async (): Promise<void> => {
    const start = await db.transaction().execute(async (tx) => {
      // Writing first takes the row lock on every dialect (SQLite's BEGIN IMMEDIATE, PostgreSQL/MySQL row locks).
      const updated = await tx
        .updateTable('tsa_serials')
        .set((eb) => ({ next: eb('next', '+', Number(blockSize)) }))
        .where('name', '=', COUNTER)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) {
        await tx
          .insertInto('tsa_serials')
          .values({ name: COUNTER, next: 1 + Number(blockSize) })
          .execute();
        return 1n;
      }
      const row = await tx
        .selectFrom('tsa_serials')
        .select('next')
        .where('name', '=', COUNTER)
        .executeTakeFirstOrThrow();
      return BigInt(row.next) - blockSize;
    });
    next = start;
    end = start + blockSize;
  };

  return {
    async next() {
      while (next >= end) {
        pending ??= reserve().finally(() => {
          pending = undefined;
        });
        await pending;
      }
      const serial = next;
      next += 1n;
      return serial;
    },
  };
}
