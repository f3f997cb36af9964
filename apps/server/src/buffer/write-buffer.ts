/**
 * The Redis write buffer (缓存数据落库, seed §1.6): with Redis configured, API-log entries (and with them the
 * API-call counts, derived when they are flushed) are appended to a Redis stream instead of the database, and the
 * flush job (jobs/buffer-flush.ts) moves them to the database (flush.ts). Appends are coalesced by the
 * {@link GroupCommitWriter} into one pipelined round trip per batch; a caller's promise resolves once its entry is
 * in Redis. Evidence counts are not buffered: they are written in the evidence transaction, so a kill between a
 * commit and a Redis append cannot lose them.
 *
 * API-log entries have no database fallback — the chain head lives with the buffer's offset — so a Redis failure
 * is reported to the caller (the API-log plugin logs it), as a database failure is without Redis.
 *
 * `close()` (server shutdown) drains the writer and flushes everything to the database; after a kill -9
 * Redis keeps what was not flushed until the next flush.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { ApiLogEntry } from '../audit/hash-chain.js';
import type { Database } from '../db/schema.js';
import { GroupCommitWriter } from '../evidence/group-commit.js';
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
