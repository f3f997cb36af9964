/**
 * The signed-API guard's view of applications: `findAuthSubject` (the application, its current key, default tags
 * and its project's number and status) cached per app instance, so an authenticated call costs no database read.
 *
 * Freshness: every change made through the services (freeze/unfreeze, key rotation, update, project freeze or
 * deletion) calls {@link authSubjectsChanged}, which empties every cache of this process at once; a change made
 * by another process (the CLI, another server on the same database) is seen within `ttlMs` (default 2 s), the
 * bound on how long an entry is trusted. Unknown applications are not cached (a new one works at once). Concurrent
 * misses for one application share one read. Bounded: at most `maxEntries` applications.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { findAuthSubject } from '../modules/applications/repo.js';

export type AuthSubject = NonNullable<Awaited<ReturnType<typeof findAuthSubject>>>;

export interface AuthSubjectCache {
  get(appId: string): Promise<AuthSubject | undefined>;
  clear(): void;
  /** Stops taking part in {@link authSubjectsChanged} (the app closed). */
  close(): void;
}

export const AUTH_SUBJECT_TTL_MS = 2_000;
const MAX_ENTRIES = 10_000;

const live = new Set<AuthSubjectCache>();

/** An application or project changed: every cached subject of this process is read again. */
export function authSubjectsChanged(): void {
  for (const c of live) c.clear();
}

export function createAuthSubjectCache(options: {
  db: Kysely<Database>;
  now(): number;
  ttlMs?: number;
  maxEntries?: number;
}): AuthSubjectCache {
  const ttl = options.ttlMs ?? AUTH_SUBJECT_TTL_MS;
  const max = options.maxEntries ?? MAX_ENTRIES;
  const entries = new Map<string, { at: number; value: Promise<AuthSubject | undefined> }>();
  // Bumped by clear(): a read that started before a change must not refill the cache with what it read.
  let generation = 0;
  const cache: AuthSubjectCache = {
    get(appId) {
      const t = options.now();
      const hit = entries.get(appId);
      if (hit !== undefined && t - hit.at < ttl && t >= hit.at) return hit.value;
      const started = generation;
      const value = findAuthSubject(options.db, appId);
      if (entries.size >= max) entries.clear();
      entries.set(appId, { at: t, value });
      const drop = (): void => {
        if (entries.get(appId)?.value === value) entries.delete(appId);
      };
      value.then((v) => {
        if (v === undefined || generation !== started) drop();
      }, drop);
      return value;
    },
    clear() {
      generation++;
      entries.clear();
    },
    close() {
      entries.clear();
      live.delete(cache);
    },
  };
  live.add(cache);
  return cache;
}
