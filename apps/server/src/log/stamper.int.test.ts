/**
 * The platform stamps its own checkpoints (DESIGN.md core path step 6) on every available database: after the
 * checkpoint job publishes, the platform TSA's SM2/SM3 token over the note bytes is stored and returned by
 * `GET /api/v1/log/checkpoint`; it verifies against the internal root, and not for a tampered note or token.
 * A refusing TSA (clock drift) leaves the checkpoint published and unstamped; the next run stamps it.
 */
import { sm2, type Sm2PrivateKey } from '@yizheng/gm';
import { gmSm2Provider, verifyTimeStampToken } from '@yizheng/pki';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication } from '../modules/applications/service.js';
import { createProject } from '../modules/projects/service.js';
import type { ClockMonitor } from '../modules/tsa/clock.js';
import { tsaCheckpointStamper } from '../modules/tsa/checkpoint-stamper.js';
import { createSerialAllocator } from '../modules/tsa/serials.js';
import { createTsa } from '../modules/tsa/service.js';
import { signWithGm, T0, tempDir, testApp, testConfig } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { appendLeaves, checkpointJob, integrateAll, latestCheckpoint } from './index.js';
import {
  CheckpointStampError,
  checkpointStamp,
  checkpointStampData,
  stampCheckpoints,
  type CheckpointStamper,
} from './stamper.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const run = { runId: 'test', trigger: 'manual' as const, signal: new AbortController().signal };

describe.each(testDialects())('checkpoint timestamps on %s', (dialect) => {
  const tmp = tempDir('yz-stamp-');
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let appId: string;
  let key: Sm2PrivateKey;
  let drift: string | undefined;
  let stamper: CheckpointStamper;
  let leaves = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    app = await testApp(
      testConfig(tdb.config, tmp.dir, {
        log: { hash: 'sm3', origin: 'stamp.test/log', checkpointIntervalMs: 0, integrateIntervalMs: 100 },
      }),
    );
    const ctx = { db: app.db, now: () => T0, actor: 'test' };
    await createProject({ ctx, number: 'P-STAMP', name: '检查点' });
    const created = await createApplication({ ctx, project: 'P-STAMP', name: 'HIS', vendor: '厂商' });
    appId = created.application.id;
    key = sm2.importPrivateKey(created.privateKeyPem!);
    // The platform TSA (its SM2 identity from the internal CA) behind a clock the test can make drift.
    const clock: ClockMonitor = {
      check: () => Promise.resolve({ state: 'unmonitored' }),
      status: () => ({ state: 'unmonitored' }),
      refusal: () => drift,
    };
    stamper = tsaCheckpointStamper(
      createTsa({
        identities: app.ca.tsa,
        config: { policy: '1.2.156.1.1', accuracyMs: 0, defaultAlgorithm: 'sm2' },
        clock,
        serials: createSerialAllocator({ db: app.db }),
        now: () => T0,
      }),
    );
  });
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  const get = (url: string) =>
    app.inject({ method: 'GET', url, headers: signWithGm(key, { method: 'GET', url, appId }) });
  const job = () =>
    checkpointJob({
      db: app.db,
      key: app.platformKey,
      now: () => T0,
      minIntervalMs: 0,
      everyMs: 1000,
      stamper,
    });
  async function grow(n: number): Promise<void> {
    const entries = Array.from({ length: n }, (_, i) => utf8(`stamp-entry-${leaves + i}`));
    leaves += n;
    await app.db.transaction().execute((trx) => appendLeaves(trx, entries));
    await integrateAll({ db: app.db, now: () => T0 });
  }
  const verify = (token: Uint8Array, data: Uint8Array) =>
    verifyTimeStampToken({ token, data, trustAnchors: [app.ca.root], policy: { sm2: gmSm2Provider } });

  it('the checkpoint job stamps the new checkpoint; GET /log/checkpoint returns a token over the note', async () => {
    await grow(5);
    expect(await job().handler(run)).toMatchObject({ size: 5, stamped: 1, unstamped: 0 });
    const r = await get('/api/v1/log/checkpoint');
    expect(r.statusCode).toBe(200);
    const body = r.json<{ size: number; note: string; timestampToken?: string }>();
    expect(body.size).toBe(5);
    const token = fromB64(body.timestampToken!);
    const v = verify(token, utf8(body.note));
    expect(v.valid).toBe(true);
    expect(v.failures).toEqual([]);
    expect(v.hashAlgorithm).toBe('1.2.156.10197.1.401');

    // A tampered note (one more leaf claimed) or a tampered token does not verify.
    expect(verify(token, utf8(body.note.replace('\n5\n', '\n6\n'))).valid).toBe(false);
    const flipped = token.slice();
    flipped[flipped.length - 10]! ^= 0x01;
    expect(verify(flipped, utf8(body.note)).valid).toBe(false);
  });

  it('a refusing TSA (clock drift) leaves the checkpoint published; the next run stamps it', async () => {
    await grow(3);
    drift = 'clock drift 5000 ms exceeds 1000 ms';
    expect(await job().handler(run)).toMatchObject({ size: 8, stamped: 0, unstamped: 1 });
    const published = await latestCheckpoint(app.db);
    expect(published?.size).toBe(8);
    expect(await checkpointStamp(app.db, 8)).toBeUndefined();
    const r = await get('/api/v1/log/checkpoint');
    expect(r.statusCode).toBe(200);
    expect(r.json<{ size: number; timestampToken?: string }>()).not.toHaveProperty('timestampToken');

    drift = undefined;
    expect(await job().handler(run)).toMatchObject({ stamped: 1, unstamped: 0 });
    const token = await checkpointStamp(app.db, 8);
    expect(verify(token!, checkpointStampData(published!.note)).valid).toBe(true);
    // The earlier checkpoint keeps its own token.
    expect(await checkpointStamp(app.db, 5)).toBeDefined();
  });

  it('CHECKPOINT_STAMP_REFUSED names the TSA refusal; other stamper failures propagate', async () => {
    await grow(1);
    drift = 'no NTP answer';
    const err = await stamper.stamp(utf8('note')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointStampError);
    expect((err as CheckpointStampError).code).toBe('CHECKPOINT_STAMP_REFUSED');
    expect((err as CheckpointStampError).message).toContain('timeNotAvailable');
    drift = undefined;
    await job().handler(run); // publishes size 9 and stamps it
    await grow(1);
    await checkpointJob({
      db: app.db,
      key: app.platformKey,
      now: () => T0,
      minIntervalMs: 0,
      everyMs: 1000,
    }).handler(run); // size 10, no stamper
    const broken: CheckpointStamper = { stamp: () => Promise.reject(new Error('disk full')) };
    await expect(stampCheckpoints({ db: app.db, stamper: broken, now: T0 })).rejects.toThrow('disk full');
    const invalid: CheckpointStamper = {
      stamp: () => Promise.reject(new CheckpointStampError('CHECKPOINT_STAMP_INVALID', 'not a token')),
    };
    expect(await stampCheckpoints({ db: app.db, stamper: invalid, now: T0 })).toMatchObject({
      stamped: 0,
      pending: 1,
      refused: 'CHECKPOINT_STAMP_INVALID: not a token',
    });
  });
});
