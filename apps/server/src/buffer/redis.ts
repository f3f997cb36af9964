/**
 * The Redis connection of the write buffer. The URL may carry a password: it is never logged — only
 * {@link describeRedis}'s masked form is.
 */
import { Redis } from 'ioredis';
import { StartupError } from '../startup-error.js';

export interface RedisConfig {
  /** redis://[user:password@]host:port/db or rediss://… */
  url: string;
  /** Prefix of every key the buffer uses (several deployments or tests can share one Redis). */
  prefix: string;
  /** Interval of the flush job (缓存数据落库), ms. */
  flushIntervalMs: number;
}

export const REDIS_DEFAULTS = { prefix: 'yizheng:', flushIntervalMs: 5_000 };
export const REDIS_PREFIX = /^[A-Za-z0-9:_.-]{1,64}$/;

/** The URL with any password masked. */
export function describeRedis(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Connects (refusing to start when Redis cannot be reached: buffered writes would have nowhere to go). */
export async function connectRedis(config: Pick<RedisConfig, 'url'>): Promise<Redis> {
  const redis = new Redis(config.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // ioredis emits connection errors as events; without a listener they would be printed with the URL.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    const reason = e instanceof Error ? e.message.replace(config.url, describeRedis(config.url)) : String(e);
    throw new StartupError('REDIS_UNREACHABLE', `Redis ${describeRedis(config.url)}: ${reason}`);
  }
  return redis;
}
