import { statSync } from 'node:fs';
import Sqlite from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { YzError } from './errors.js';
import { tempDir, testApp, testConfig } from './testing/app.js';

describe('app: errors, health, OpenAPI', () => {
  const tmp = tempDir();
  let app: FastifyInstance;
  beforeAll(async () => {
    const config = testConfig({ dialect: 'sqlite', file: `${tmp.dir}/data/yizheng.db` }, tmp.dir, {
      bodyLimit: 1024,
    });
    app = await testApp(config);
  });
  afterAll(async () => {
    await app.close();
    tmp.remove();
  });

  it('/healthz and /readyz', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const r = await app.inject('/readyz');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ready', database: 'sqlite' });
  });

  it('generated the KEK with mode 0600 and stores no data key in clear', async () => {
    expect(statSync(`${tmp.dir}/kek.key`).mode & 0o777).toBe(0o600);
    expect(statSync(`${tmp.dir}/data`).mode & 0o777).toBe(0o700);
    const keys = await app.db.selectFrom('key_store').selectAll().execute();
    expect(keys.map((k) => k.name).sort()).toEqual(['ca-root-sm2-v1', 'download-hmac-v1', 'field-enc-v1', 'field-index-v1', 'platform-sm2-v1', 'tsa-p256-v1', 'tsa-rsa-v1', 'tsa-sm2-v1']); // prettier-ignore
  });

  it('serves OpenAPI JSON from the TypeBox schemas and the UI', async () => {
    const spec = (await app.inject('/api/docs/json')).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/ping',
        '/api/v1/project',
        '/api/v1/application',
        '/healthz',
        '/readyz',
      ]),
    );
    expect(spec.paths['/api/v1/ping'].get.security).toBeDefined();
    const ui = await app.inject('/api/docs');
    expect([200, 302]).toContain(ui.statusCode);
    const page = await app.inject(ui.statusCode === 302 ? String(ui.headers.location) : '/api/docs');
    expect(page.statusCode).toBe(200);
    const asset = await app.inject('/api/docs/static/swagger-initializer.js');
    expect(asset.statusCode).toBe(200);
    expect(String(asset.headers['content-security-policy'])).not.toContain('upgrade-insecure-requests');
  });

  it('NOT_FOUND as problem+json, zh-CN by default, en-US on request, request id as instance', async () => {
    const zh = await app.inject('/nope');
    expect(zh.statusCode).toBe(404);
    expect(zh.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = zh.json();
    expect(body).toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
      title: '资源不存在',
      type: 'urn:yizheng:error:NOT_FOUND',
    });
    expect(body.instance).toMatch(/^[0-9a-f-]{36}$/);
    const en = await app.inject({ url: '/nope', headers: { 'accept-language': 'en-US,en;q=0.9' } });
    expect(en.json()).toMatchObject({ code: 'NOT_FOUND', title: 'Not found' });
    expect(en.headers['content-language']).toBe('en-US');
  });
});

describe('app: Fastify errors map to stable 4xx codes; 500s hide internals', () => {
  const tmp = tempDir();
  let app: FastifyInstance;
  let locked: Sqlite.Database;
  beforeAll(async () => {
    const config = testConfig({ dialect: 'sqlite', file: `${tmp.dir}/yizheng.db` }, tmp.dir, {
      bodyLimit: 1024,
    });
    const { build } = await import('./app.js');
    app = await build(config, { logger: false, jobs: false });
    const { Type } = await import('@fastify/type-provider-typebox');
    app.post(
      '/t/echo',
      { schema: { body: Type.Object({ n: Type.Integer({ minimum: 1 }) }) } },
      (req) => req.body,
    );
    app.get('/t/boom', () => {
      throw new Error('secret database password in a stack trace');
    });
    app.get('/t/http400', () => {
      throw Object.assign(new Error('some library said 400'), { statusCode: 400 });
    });
    app.get('/t/http405', () => {
      throw Object.assign(new Error('wrong method'), { statusCode: 405 });
    });
    app.get('/t/yz', () => {
      throw new YzError('PROJECT_FROZEN', 'prj_1');
    });
    // A real SQLite busy error: another connection holds the write lock of a side database.
    locked = new Sqlite(`${tmp.dir}/side.db`);
    locked.exec('BEGIN IMMEDIATE');
    app.get('/t/busy', () => {
      const other = new Sqlite(`${tmp.dir}/side.db`, { timeout: 0 });
      try {
        other.exec('BEGIN IMMEDIATE');
      } finally {
        other.close();
      }
      return {};
    });
    await app.ready();
  });
  afterAll(async () => {
    locked.close();
    await app.close();
    tmp.remove();
  });

  const post = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/t/echo', payload, headers: { 'content-type': contentType } });

  it('valid JSON passes', async () => {
    expect((await post('{"n":2}')).json()).toEqual({ n: 2 });
  });
  it('REQUEST_BODY_INVALID for malformed JSON, an empty body and prototype poisoning', async () => {
    for (const p of ['{"n":', '', '{"__proto__":{"x":1},"n":1}']) {
      const r = await post(p);
      expect(r.statusCode).toBe(400);
      expect(r.json().code).toBe('REQUEST_BODY_INVALID');
    }
  });
  it('REQUEST_VALIDATION for a schema violation', async () => {
    const r = await post('{"n":0}');
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('REQUEST_VALIDATION');
  });
  it('REQUEST_BODY_TOO_LARGE above the configured limit', async () => {
    const r = await post(JSON.stringify({ n: 1, pad: 'x'.repeat(2000) }));
    expect(r.statusCode).toBe(413);
    expect(r.json().code).toBe('REQUEST_BODY_TOO_LARGE');
  });
  it('REQUEST_MEDIA_TYPE_UNSUPPORTED for an unknown content type', async () => {
    const r = await post('n=1', 'application/x-www-form-urlencoded');
    expect(r.statusCode).toBe(415);
    expect(r.json().code).toBe('REQUEST_MEDIA_TYPE_UNSUPPORTED');
  });
  it('REQUEST_INVALID and METHOD_NOT_ALLOWED for other 4xx errors raised by libraries', async () => {
    const r = await app.inject('/t/http400');
    expect(`${r.statusCode} ${r.json().code}`).toBe('400 REQUEST_INVALID');
    expect(r.body).not.toContain('some library');
    const m = await app.inject('/t/http405');
    expect(`${m.statusCode} ${m.json().code}`).toBe('405 METHOD_NOT_ALLOWED');
  });
  it('catalogue errors keep their code and status', async () => {
    const r = await app.inject('/t/yz');
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ code: 'PROJECT_FROZEN', detail: 'prj_1' });
  });
  it('DATABASE_BUSY (503, Retry-After) when the database aborted the statement for a concurrent writer', async () => {
    const r = await app.inject('/t/busy');
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect(r.json()).toMatchObject({ code: 'DATABASE_BUSY', title: '数据库繁忙，请求未执行，请稍后重试' });
    expect(r.body).not.toContain('side.db');
  });
  it('INTERNAL: a 500 says nothing about the cause', async () => {
    const r = await app.inject('/t/boom');
    expect(r.statusCode).toBe(500);
    expect(r.json()).toMatchObject({ code: 'INTERNAL', title: '服务器内部错误', detail: '服务器内部错误' });
    expect(r.body).not.toContain('secret');
  });
});

describe('app: rate limit', () => {
  const tmp = tempDir();
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(
      testConfig({ dialect: 'sqlite', file: `${tmp.dir}/yizheng.db` }, tmp.dir, { rateLimitPerMinute: 2 }),
    );
  });
  afterAll(async () => {
    await app.close();
    tmp.remove();
  });
  it('RATE_LIMITED (429) past the per-minute budget', async () => {
    await app.inject('/healthz');
    await app.inject('/healthz');
    const r = await app.inject('/healthz');
    expect(r.statusCode).toBe(429);
    expect(r.json().code).toBe('RATE_LIMITED');
    expect(r.headers['retry-after']).toBeDefined();
  });
});

describe('app: readiness', () => {
  it('NOT_READY (503) on /readyz when the database stops answering', async () => {
    const tmp = tempDir();
    try {
      const { openMigrated } = await import('./testing/app.js');
      const db = await openMigrated({ dialect: 'sqlite', file: `${tmp.dir}/yizheng.db` });
      const app = await testApp(testConfig({ dialect: 'sqlite', file: `${tmp.dir}/yizheng.db` }, tmp.dir), {
        db,
      });
      expect((await app.inject('/readyz')).statusCode).toBe(200);
      await db.close();
      const r = await app.inject('/readyz');
      expect(`${r.statusCode} ${r.json().code}`).toBe('503 NOT_READY');
      expect((await app.inject('/healthz')).statusCode).toBe(200);
      await app.close();
    } finally {
      tmp.remove();
    }
  });
});

describe('app: refused starts', () => {
  it('KEK_INVALID when the KEK file is readable by others; nothing is left open', async () => {
    const tmp = tempDir();
    try {
      const { writeFileSync, chmodSync } = await import('node:fs');
      writeFileSync(`${tmp.dir}/kek.key`, `${'00'.repeat(16)}\n`);
      chmodSync(`${tmp.dir}/kek.key`, 0o644);
      const { isStartupError } = await import('./startup-error.js');
      let err: unknown;
      try {
        await testApp(testConfig({ dialect: 'sqlite', file: `${tmp.dir}/yizheng.db` }, tmp.dir));
      } catch (e) {
        err = e;
      }
      expect(isStartupError(err, 'KEK_INVALID')).toBe(true);
    } finally {
      tmp.remove();
    }
  });

  it('DB_MIGRATION_PENDING when migrations are not to run on start and the schema is behind', async () => {
    const tmp = tempDir();
    try {
      const { isStartupError } = await import('./startup-error.js');
      let err: unknown;
      try {
        await testApp(
          testConfig({ dialect: 'sqlite', file: `${tmp.dir}/yizheng.db` }, tmp.dir, {
            migrateOnStart: false,
          }),
        );
      } catch (e) {
        err = e;
      }
      expect(isStartupError(err, 'DB_MIGRATION_PENDING')).toBe(true);
    } finally {
      tmp.remove();
    }
  });
});
