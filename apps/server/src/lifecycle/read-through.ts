/**
 * The read-through seam between the hot database and the cold one (hot → cold archiving, seed §1.6).
 *
 * When a cold database is configured, `app.ts` attaches it to the hot Kysely instance; the evidence repository's
 * lookups (one record, its payload, a stored file, a page of records) call {@link readThrough} /
 * {@link listThrough}, which read the hot side first and the cold side after, so queries, details, verification,
 * reports and packages keep working across both without their callers knowing. Without a cold database nothing
 * is attached and both functions are exactly the hot read.
 *
 * The registry is keyed by the hot instance (a WeakMap), so two apps in one process (tests) never see each
 * other's cold side, and a transaction handle (a different instance) reads the hot side only.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

const coldSides = new WeakMap<Kysely<Database>, Kysely<Database>>();

/** Attaches `cold` behind `hot`; the returned function detaches it (call it before closing `cold`). */
export function attachColdDatabase(hot: Kysely<Database>, cold: Kysely<Database>): () => void {
  coldSides.set(hot, cold);
  return () => {
    if (coldSides.get(hot) === cold) coldSides.delete(hot);
  };
}

export function coldDatabaseOf(hot: Kysely<Database>): Kysely<Database> | undefined {
  return coldSides.get(hot);
}

/** `read(hot)`, or when it finds nothing and a cold database is attached, `read(cold)`. */
export async function readThrough<T>(
  hot: Kysely<Database>,
  read: (db: Kysely<Database>) => Promise<T | undefined>,
): Promise<T | undefined> {
  const found = await read(hot);
  if (found !== undefined) return found;
  const cold = coldSides.get(hot);
  return cold === undefined ? undefined : read(cold);
}

/** Descending (received_at, id), the evidence list order. */
function newerFirst(a: { received_at: string; id: string }, b: { received_at: string; id: string }): number {
  if (a.received_at !== b.received_at) return a.received_at < b.received_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * One page of a keyset-paginated list (newest first by received_at, then id) over both sides: each side is
 * asked for `limit` rows after the same cursor, the two pages are merged, a record present on both sides (kept
 * hot during its retention) appears once (the hot copy), and the first `limit` rows are returned. The cursor
 * of the last row is a position in the merged order, so the next page continues on both sides.
 */
export async function listThrough<T extends { received_at: string; id: string }>(
  hot: Kysely<Database>,
  limit: number,
  read: (db: Kysely<Database>) => Promise<T[]>,
): Promise<T[]> {
  const cold = coldSides.get(hot);
  if (cold === undefined) return read(hot);
  const [h, c] = await Promise.all([read(hot), read(cold)]);
  const ids = new Set(h.map((r) => r.id));
  return [...h, ...c.filter((r) => !ids.has(r.id))].sort(newerFirst).slice(0, limit);
}

/**
 * Keyed lookups (dedupe keys, Idempotency-Keys) over both sides: the hot side for every key, the cold side for
 * the keys the hot side does not have — so evidence pushed again after it was archived gets its first receipt
 * instead of a second record.
 */
export async function mapThrough<V>(
  hot: Kysely<Database>,
  keys: readonly string[],
  read: (db: Kysely<Database>, keys: readonly string[]) => Promise<Map<string, V>>,
): Promise<Map<string, V>> {
  const found = await read(hot, keys);
  const cold = coldSides.get(hot);
  if (cold === undefined) return found;
  const missing = keys.filter((k) => !found.has(k));
  if (missing.length === 0) return found;
  for (const [k, v] of await read(cold, missing)) found.set(k, v);
  return found;
}
