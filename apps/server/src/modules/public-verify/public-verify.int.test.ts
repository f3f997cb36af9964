/**
 * The public verification endpoints end to end: a real SM2 CMS record under a signed checkpoint; its proof
 * material served without login to the holder of its verification code (the code the report's QR link
 * carries), nothing sensitive in it; a wrong code and an unknown id answered alike; the live log's checkpoint
 * and consistency proofs; malformed input → 400 problem+json; a database tamper shows as recordIntact false;
 * the per-address rate limit → 429.
 */
import { sm2, sm3, type Sm2PrivateKey } from '@yizheng/gm';
import {
  createLogHasher,
  createSm2NoteVerifier,
  openCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '@yizheng/ledger';
import {
  nodeCrypto,
  verifyLiveConsistency,
  verifyRecordProof,
  type PublicCheckpoint,
  type PublicRecordProof,
} from '@yizheng/evidence';
import { unzipSync } from 'fflate';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrateAll, publishCheckpoint } from '../../log/index.js';
import { checkpointStamp, stampCheckpoints } from '../../log/stamper.js';
import { tsaCheckpointStamper } from '../tsa/checkpoint-stamper.js';
import { signWithGm, T0, tempDir, testApp, testConfig } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { createApplication } from '../applications/service.js';
import { makePki, type Pki } from '../evidence/fixtures.test-support.js';
import { createProject } from '../projects/service.js';
import { createLimiter } from './limiter.js';
import { isVerificationCode, verificationCode } from './code.js';

const ORIGINAL = new TextEncoder().encode('出院小结：患者恢复良好。');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
let pki: Pki;
beforeAll(() => {
  pki = makePki();
});

describe('public verification limiter', () => {
  it('allows max a window per client, then refuses until the window passes; bounded clients', () => {
    const l = createLimiter(3, 2);
    expect([1, 2, 3, 4].map(() => l.take('a', 0))).toEqual([true, true, true, false]);
    expect(l.take('b', 10)).toBe(true);
    expect(l.take('a', 60_000)).toBe(true);
    l.take('c', 60_001); // evicts the oldest window
    expect(l.take('b', 60_002)).toBe(true);
  });
});

describe.each(testDialects())('public verification on %s', (dialect) => {
  const tmp = tempDir('yz-pub-');
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let client: { appId: string; key: Sm2PrivateKey };
  const ids: string[] = [];

  const signed = (method: 'GET' | 'POST', url: string, body?: string) =>
    app.inject({
      method,
      url,
      headers: {
        ...signWithGm(client.key, { method, url, appId: client.appId, ...(body ? { body } : {}) }),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { payload: body } : {}),
    });
  const record = (id: string, code: string) =>
    app.inject({ method: 'GET', url: `/api/v1/public/records/${id}`, headers: { 'x-yz-verify-code': code } });

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    app = await testApp(testConfig(tdb.config, tmp.dir, { bodyLimit: 4 * 1024 * 1024 }), { now: () => T0 });
    const ctx = { db: app.db, now: () => T0, actor: 'test' };
    await createProject({ ctx, number: 'P-V', name: '公开核验' });
    const c = await createApplication({ ctx, project: 'P-V', name: 'EMR', vendor: '厂商' });
    client = { appId: c.application.id, key: sm2.importPrivateKey(c.privateKeyPem!) };
    for (const serial of ['CY-1', 'CY-2']) {
      const body = JSON.stringify({
        serialNumber: serial,
        patient: { id: '110101199003074518', name: '王五', visitNumber: 'V-9' },
        signer: '赵医生',
        signature: { format: 'cms', value: b64(pki.sm2Cms(ORIGINAL, { detached: true })) },
        original: b64(ORIGINAL),
      });
      const r = await signed('POST', '/api/v1/signatures', body);
      expect(r.statusCode).toBe(201);
      ids.push(r.json<{ id: string }>().id);
      await integrateAll({ db: app.db, now: () => T0 });
      await publishCheckpoint({ db: app.db, key: app.platformKey, now: T0, minIntervalMs: 0 });
    }
    // The platform TSA stamps the checkpoints, as the checkpoint job does.
    const run = await stampCheckpoints({ db: app.db, stamper: tsaCheckpointStamper(app.tsa), now: T0 });
    expect(run.stamped).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  it("serves a record's proof material for its code: it verifies, and carries nothing sensitive", async () => {
    const id = ids[0]!;
    const r = await record(id, verificationCode(app.platformKey, id));
    expect(r.statusCode).toBe(200);
    const body = r.json<{
      evidenceHash: string;
      recordIntact: boolean;
      log: {
        hash: 'sm3';
        origin: string;
        index: number;
        treeSize: number;
        proof: string[];
        checkpoint: string;
      };
    }>();
    expect(body.recordIntact).toBe(true);
    for (const secret of ['王五', '赵医生', '110101199003074518', 'V-9', 'CY-1', b64(ORIGINAL)])
      expect(r.body).not.toContain(secret);
    const opened = openCheckpoint(
      body.log.checkpoint,
      [createSm2NoteVerifier({ sm2, sm3 }, { name: body.log.origin, publicKey: app.platformKey.publicKey })],
      { origin: body.log.origin },
    );
    const hasher = createLogHasher('sm3', (d) => sm3(d));
    verifyInclusion(
      hasher,
      body.log.index,
      body.log.treeSize,
      hasher.hashLeaf(hex(body.evidenceHash)),
      body.log.proof.map(hex),
      opened.checkpoint.rootHash,
    );
  });

  it('@yizheng/evidence verifies the served material: inclusion, checkpoint signature and stamp; a forged proof fails', async () => {
    const id = ids[0]!;
    const proof = (await record(id, verificationCode(app.platformKey, id))).json<PublicRecordProof>();
    const checks = verifyRecordProof(proof, nodeCrypto, app.ca.root.der);
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(checks.find((c) => c.check === 'inclusion')?.status).toBe('pass');
    expect(checks.find((c) => c.check === 'checkpoint-signature')?.status).toBe('pass');
    for (const name of [
      'timestamp-signature',
      'timestamp-imprint',
      'timestamp-tsa-eku',
      'timestamp-tsa-chain',
    ])
      expect(checks.find((c) => c.check === name)?.status, name).toBe('pass');
    // The stamp of the first checkpoint does not stamp the latest one.
    const first = await checkpointStamp(app.db, 1);
    const swapped = { ...proof, log: { ...proof.log!, checkpointTimestamp: b64(first!) } };
    expect(
      verifyRecordProof(swapped, nodeCrypto, app.ca.root.der).find((c) => c.check === 'timestamp-imprint')
        ?.status,
    ).toBe('fail');
    const forged = { ...proof, evidenceHash: '00'.repeat(32) };
    expect(
      verifyRecordProof(forged, nodeCrypto, app.ca.root.der).find((c) => c.check === 'inclusion')?.status,
    ).toBe('fail');
    const old = (await signed('GET', '/api/v1/log/checkpoint?size=1')).json<{
      rootHash: string;
      origin: string;
    }>();
    const latest = (
      await app.inject({ method: 'GET', url: '/api/v1/public/log/checkpoint' })
    ).json<PublicCheckpoint>();
    const consistency = (
      await app.inject({ method: 'GET', url: `/api/v1/public/log/consistency?from=1&to=${latest.size}` })
    ).json<{ from: number; to: number; proof: string[] }>();
    const base = {
      logHash: 'sm3' as const,
      latest,
      consistency,
      platformChain: latest.platformChain,
      root: app.ca.root.der,
      crypto: nodeCrypto,
    };
    const cp = { origin: old.origin, size: 1, rootHash: Buffer.from(old.rootHash, 'base64').toString('hex') };
    const live = verifyLiveConsistency({ ...base, checkpoint: cp });
    expect(live.filter((c) => c.status === 'fail')).toEqual([]);
    expect(live.find((c) => c.check === 'consistency')?.status).toBe('pass');
    const bad = verifyLiveConsistency({ ...base, checkpoint: { ...cp, rootHash: '11'.repeat(32) } });
    expect(bad.find((c) => c.check === 'consistency')?.status).toBe('fail');
  });

  it('PUBLIC_VERIFY_NOT_FOUND alike for a wrong code and an unknown id; 400 for a malformed one', async () => {
    const id = ids[0]!;
    const wrong = await record(id, verificationCode(app.platformKey, ids[1]!));
    const unknown = await record('sig_000000000000000000000000', verificationCode(app.platformKey, id));
    for (const r of [wrong, unknown]) {
      expect(r.statusCode).toBe(404);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json<{ code: string }>().code).toBe('PUBLIC_VERIFY_NOT_FOUND');
    }
    expect(wrong.json<{ detail?: string }>().detail).toBe(unknown.json<{ detail?: string }>().detail);
    expect(isVerificationCode(app.platformKey, id, verificationCode(app.platformKey, id))).toBe(true);
    for (const r of [
      await app.inject({ method: 'GET', url: `/api/v1/public/records/${id}` }),
      await record(id, 'short'),
      await record('x'.repeat(65), verificationCode(app.platformKey, id)),
      await record('a%2Fb', verificationCode(app.platformKey, id)),
    ]) {
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
    }
  });

  it("the report's QR link carries the code in its fragment", async () => {
    const id = ids[0]!;
    const zip = new Uint8Array((await signed('GET', `/api/v1/signatures/${id}/package`)).rawPayload);
    const content = JSON.parse(new TextDecoder().decode(unzipSync(zip)['report/content.json'])) as {
      view: { verifyUrl: string };
    };
    const m = /\/verify\/([^#?]+)#c=([A-Za-z0-9_-]{22})$/.exec(content.view.verifyUrl);
    expect(m?.[1]).toBe(id);
    expect((await record(id, m![2]!)).statusCode).toBe(200);
  });

  it('the live checkpoint and consistency proofs, without login; malformed sizes → 400', async () => {
    const cp = await app.inject({ method: 'GET', url: '/api/v1/public/log/checkpoint' });
    expect(cp.statusCode).toBe(200);
    const latest = cp.json<{ size: number; rootHash: string; platformChain: string; note: string }>();
    expect(latest.platformChain).toContain('BEGIN CERTIFICATE');
    // The first checkpoint (size 1, as a package made then would hold it) is a prefix of the latest.
    const old = (await signed('GET', '/api/v1/log/checkpoint?size=1')).json<{
      note: string;
      origin: string;
    }>();
    const opened = openCheckpoint(
      old.note,
      [createSm2NoteVerifier({ sm2, sm3 }, { name: old.origin, publicKey: app.platformKey.publicKey })],
      { origin: old.origin },
    );
    expect(opened.checkpoint.size).toBe(1);
    const c = await app.inject({
      method: 'GET',
      url: `/api/v1/public/log/consistency?from=1&to=${latest.size}`,
    });
    expect(c.statusCode).toBe(200);
    const proof = c.json<{ proof: string[] }>().proof.map(hex);
    expect(proof.length).toBeGreaterThan(0);
    const hasher = createLogHasher('sm3', (d) => sm3(d));
    verifyConsistency(hasher, 1, latest.size, proof, opened.checkpoint.rootHash, hex(latest.rootHash));
    const forged = proof.map((p) => p.map((b, i) => (i === 0 ? b ^ 1 : b)));
    expect(() =>
      verifyConsistency(hasher, 1, latest.size, forged, opened.checkpoint.rootHash, hex(latest.rootHash)),
    ).toThrow();
    for (const [q, code] of [
      ['from=0&to=1', 'LOG_PARAMETER_INVALID'],
      [`from=1&to=${latest.size + 100}`, 'LOG_SIZE_OUT_OF_RANGE'],
      ['from=abc&to=1', 'REQUEST_VALIDATION'],
      ['from=1', 'REQUEST_VALIDATION'],
    ] as const) {
      const r = await app.inject({ method: 'GET', url: `/api/v1/public/log/consistency?${q}` });
      expect(r.statusCode, q).toBe(400);
      expect(r.json<{ code: string }>().code, q).toBe(code);
    }
  });

  it('a database tamper shows as recordIntact false', async () => {
    const id = ids[1]!;
    await app.db.updateTable('evidence').set({ signer: '篡改' }).where('id', '=', id).execute();
    const r = await record(id, verificationCode(app.platformKey, id));
    expect(r.json<{ recordIntact: boolean }>().recordIntact).toBe(false);
  });

  it('RATE_LIMITED (429 problem+json) past the per-address limit', async () => {
    let last = await app.inject({ method: 'GET', url: '/api/v1/public/log/checkpoint' });
    for (let i = 0; i < 130 && last.statusCode !== 429; i++)
      last = await app.inject({ method: 'GET', url: '/api/v1/public/log/checkpoint' });
    expect(last.statusCode).toBe(429);
    expect(last.json<{ code: string }>().code).toBe('RATE_LIMITED');
  });
});
