/** The write buffer's configuration and connection: URL/prefix/interval checks, the masked URL, REDIS_UNREACHABLE. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { isStartupError } from '../startup-error.js';
import { connectRedis, describeRedis } from './redis.js';

const base = { YIZHENG_DATA_DIR: '/tmp/yz-redis-config' };

describe('Redis write-buffer configuration', () => {
  it('is absent without YIZHENG_REDIS_URL, parsed with defaults with it', () => {
    expect(loadConfig({ env: base }).redis).toBeUndefined();
    expect(loadConfig({ env: { ...base, YIZHENG_REDIS_URL: 'redis://127.0.0.1:6379/3' } }).redis).toEqual({
      url: 'redis://127.0.0.1:6379/3',
      prefix: 'yizheng:',
      flushIntervalMs: 5000,
    });
    expect(
      loadConfig({
        env: {
          ...base,
          YIZHENG_REDIS_URL: 'rediss://u:p@cache:6380/0',
          YIZHENG_REDIS_PREFIX: 'site-a:',
          YIZHENG_BUFFER_FLUSH_MS: '250',
        },
      }).redis,
    ).toEqual({ url: 'rediss://u:p@cache:6380/0', prefix: 'site-a:', flushIntervalMs: 250 });
  });

  it.each([
    { YIZHENG_REDIS_URL: 'http://127.0.0.1:6379' },
    { YIZHENG_REDIS_URL: 'redis://h:1', YIZHENG_REDIS_PREFIX: 'bad prefix' },
    { YIZHENG_REDIS_URL: 'redis://h:1', YIZHENG_BUFFER_FLUSH_MS: '50' },
    { YIZHENG_REDIS_URL: 'redis://h:1', YIZHENG_BUFFER_FLUSH_MS: 'soon' },
  ])('refuses %o with CONFIG_INVALID', (env) => {
    try {
      loadConfig({ env: { ...base, ...env } });
      expect.fail('accepted');
    } catch (e) {
      expect(isStartupError(e, 'CONFIG_INVALID')).toBe(true);
    }
  });

  it('masks the password', () => {
    expect(describeRedis('redis://user:s3cret@cache:6379/0')).toBe('redis://user:***@cache:6379/0');
    expect(describeRedis('redis://:s3cret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(describeRedis('redis://cache:6379/0')).toBe('redis://cache:6379/0');
  });

  it('refuses to start with REDIS_UNREACHABLE, without the password in the message', async () => {
    try {
      await connectRedis({ url: 'redis://user:s3cret@127.0.0.1:1/0' });
      expect.fail('connected');
    } catch (e) {
      expect(isStartupError(e, 'REDIS_UNREACHABLE')).toBe(true);
      expect((e as Error).message).not.toContain('s3cret');
    }
  }, 30_000);
});
