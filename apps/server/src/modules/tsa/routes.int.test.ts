/**
 * The TSA inside the whole app (build()): `POST /tsa` is public (no signed-API headers), the internal CA is
 * created on first start and kept across a restart, and `POST /api/v1/timestamps/verify` (signed) verifies
 * tokens against data or a digest, saying whether they chain to the internal root.
 */
import { createHash } from 'node:crypto';
import { sm2, type Sm2PrivateKey } from '@yizheng/gm';
import { buildTimeStampReq, gmSm2Provider, parseCertificate, verifyTimeStampToken } from '@yizheng/pki';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication } from '../applications/service.js';
import { createProject } from '../projects/service.js';
import { signWithGm, T0, tempDir, testApp, testConfig } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';

describe.each(testDialects())('TSA in the app on %s', (dialect) => {
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let appId = '';
  let key: Sm2PrivateKey;
  const tmp = tempDir();
  const config = () => testConfig(tdb.config, tmp.dir);

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    app = await testApp(config());
    const ctx = { db: app.db, now: () => T0, actor: 'test' };
    await createProject({ ctx, number: 'P-TSA', name: '时间戳' });
    const created = await createApplication({ ctx, project: 'P-TSA', name: 'EMR', vendor: '厂商' });
    appId = created.application.id;
    key = sm2.importPrivateKey(created.privateKeyPem!);
  });
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  const stamp = async (body: Uint8Array, url = '/tsa'): Promise<Uint8Array> => {
    const r = await app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/timestamp-query' },
      payload: Buffer.from(body),
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/timestamp-reply');
    return new Uint8Array(r.rawPayload);
  };
  const verify = (body: Readonly<Record<string, string | undefined>>) => {
    const payload = JSON.stringify(body);
    const url = '/api/v1/timestamps/verify';
    return app.inject({
      method: 'POST',
      url,
      payload,
      headers: {
        'content-type': 'application/json',
        ...signWithGm(key, { method: 'POST', url, body: payload, appId }),
      },
    });
  };

  it('stamps without signed-API headers, with the TSA certificate the internal root issued', async () => {
    const data = new TextEncoder().encode('电子病历');
    const req = buildTimeStampReq({
      data,
      hash: 'sm3',
      nonce: true,
      algorithmPolicy: { sm2: gmSm2Provider },
    });
    const token = await stamp(req.der);
    const v = verifyTimeStampToken({
      token,
      data,
      trustAnchors: [app.ca.root],
      policy: { sm2: gmSm2Provider },
    });
    expect(v.valid).toBe(true);
    expect(v.nonce).toBe(req.nonce);
  });

  it('POST /api/v1/timestamps/verify: valid and trusted over data or digest; invalid for other data', async () => {
    const data = new TextEncoder().encode('检验报告');
    const req = buildTimeStampReq({ data, hash: 'sha256', nonce: 42n });
    const token = Buffer.from(await stamp(req.der, '/tsa/rsa')).toString('base64');
    const byData = await verify({ token, data: Buffer.from(data).toString('base64'), nonce: '42' });
    expect(byData.statusCode).toBe(200);
    expect(byData.json()).toMatchObject({
      valid: true,
      trusted: true,
      nonce: '42',
      hashAlgorithm: '2.16.840.1.101.3.4.2.1',
    });
    const digest = createHash('sha256').update(data).digest('hex');
    expect((await verify({ token, digest })).json()).toMatchObject({ valid: true, trusted: true });
    const other = await verify({ token, data: Buffer.from('改过').toString('base64') });
    expect(other.json<{ valid: boolean; failures: { code: string }[] }>().valid).toBe(false);
    expect(other.json<{ failures: { code: string }[] }>().failures.length).toBeGreaterThan(0);
  });

  it('REQUEST_BODY_INVALID without data and digest, with both, or with a non-base64 token', async () => {
    const token = Buffer.from(
      await stamp(buildTimeStampReq({ data: new Uint8Array([1]), hash: 'sha256' }).der, '/tsa/p256'),
    ).toString('base64');
    for (const body of [
      { token },
      { token, data: 'AQ==', digest: '00'.repeat(32) },
      { token: '***', data: 'AQ==' },
    ]) {
      const r = await verify(body);
      expect(r.statusCode).toBe(400);
      expect(r.json<{ code: string }>().code).toBe('REQUEST_BODY_INVALID');
    }
  });

  it('publishes the internal root and the platform chain without signing', async () => {
    const root = await app.inject({ method: 'GET', url: '/ca/root.pem' });
    expect(root.statusCode).toBe(200);
    expect(root.headers['content-type']).toMatch(/application\/x-pem-file/);
    expect(parseCertificate(root.body).subject).toBe(app.ca.root.subject);
    const chain = await app.inject({ method: 'GET', url: '/ca/platform-chain.pem' });
    expect(chain.body.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('keeps the same CA and TSA certificates across a restart', async () => {
    const before = Buffer.from(app.ca.tsa.get('sm2')!.certificate.der).toString('base64');
    const again = await testApp(config());
    try {
      expect(Buffer.from(again.ca.tsa.get('sm2')!.certificate.der).toString('base64')).toBe(before);
      expect(Buffer.from(again.ca.root.der).equals(Buffer.from(app.ca.root.der))).toBe(true);
    } finally {
      await again.close();
    }
  });
});
