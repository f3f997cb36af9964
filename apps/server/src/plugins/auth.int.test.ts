/**
 * The signed application API, end to end through app.inject(), on every available database: signing with
 * @yizheng/gm and with the openssl CLI, and one negative test per rejection code.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sm2, type Sm2PrivateKey } from '@yizheng/gm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../audit/hash-chain.js';
import { toCount } from '../db/connect.js';
import { purgeExpiredNonces } from '../jobs/nonce-purge.js';
import {
  createApplication,
  rotateApplicationKey,
  setApplicationStatus,
  updateApplication,
} from '../modules/applications/service.js';
import { assertProjectActive, createProject, setProjectStatus } from '../modules/projects/service.js';
import { appAuthOf } from './auth.js';
import { authSubjectsChanged, createAuthSubjectCache } from './auth-subjects.js';
import {
  eventually,
  signWithGm,
  signWithOpenssl,
  T0,
  tempDir,
  testApp,
  testConfig,
  type SignedRequestInput,
} from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';

describe.each(testDialects())('signed application API on %s', (dialect) => {
  const tmp = tempDir('yz-auth-');
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let appId: string;
  let key: Sm2PrivateKey;
  let keyFile: string;
  let projectId: string;
  const ctx = () => ({ db: app.db, now: () => T0, actor: 'test' });

  const build = () =>
    testApp(testConfig(tdb.config, tmp.dir), {
      extraSignedRoutes: (scope) => {
        // A stand-in for a data operation (the evidence API comes next): echoes the body it authenticated.
        scope.route({
          method: ['POST', 'PUT'],
          url: '/test/echo',
          handler: (request) => {
            const a = appAuthOf(request);
            assertProjectActive({ id: a.projectId, status: a.projectStatus });
            return { body: request.body, raw: request.rawBody?.toString('utf8') ?? null };
          },
        });
      },
    });

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    app = await build();
    projectId = (await createProject({ ctx: ctx(), number: 'P-AUTH', name: '接口鉴权' })).id;
    const created = await createApplication({ ctx: ctx(), project: 'P-AUTH', name: 'HIS', vendor: '某厂商' });
    appId = created.application.id;
    key = sm2.importPrivateKey(created.privateKeyPem!);
    keyFile = join(tmp.dir, 'app.pem');
    writeFileSync(keyFile, created.privateKeyPem!, { mode: 0o600 });
  });
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  const send = (
    input: Omit<SignedRequestInput, 'appId'> & { appId?: string },
    headers: Record<string, string>,
  ) =>
    app.inject({
      method: input.method as 'GET',
      url: input.url,
      headers: { ...headers, ...(input.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(input.body !== undefined ? { payload: input.body as string } : {}),
    });
  const gm = (input: Omit<SignedRequestInput, 'appId'>) => send(input, signWithGm(key, { appId, ...input }));
  const codeOf = async (p: Promise<{ statusCode: number; json(): unknown }>) => {
    const r = await p;
    return `${r.statusCode} ${(r.json() as { code?: string }).code ?? ''}`;
  };

  it('GET /api/v1/ping signed with @yizheng/gm returns the application and its project', async () => {
    const r = await gm({ method: 'GET', url: '/api/v1/ping' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      pong: true,
      appId,
      keyVersion: 1,
      project: { id: projectId, number: 'P-AUTH', status: 'active' },
      serverTime: T0,
    });
  });

  it('requests signed with the openssl CLI are accepted (query sorted, body hashed as sent)', async () => {
    const ping = { method: 'GET', url: '/api/v1/ping?z=1&a=2&a=1&empty' };
    expect((await send(ping, signWithOpenssl(keyFile, tmp.dir, { appId, ...ping }))).statusCode).toBe(200);
    const post = { method: 'POST', url: '/api/v1/test/echo', body: '{ "患者": "张三",  "n": 1 }' };
    const r = await send(post, signWithOpenssl(keyFile, tmp.dir, { appId, ...post }));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ body: { 患者: '张三', n: 1 }, raw: post.body });
  });

  it('PATH and query are signed as sent: percent-encoding is not decoded, and decoding it breaks the signature', async () => {
    const url = '/api/v1/ping?patient=%E5%BC%A0%E4%B8%89&q=a%20b&q=a+b';
    expect((await gm({ method: 'GET', url })).statusCode).toBe(200);
    const h = signWithGm(key, { appId, method: 'GET', url: '/api/v1/ping?patient=张三&q=a b&q=a+b' });
    const r = await app.inject({ url, headers: h });
    expect(`${r.statusCode} ${r.json().code}`).toBe('401 AUTH_SIGNATURE_INVALID');
  });

  it('GET /api/v1/project and /api/v1/application describe the caller', async () => {
    expect((await gm({ method: 'GET', url: '/api/v1/project' })).json()).toMatchObject({
      id: projectId,
      number: 'P-AUTH',
    });
    const a = (await gm({ method: 'GET', url: '/api/v1/application' })).json();
    expect(a).toMatchObject({
      id: appId,
      name: 'HIS',
      vendor: '某厂商',
      retentionYears: 30,
      defaultTags: [],
    });
    expect(a.publicKeyPem).toBeUndefined();
  });

  it('AUTH_HEADERS_MISSING', async () => {
    expect(await codeOf(app.inject('/api/v1/ping'))).toBe('401 AUTH_HEADERS_MISSING');
    const h = signWithGm(key, { appId, method: 'GET', url: '/api/v1/ping' });
    delete h['x-yz-nonce'];
    expect(await codeOf(app.inject({ url: '/api/v1/ping', headers: h }))).toBe('401 AUTH_HEADERS_MISSING');
  });

  it('AUTH_HEADER_INVALID for a short nonce, a non-numeric timestamp, non-base64 signature', async () => {
    const base = signWithGm(key, { appId, method: 'GET', url: '/api/v1/ping' });
    for (const bad of [
      { 'x-yz-nonce': 'short' },
      { 'x-yz-nonce': 'has space in the nonce!' },
      { 'x-yz-timestamp': '2026-11-24' },
      { 'x-yz-signature': '***' },
    ]) {
      expect(await codeOf(app.inject({ url: '/api/v1/ping', headers: { ...base, ...bad } }))).toBe(
        '401 AUTH_HEADER_INVALID',
      );
    }
  });

  it('AUTH_APP_UNKNOWN', async () => {
    const input = { method: 'GET', url: '/api/v1/ping' };
    expect(await codeOf(send(input, signWithGm(key, { ...input, appId: 'app_nobody' })))).toBe(
      '401 AUTH_APP_UNKNOWN',
    );
  });

  it('AUTH_TIMESTAMP_SKEW beyond 300 s either way; exactly 300 s is accepted', async () => {
    expect(await codeOf(gm({ method: 'GET', url: '/api/v1/ping', timestamp: T0 - 300_001 }))).toBe(
      '401 AUTH_TIMESTAMP_SKEW',
    );
    expect(await codeOf(gm({ method: 'GET', url: '/api/v1/ping', timestamp: T0 + 300_001 }))).toBe(
      '401 AUTH_TIMESTAMP_SKEW',
    );
    expect((await gm({ method: 'GET', url: '/api/v1/ping', timestamp: T0 - 300_000 })).statusCode).toBe(200);
  });

  it('AUTH_SIGNATURE_INVALID for any changed byte: method, path, query, body, timestamp, nonce; a foreign key; garbage', async () => {
    const body = '{"a":1}';
    const h = signWithGm(key, { appId, method: 'POST', url: '/api/v1/test/echo?x=1', body });
    const tries = [
      { method: 'PUT', url: '/api/v1/test/echo?x=1', payload: body, headers: h },
      { method: 'POST', url: '/api/v1/test/echo?x=2', payload: body, headers: h },
      { method: 'POST', url: '/api/v1/test/echo?x=1', payload: '{"a":2}', headers: h },
      { method: 'POST', url: '/api/v1/test/echo?x=1', payload: '{"a":1} ', headers: h },
      {
        method: 'POST',
        url: '/api/v1/test/echo?x=1',
        payload: body,
        headers: { ...h, 'x-yz-timestamp': String(T0 + 1) },
      },
      {
        method: 'POST',
        url: '/api/v1/test/echo?x=1',
        payload: body,
        headers: { ...h, 'x-yz-nonce': 'another-nonce-0000001' },
      },
    ];
    for (const t of tries) {
      const r = await app.inject({
        ...t,
        method: t.method as 'POST',
        headers: { ...t.headers, 'content-type': 'application/json' },
      });
      expect(`${r.statusCode} ${r.json().code}`).toBe('401 AUTH_SIGNATURE_INVALID');
    }
    const stranger = sm2.generateKeyPair().privateKey;
    const input = { method: 'GET', url: '/api/v1/ping' };
    expect(await codeOf(send(input, signWithGm(stranger, { ...input, appId })))).toBe(
      '401 AUTH_SIGNATURE_INVALID',
    );
    const junk = {
      ...signWithGm(key, { ...input, appId }),
      'x-yz-signature': Buffer.from('not DER at all').toString('base64'),
    };
    expect(await codeOf(app.inject({ url: '/api/v1/ping', headers: junk }))).toBe(
      '401 AUTH_SIGNATURE_INVALID',
    );
  });

  it('AUTH_NONCE_REPLAY, also after a restart; purged once expired', async () => {
    const h = signWithGm(key, { appId, method: 'GET', url: '/api/v1/ping', nonce: 'replay-me-0123456789' });
    expect((await app.inject({ url: '/api/v1/ping', headers: h })).statusCode).toBe(200);
    expect(await codeOf(app.inject({ url: '/api/v1/ping', headers: h }))).toBe('401 AUTH_NONCE_REPLAY');
    await app.close();
    app = await build();
    expect(await codeOf(app.inject({ url: '/api/v1/ping', headers: h }))).toBe('401 AUTH_NONCE_REPLAY');
    // The nonce expires with its replay window: purge deletes it, and the guard refuses the old timestamp anyway.
    expect(await purgeExpiredNonces({ db: app.db, now: T0 })).toBe(0);
    expect(await purgeExpiredNonces({ db: app.db, now: T0 + 24 * 3600_000 })).toBeGreaterThan(0);
  });

  it('AUTH_KEY_REVOKED after rotation; the new key works', async () => {
    const rotated = await rotateApplicationKey({ ctx: ctx(), id: appId });
    expect(rotated.application.keyVersion).toBe(2);
    expect(await codeOf(gm({ method: 'GET', url: '/api/v1/ping' }))).toBe('401 AUTH_KEY_REVOKED');
    key = sm2.importPrivateKey(rotated.privateKeyPem!);
    const r = await gm({ method: 'GET', url: '/api/v1/ping' });
    expect(r.statusCode).toBe(200);
    expect(r.json().keyVersion).toBe(2);
  });

  it('AUTH_APP_FROZEN (403) while frozen; accepted again once unfrozen', async () => {
    await setApplicationStatus({ ctx: ctx(), ids: [appId], status: 'frozen' });
    expect(await codeOf(gm({ method: 'GET', url: '/api/v1/ping' }))).toBe('403 AUTH_APP_FROZEN');
    await setApplicationStatus({ ctx: ctx(), ids: [appId], status: 'active' });
    expect((await gm({ method: 'GET', url: '/api/v1/ping' })).statusCode).toBe(200);
  });

  it('PROJECT_FROZEN (403) for data operations of a frozen project; ping still answers', async () => {
    await setProjectStatus({ ctx: ctx(), refs: [projectId], status: 'frozen' });
    expect(await codeOf(gm({ method: 'POST', url: '/api/v1/test/echo', body: '{}' }))).toBe(
      '403 PROJECT_FROZEN',
    );
    expect((await gm({ method: 'GET', url: '/api/v1/ping' })).json().project.status).toBe('frozen');
    await setProjectStatus({ ctx: ctx(), refs: [projectId], status: 'active' });
  });

  it('malformed JSON is a 400 before authentication (the body must be read to be hashed), never a 500', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/test/echo',
      payload: '{bad',
      headers: { 'content-type': 'application/json' },
    });
    expect(`${r.statusCode} ${r.json().code}`).toBe('400 REQUEST_BODY_INVALID');
  });

  it('the shell pipeline of the README (printf | openssl dgst -sm3; openssl pkeyutl -sign | base64) is accepted', async () => {
    const pem = join(tmp.dir, 'current.pem');
    writeFileSync(pem, key.toPem(), { mode: 0o600 });
    const script = [
      'set -e',
      `APP=${appId}; TS=${T0}; NONCE=readme-$(printf %020d 7)`,
      "BODY_SM3=$(printf '' | openssl dgst -sm3 -r | cut -d' ' -f1)",
      'printf \'GET\\n/api/v1/ping\\n\\n%s\\n%s\\n%s\' "$TS" "$NONCE" "$BODY_SM3" > ' +
        join(tmp.dir, 'tosign.txt'),
      `SIG=$(openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:1234567812345678 -inkey ${pem} -in ${join(tmp.dir, 'tosign.txt')} | base64 -w0)`,
      'printf "%s %s %s %s" "$APP" "$TS" "$NONCE" "$SIG"',
    ].join('\n');
    const [a, ts, nonce, sig] = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split(' ');
    const r = await app.inject({
      url: '/api/v1/ping',
      headers: { 'x-yz-app': a!, 'x-yz-timestamp': ts!, 'x-yz-nonce': nonce!, 'x-yz-signature': sig! },
    });
    expect(r.statusCode).toBe(200);
  });

  it('every call is in the hash-chained API log (接口日志): status, code, headers with the signature redacted', async () => {
    expect((await gm({ method: 'GET', url: '/api/v1/ping?visit=V1' })).statusCode).toBe(200);
    const count = async () =>
      toCount(
        (
          await app.db
            .selectFrom('api_logs')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const denied = await app.inject('/api/v1/ping');
    const deniedId = denied.json().instance as string;
    await eventually(
      async () =>
        (await app.db
          .selectFrom('api_logs')
          .select('seq')
          .where('request_id', '=', deniedId)
          .executeTakeFirst()) !== undefined,
    );
    expect(await count()).toBeGreaterThan(10);
    const row = await app.db
      .selectFrom('api_logs')
      .selectAll()
      .where('request_id', '=', deniedId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 401,
      error_code: 'AUTH_HEADERS_MISSING',
      app_id: null,
      path: '/api/v1/ping',
    });
    await eventually(
      async () =>
        (await app.db
          .selectFrom('api_logs')
          .select('seq')
          .where('params', '=', '{"visit":"V1"}')
          .executeTakeFirst()) !== undefined,
    );
    const ok = await app.db
      .selectFrom('api_logs')
      .selectAll()
      .where('params', '=', '{"visit":"V1"}')
      .executeTakeFirstOrThrow();
    expect(ok).toMatchObject({ status: 200, app_id: appId, project_id: projectId, error_code: null });
    expect(JSON.parse(ok.headers)['x-yz-signature']).toBe('[redacted]');
    expect(ok.response).toContain('"pong":true');
    expect(await verifyChain({ db: app.db, table: 'api_logs' })).toMatchObject({ ok: true });
  });

  it('the subject cache: changes through the services apply at once, other writers within the TTL', async () => {
    let clock = T0;
    const cache = createAuthSubjectCache({ db: app.db, now: () => clock, ttlMs: 2_000 });
    try {
      expect(await cache.get('app_does_not_exist')).toBeUndefined();
      expect((await cache.get(appId))?.status).toBe('active');
      // Another process (the CLI, a second server) freezes the application behind our back.
      await app.db.updateTable('applications').set({ status: 'frozen' }).where('id', '=', appId).execute();
      expect((await cache.get(appId))?.status).toBe('active');
      clock += 2_000;
      expect((await cache.get(appId))?.status).toBe('frozen');
      await app.db.updateTable('applications').set({ status: 'active' }).where('id', '=', appId).execute();
      authSubjectsChanged();
      expect((await cache.get(appId))?.status).toBe('active');
      // The default tags travel with the subject (merged into pushed records).
      await updateApplication({ ctx: ctx(), id: appId, defaultTags: ['门诊'] });
      expect((await cache.get(appId))?.default_tags).toBe('["门诊"]');
      await updateApplication({ ctx: ctx(), id: appId, defaultTags: [] });
    } finally {
      cache.close();
    }
  });
});
