/**
 * The Redis write buffer (缓存数据落库, seed §1.6): with Redis configured, API-log entries and statistics events
 * are appended to Redis streams instead of the database, and the flush job (jobs/buffer-flush.ts) moves them to
 * the database (flush.ts). API-log appends are coalesced by the {@link GroupCommitWriter} into one pipelined
 * round trip per batch; statistics arrive per committed evidence batch and are appended at once (one XADD), to
 * keep the moment between the evidence commit and its count reaching Redis short. A caller's promise resolves
 * once its entry is in Redis.
 *
 * Statistics events arrive after their evidence committed: if Redis fails they are counted in the database
 * directly (counts add up either way). API-log entries have no such fallback — the chain head lives with the
 * buffer's offset — so a Redis failure is reported to the caller (the API-log plugin logs it), as a database
 * failure is without Redis.
 *
 * `close()` (server shutdown) drains the writers and flushes everything to the database; after a kill -9
 * Redis keeps what was not flushed until the next flush.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { ApiLogEntry } from '../audit/hash-chain.js';
import type { Database } from '../db/schema.js';
import { GroupCommitWriter } from '../evidence/group-commit.js';
import { recordStats, type StatsEvent } from '../stats/repo.js';
import { flushAll, streamKeys, type FlushCounts, type StreamKeys } from './flush.js';
import { connectRedis, type RedisConfig } from './redis.js';

export interface WriteBufferOptions {
  db: Kysely<Database>;
  redis: Redis;
  prefix: string;
  now(): number;
  log: FastifyBaseLogger;
  /** Entries per flush round (default 1000). */
  batchSize?: number;
}

async function appendAll(
  redis: Redis,
  key: string,
  fieldName: string,
  values: readonly string[],
): Promise<void> {
  const p = redis.pipeline();
  for (const v of values) p.xadd(key, '*', fieldName, v);
  const results = await p.exec();
  if (results === null) throw new Error('Redis pipeline aborted');
  for (const [err] of results) if (err) throw err;
}

export class WriteBuffer {
  readonly keys: StreamKeys;
  readonly #options: WriteBufferOptions;
  readonly #apiLog: GroupCommitWriter<ApiLogEntry, void>;
  /** Statistics appends in flight (one XADD per committed evidence batch, sent at once: no extra batching delay). */
  readonly #statsInFlight = new Set<Promise<void>>();
  #flushing: Promise<FlushCounts> | undefined;
  #closed = false;

  constructor(options: WriteBufferOptions) {
    this.#options = options;
    this.keys = streamKeys(options.prefix);
    const { redis } = options;
    this.#apiLog = new GroupCommitWriter<ApiLogEntry, void>({
      name: 'API log buffer',
      maxItems: 1000,
      writeMany: async (entries) => {
        await appendAll(
          redis,
          this.keys.apiLog,
          'e',
          entries.map((e) => JSON.stringify(e)),
        );
        return entries.map(() => undefined);
      },
      writeOne: (entry) => appendAll(redis, this.keys.apiLog, 'e', [JSON.stringify(entry)]),
    });
  }

  /** Buffers one API-log entry; resolves once it is in Redis. */
  appendApiLog(entry: ApiLogEntry): Promise<void> {
    return this.#apiLog.submit(entry);
  }

  /** Buffers the statistics events of a committed batch; never rejects (falls back to the database). */
  async appendStats(events: readonly StatsEvent[]): Promise<void> {
    if (events.length === 0) return;
    const slim = events.map((e) => ({ project_id: e.project_id, app_id: e.app_id, kind: e.kind, at: e.at }));
    const direct = (): Promise<void> =>
      recordStats(this.#options.db, slim).catch((e: unknown) => {
        this.#options.log.error({ err: e }, 'statistics write failed');
      });
    if (this.#closed) return direct();
    const append = appendAll(this.#options.redis, this.keys.stats, 's', [JSON.stringify(slim)]);
    this.#statsInFlight.add(append);
    try {
      await append;
    } catch (err) {
      this.#options.log.warn({ err }, 'statistics buffer unavailable: counting in the database');
      await direct();
    } finally {
      this.#statsInFlight.delete(append);
    }
  }

  /** Flushes the buffered entries to the database (one flush at a time in this process). */
  flush(options: { signal?: AbortSignal; maxRounds?: number } = {}): Promise<FlushCounts> {
    if (this.#flushing === undefined) {
      this.#flushing = flushAll(
        { db: this.#options.db, redis: this.#options.redis, now: () => this.#options.now() },
        this.keys,
        { batchSize: this.#options.batchSize ?? 1000, ...options },
      ).finally(() => {
        this.#flushing = undefined;
      });
    }
    return this.#flushing;
  }

  /** Shutdown: drains the writers, flushes everything to the database, disconnects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#apiLog.close();
    await Promise.allSettled([...this.#statsInFlight]);
    try {
      // A flush started by the job may be running: wait for it, then flush what remains.
      await this.#flushing?.catch(() => undefined);
      await this.flush();
    } catch (err) {
      this.#options.log.error({ err }, 'write buffer flush on shutdown failed: Redis keeps the entries');
    } finally {
      await this.#options.redis.quit().catch(() => undefined);
    }
  }
}

/** Connects to Redis and returns the buffer (the caller closes it on shutdown). */
export async function openWriteBuffer(options: {
  db: Kysely<Database>;
  config: RedisConfig;
  now(): number;
  log: FastifyBaseLogger;
}): Promise<WriteBuffer> {
  const redis = await connectRedis(options.config);
  return new WriteBuffer({
    db: options.db,
    redis,
    prefix: options.config.prefix,
    now: () => options.now(),
    log: options.log,
  });
}
