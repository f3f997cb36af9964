/**
 * The log routes end to end (signed requests through app.inject()) on every available database: a client that
 * trusts only the platform public key verifies checkpoints, inclusion and consistency proofs with
 * `@yizheng/ledger`; bad and out-of-range parameters are 4xx problems with stable codes.
 */
import { sm2, type Sm2PrivateKey } from '@yizheng/gm';
import { createSm2NoteVerifier, openCheckpoint, verifyConsistency, verifyInclusion } from '@yizheng/ledger';
import { sm3LogHasher } from '@yizheng/ledger/node';
import { sm3 } from '@yizheng/gm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendLeaves, integrateAll, publishCheckpoint } from '../../log/index.js';
import { createApplication } from '../applications/service.js';
import { createProject } from '../projects/service.js';
import { signWithGm, T0, tempDir, testApp, testConfig } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { isStartupError } from '../../startup-error.js';

const ORIGIN = 'routes.test/log';
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

interface CheckpointBody {
  origin: string;
  hash: string;
  size: number;
  rootHash: string;
  note: string;
  createdAt: string;
  publicKey: string;
}

describe.each(testDialects())('log routes on %s', (dialect) => {
  const tmp = tempDir('yz-logr-');
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let appId: string;
  let key: Sm2PrivateKey;
  const entries = Array.from({ length: 77 }, (_, i) => utf8(`route-entry-${i}`));
  const config = () =>
    testConfig(tdb.config, tmp.dir, {
      log: { hash: 'sm3', origin: ORIGIN, checkpointIntervalMs: 0, integrateIntervalMs: 100 },
    });

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    app = await testApp(config());
    const ctx = { db: app.db, now: () => T0, actor: 'test' };
    await createProject({ ctx, number: 'P-LOG', name: '日志' });
    const created = await createApplication({ ctx, project: 'P-LOG', name: 'HIS', vendor: '厂商' });
    appId = created.application.id;
    key = sm2.importPrivateKey(created.privateKeyPem!);
  });
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  const get = (url: string) =>
    app.inject({ method: 'GET', url, headers: signWithGm(key, { method: 'GET', url, appId }) });

  async function grow(from: number, to: number, now: number): Promise<void> {
    await app.db.transaction().execute((trx) => appendLeaves(trx, entries.slice(from, to)));
    await integrateAll({ db: app.db, now: () => now });
    await publishCheckpoint({ db: app.db, key: app.platformKey, now, minIntervalMs: 0 });
  }

  it('503 LOG_NOT_READY before the first checkpoint; unsigned calls are refused', async () => {
    const r = await get('/api/v1/log/checkpoint');
    expect(r.statusCode).toBe(503);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(r.json<{ code: string }>().code).toBe('LOG_NOT_READY');
    const unsigned = await app.inject({ method: 'GET', url: '/api/v1/log/checkpoint' });
    expect(unsigned.statusCode).toBe(401);
    const noSize = await get('/api/v1/log/proofs/inclusion?index=0');
    expect(noSize.json<{ code: string }>().code).toBe('LOG_NOT_READY');
  });

  it('a client holding only the platform public key verifies checkpoints and proofs', async () => {
    await grow(0, 10, T0);
    await grow(10, 40, T0 + 1);
    await grow(40, 77, T0 + 2);
    const r = await get('/api/v1/log/checkpoint');
    expect(r.statusCode).toBe(200);
    const latest = r.json<CheckpointBody>();
    expect(latest).toMatchObject({ origin: ORIGIN, hash: 'sm3', size: 77 });
    const verifier = createSm2NoteVerifier(
      { sm2, sm3 },
      { name: ORIGIN, publicKey: sm2.importPublicKey(latest.publicKey) },
    );
    expect(latest.publicKey).toBe(app.platformKey.publicKey.toPem());
    const roots = new Map<number, Uint8Array>();
    for (const size of [10, 40, 77]) {
      const c = await get(`/api/v1/log/checkpoint?size=${size}`);
      const body = c.json<CheckpointBody>();
      const { checkpoint } = openCheckpoint(body.note, [verifier], { origin: ORIGIN });
      expect(checkpoint.size).toBe(size);
      expect(Buffer.from(checkpoint.rootHash).toString('base64')).toBe(body.rootHash);
      roots.set(size, checkpoint.rootHash);
    }
    for (const [size, root] of roots) {
      for (const index of [0, 9, size - 1]) {
        const p = await get(`/api/v1/log/proofs/inclusion?index=${index}&size=${size}`);
        expect(p.statusCode).toBe(200);
        const body = p.json<{ index: number; treeSize: number; leafHash: string; proof: string[] }>();
        expect(body.leafHash).toBe(Buffer.from(sm3LogHasher.hashLeaf(entries[index]!)).toString('base64'));
        verifyInclusion(
          sm3LogHasher,
          index,
          size,
          sm3LogHasher.hashLeaf(entries[index]!),
          body.proof.map(fromB64),
          root,
        );
      }
    }
    const dflt = await get('/api/v1/log/proofs/inclusion?index=5');
    expect(dflt.json<{ treeSize: number }>().treeSize).toBe(77);
    for (const [m, n] of [
      [10, 40],
      [10, 77],
      [40, 77],
      [77, 77],
    ] as const) {
      const p = await get(`/api/v1/log/proofs/consistency?from=${m}&to=${n}`);
      expect(p.statusCode).toBe(200);
      const body = p.json<{ from: number; to: number; proof: string[] }>();
      verifyConsistency(sm3LogHasher, m, n, body.proof.map(fromB64), roots.get(m)!, roots.get(n)!);
    }
  });

  it.each([
    ['/api/v1/log/proofs/inclusion?index=77&size=77', 400, 'LOG_INDEX_OUT_OF_RANGE'],
    ['/api/v1/log/proofs/inclusion?index=0&size=78', 400, 'LOG_SIZE_OUT_OF_RANGE'],
    ['/api/v1/log/proofs/inclusion?index=0&size=0', 400, 'LOG_SIZE_OUT_OF_RANGE'],
    ['/api/v1/log/proofs/inclusion?index=99999999999999999&size=5', 400, 'LOG_PARAMETER_INVALID'],
    ['/api/v1/log/proofs/inclusion?index=-1&size=5', 400, 'REQUEST_VALIDATION'],
    ['/api/v1/log/proofs/inclusion?index=01&size=5', 400, 'REQUEST_VALIDATION'],
    ['/api/v1/log/proofs/inclusion?size=5', 400, 'REQUEST_VALIDATION'],
    ['/api/v1/log/proofs/inclusion?index=1&size=5&extra=1', 400, 'REQUEST_VALIDATION'],
    ['/api/v1/log/proofs/consistency?from=0&to=5', 400, 'LOG_PARAMETER_INVALID'],
    ['/api/v1/log/proofs/consistency?from=6&to=5', 400, 'LOG_PARAMETER_INVALID'],
    ['/api/v1/log/proofs/consistency?from=5&to=78', 400, 'LOG_SIZE_OUT_OF_RANGE'],
    ['/api/v1/log/proofs/consistency?from=x&to=5', 400, 'REQUEST_VALIDATION'],
    ['/api/v1/log/checkpoint?size=11', 404, 'LOG_CHECKPOINT_NOT_FOUND'],
    ['/api/v1/log/checkpoint?size=1e3', 400, 'REQUEST_VALIDATION'],
  ])('GET %s → %i %s', async (url, status, code) => {
    const r = await get(url);
    expect(r.statusCode).toBe(status);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(r.json<{ code: string }>().code).toBe(code);
  });

  it('the integrator and checkpoint jobs run in the app', async () => {
    const live = await testApp(config(), { jobs: true, now: () => T0 + 10_000 });
    try {
      await live.db.transaction().execute((trx) => appendLeaves(trx, [utf8('from the job')]));
      for (let i = 0; i < 200; i++) {
        const r = await live.db
          .selectFrom('log_checkpoints')
          .select('size')
          .orderBy('size', 'desc')
          .executeTakeFirst();
        if (r !== undefined && Number(r.size) === 78) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const top = await live.db
        .selectFrom('log_checkpoints')
        .select('size')
        .orderBy('size', 'desc')
        .executeTakeFirstOrThrow();
      expect(Number(top.size)).toBe(78);
    } finally {
      await live.close();
    }
  });

  it('a changed log hash refuses the start (LOG_CONFIG_CHANGED)', async () => {
    let err: unknown;
    try {
      const a = await testApp(
        testConfig(tdb.config, tmp.dir, {
          log: { hash: 'sha256', origin: ORIGIN, checkpointIntervalMs: 0, integrateIntervalMs: 100 },
        }),
      );
      await a.close();
    } catch (e) {
      err = e;
    }
    expect(isStartupError(err, 'LOG_CONFIG_CHANGED')).toBe(true);
  });
});
