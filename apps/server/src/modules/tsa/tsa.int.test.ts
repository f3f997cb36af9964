import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildTimeStampReq,
  gmSm2Provider,
  parseTimeStampResp,
  toPem,
  verifyTimeStampToken,
  type PkiFailureName,
} from '@yizheng/pki';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInternalCa, type InternalCa } from '../../ca/internal-ca.js';
import { loadPlatformKey } from '../../crypto/platform-key.js';
import type { Db } from '../../db/connect.js';
import { openMigrated, T0 } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { createClockMonitor, type ClockMonitor } from './clock.js';
import { TSA_BODY_LIMIT, tsaRoutes } from './routes.js';
import { createSerialAllocator } from './serials.js';
import { createTsa } from './service.js';
import { writeNtpTimestamp } from './sntp.js';

const KEK = new Uint8Array(16).fill(9);
const POLICY = '2.999.1.1';
const unmonitored = createClockMonitor({
  config: { ntpServer: undefined, maxDriftMs: 1000, checkIntervalMs: 60_000 },
  now: () => T0,
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'yz-tsa-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content?: string | Uint8Array): string => {
  const p = join(dir, name);
  if (content !== undefined) writeFileSync(p, content);
  return p;
};
const openssl = (args: string[]): { status: number | null; out: string } => {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

/** A TSA over HTTP on a bare Fastify (the routes as app.ts registers them). */
async function tsaApp(db: Db, ca: InternalCa, clock: ClockMonitor = unmonitored): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const tsa = createTsa({
    identities: ca.tsa,
    config: { policy: POLICY, accuracyMs: 1500, defaultAlgorithm: 'sm2' },
    clock,
    serials: createSerialAllocator({ db: db.kysely, blockSize: 4 }),
    now: () => T0 + 5000,
  });
  await app.register(tsaRoutes, { tsa });
  await app.ready();
  return app;
}

async function post(
  app: FastifyInstance,
  url: string,
  body: Uint8Array | string,
  type = 'application/timestamp-query',
) {
  const r = await app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': type },
    payload: Buffer.from(body),
  });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toBe('application/timestamp-reply');
  return new Uint8Array(r.rawPayload);
}

function failInfoOf(resp: Uint8Array): readonly PkiFailureName[] {
  const parsed = parseTimeStampResp(resp);
  expect(parsed.statusName).toBe('rejection');
  return parsed.failInfo;
}

describe.each(testDialects())('TSA on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  let ca: InternalCa;
  let app: FastifyInstance;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openMigrated(tdb.config);
    const platformKey = await loadPlatformKey({ db: db.kysely, kek: KEK, now: T0 });
    ca = await loadInternalCa({
      db: db.kysely,
      kek: KEK,
      now: T0,
      platformKey,
      config: { unitName: '示例医院', tsaAlgorithms: ['sm2', 'rsa', 'p256'] },
    });
    app = await tsaApp(db, ca);
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await tdb.drop();
  });

  it.each(['rsa', 'p256'] as const)(
    'answers openssl ts -query (%s); openssl ts -verify accepts the reply',
    async (alg) => {
      const data = file(`${dialect}-${alg}.txt`, `病历 ${alg} ${dialect}`);
      const query = file(`${dialect}-${alg}.tsq`);
      execFileSync('openssl', ['ts', '-query', '-data', data, '-sha256', '-out', query]);
      const resp = await post(app, `/tsa/${alg}`, readFileSync(query));
      const reply = file(`${dialect}-${alg}.tsr`, resp);
      // The TSA certificate is the trust anchor here: OpenSSL 3.0 cannot check the SM2 root's signature over it
      // without -vfyopt (which ts -verify lacks); the root → TSA link is checked with openssl verify in the CA test.
      // So the query asks for no certificates (the token carries none to chain through) and the TSA cert is given.
      const tsaCert = file(
        `${dialect}-${alg}-tsa.pem`,
        toPem(ca.tsa.get(alg)!.certificate.der, 'CERTIFICATE'),
      );
      const trustTsa = ['-CAfile', tsaCert, '-untrusted', tsaCert, '-partial_chain'];
      const v = openssl(['ts', '-verify', '-queryfile', query, '-in', reply, ...trustTsa]);
      expect(v.out).toContain('Verification: OK');
      expect(v.status).toBe(0);
      const text = openssl(['ts', '-reply', '-in', reply, '-text']).out;
      expect(text).toContain('Status: Granted.');
      expect(text).toContain(`Policy OID: ${POLICY}.${alg === 'rsa' ? 2 : 3}`);
      expect(text).toMatch(/Accuracy: 0x01 seconds, 0x01F4 millis/);
      // A different file does not verify against that reply.
      const other = file(`${dialect}-${alg}-other.txt`, 'something else');
      expect(openssl(['ts', '-verify', '-data', other, '-in', reply, ...trustTsa]).status).not.toBe(0);
    },
  );

  it('stamps SM3 imprints with the SM2 key; the pki verifier checks the token up to the internal root, nonce echoed', async () => {
    const data = new TextEncoder().encode('住院病历首页');
    const req = buildTimeStampReq({
      data,
      hash: 'sm3',
      nonce: true,
      algorithmPolicy: { sm2: gmSm2Provider },
    });
    const resp = await post(app, '/tsa', req.der);
    const v = verifyTimeStampToken({
      token: resp,
      data,
      nonce: req.nonce!,
      trustAnchors: [ca.root],
      policy: { sm2: gmSm2Provider },
    });
    expect(v.failures).toEqual([]);
    expect(v.valid).toBe(true);
    expect(v.nonce).toBe(req.nonce);
    expect(v.tsaCertificate?.subject).toBe(ca.tsa.get('sm2')!.certificate.subject);
    expect(v.genTime?.toISOString()).toBe(new Date(T0 + 5000).toISOString());
    expect(v.policy).toBe(POLICY);
    const tampered = verifyTimeStampToken({
      token: resp,
      data: new TextEncoder().encode('改'),
      policy: { sm2: gmSm2Provider },
    });
    expect(tampered.valid).toBe(false);
  });

  it('serial numbers are unique and increasing, also across a restart', async () => {
    const serials: bigint[] = [];
    const stampOnce = async (a: FastifyInstance) => {
      const req = buildTimeStampReq({ data: new Uint8Array([serials.length]), hash: 'sha256', nonce: true });
      const v = verifyTimeStampToken({
        token: await post(a, '/tsa/p256', req.der),
        data: new Uint8Array([serials.length]),
      });
      expect(v.valid).toBe(true);
      serials.push(v.serialNumber!);
    };
    for (let i = 0; i < 6; i++) await stampOnce(app); // crosses a block boundary (block size 4)
    const restarted = await tsaApp(db, ca);
    for (let i = 0; i < 3; i++) await stampOnce(restarted);
    await restarted.close();
    for (let i = 1; i < serials.length; i++) expect(serials[i]! > serials[i - 1]!).toBe(true);
    expect(new Set(serials.map(String)).size).toBe(serials.length);
  });

  it('answers bad requests with a rejection and the right PKIFailureInfo, never an error page', async () => {
    const sha256 = buildTimeStampReq({ data: new Uint8Array([1]), hash: 'sha256' }).der;
    expect(failInfoOf(await post(app, '/tsa', new Uint8Array([0x30, 0x03, 0x02, 0x01])))).toEqual([
      'badDataFormat',
    ]);
    expect(failInfoOf(await post(app, '/tsa', sha256, 'application/json'))).toEqual(['badRequest']);
    expect(failInfoOf(await post(app, '/tsa', new Uint8Array(TSA_BODY_LIMIT + 1)))).toEqual(['badRequest']);
    expect(failInfoOf(await post(app, '/tsa', new Uint8Array(0)))).toEqual(['badDataFormat']);
    expect(failInfoOf(await post(app, '/tsa/ed25519', sha256))).toEqual(['unacceptedPolicy']);
    const otherPolicy = buildTimeStampReq({
      data: new Uint8Array([1]),
      hash: 'sha256',
      policy: '1.2.3.4',
    }).der;
    expect(failInfoOf(await post(app, '/tsa', otherPolicy))).toEqual(['unacceptedPolicy']);
    // openssl ts -query -md5: an imprint algorithm the TSA does not accept.
    const data = file(`${dialect}-md5.txt`, 'x');
    const md5 = file(`${dialect}-md5.tsq`);
    execFileSync('openssl', ['ts', '-query', '-data', data, '-md5', '-out', md5]);
    expect(failInfoOf(await post(app, '/tsa', readFileSync(md5)))).toEqual(['badAlg']);
  });
});

describe('TSA time source', () => {
  let socket: Socket;
  let port = 0;
  beforeAll(async () => {
    // A fake NTP server on loopback whose clock is 30 s ahead of ours.
    socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      const out = Buffer.alloc(48);
      out[0] = (4 << 3) | 4;
      out[1] = 2;
      msg.copy(out, 24, 40, 48);
      writeNtpTimestamp(out, 32, T0 + 30_000);
      writeNtpTimestamp(out, 40, T0 + 30_000);
      socket.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    port = socket.address().port;
  });
  afterAll(() => socket.close());

  it('refuses to stamp (rejection, timeNotAvailable) when the clock drifts beyond the bound, and says why', async () => {
    const tdb = await createTestDatabase('sqlite');
    const db = await openMigrated(tdb.config);
    try {
      const platformKey = await loadPlatformKey({ db: db.kysely, kek: KEK, now: T0 });
      const ca = await loadInternalCa({
        db: db.kysely,
        kek: KEK,
        now: T0,
        platformKey,
        config: { unitName: '示例医院', tsaAlgorithms: ['sm2'] },
      });
      const clock = createClockMonitor({
        config: { ntpServer: `127.0.0.1:${port}`, maxDriftMs: 1000, checkIntervalMs: 60_000 },
        now: () => T0,
      });
      expect((await clock.check()).state).toBe('drift');
      const app = await tsaApp(db, ca, clock);
      const req = buildTimeStampReq({
        data: new Uint8Array([1]),
        hash: 'sm3',
        algorithmPolicy: { sm2: gmSm2Provider },
      });
      const resp = parseTimeStampResp(await post(app, '/tsa', req.der));
      await app.close();
      expect(resp.statusName).toBe('rejection');
      expect(resp.failInfo).toEqual(['timeNotAvailable']);
      expect(resp.statusStrings.join(' ')).toMatch(/drift 30000 ms exceeds the bound of 1000 ms/);
      expect(resp.token).toBeUndefined();
    } finally {
      await db.close();
      await tdb.drop();
    }
  });
});
