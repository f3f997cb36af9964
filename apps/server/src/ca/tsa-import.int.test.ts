/**
 * TSA key import (tsa-import.ts): RSA and P-256 key/certificate pairs made by `openssl req -x509`, an SM2 pair
 * with its chain from the test PKI; the imported key is sealed, listed, active at the next load (also when its
 * kind is not configured), and its stamps verify — `openssl ts -verify` for RSA and P-256, the pki verifier
 * against the test root for SM2. Refusals with their stable codes: mismatched key, missing or non-critical EKU,
 * expired or not yet valid, a chain that did not issue, unreadable input.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTimeStampReq, gmSm2Provider, parseCertificate, verifyTimeStampToken } from '@yizheng/pki';
import { TestPki } from '@yizheng/pki/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlatformKey } from '../crypto/platform-key.js';
import type { Db } from '../db/connect.js';
import { isYzError } from '../errors.js';
import { createClockMonitor } from '../modules/tsa/clock.js';
import { createSerialAllocator } from '../modules/tsa/serials.js';
import { createTsa } from '../modules/tsa/service.js';
import { openMigrated } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { loadInternalCa, type InternalCa } from './internal-ca.js';
import { importTsaKey, listTsaKeys } from './tsa-import.js';

const KEK = new Uint8Array(16).fill(3);
const NOW = Date.now() + 60_000; // a minute on: openssl's certificates are valid from when they are made
const POLICY = '2.999.1.1';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'yz-tsaimp-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = (name: string): string => join(dir, name);
const openssl = (args: string[]): string =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A key and a self-signed certificate from `openssl req -x509`, with the extensions given. */
function opensslPair(name: string, alg: 'rsa' | 'p256', ext: string[]): { keyPem: string; certPem: string } {
  const key = path(`${name}.key`);
  const cert = path(`${name}.pem`);
  openssl(
    alg === 'rsa'
      ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]
      : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key],
  );
  const addext = ext.flatMap((e) => ['-addext', e]);
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-subj',
    `/CN=${name}`,
    '-days',
    '30',
    '-out',
    cert,
    ...addext,
  ]);
  return { keyPem: readFileSync(key, 'utf8'), certPem: readFileSync(cert, 'utf8') };
}
const TSA_EXT = ['extendedKeyUsage=critical,timeStamping', 'keyUsage=critical,digitalSignature'];

/** The YzError code `p` rejects with (or a description of anything else). */
async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return isYzError(e) ? e.code : String(e);
  }
}

describe.each(testDialects())('TSA key import on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  const pairs: Record<string, { keyPem: string; certPem: string }> = {};
  const load = async (): Promise<InternalCa> =>
    loadInternalCa({
      db: db.kysely,
      kek: KEK,
      now: NOW,
      platformKey: await loadPlatformKey({ db: db.kysely, kek: KEK, now: NOW }),
      config: { unitName: '示例医院', tsaAlgorithms: ['sm2'] },
    });
  const stamp = (ca: InternalCa, der: Uint8Array, alg: 'sm2' | 'rsa' | 'p256'): Promise<Uint8Array> =>
    createTsa({
      identities: ca.tsa,
      config: { policy: POLICY, accuracyMs: 0, defaultAlgorithm: 'sm2' },
      clock: createClockMonitor({
        config: { ntpServer: undefined, maxDriftMs: 1000, checkIntervalMs: 60_000 },
        now: () => NOW,
      }),
      serials: createSerialAllocator({ db: db.kysely }),
      now: () => NOW,
    }).stamp(der, alg);

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openMigrated(tdb.config);
    await load(); // first start: the internal CA and its SM2 TSA key
    pairs.rsa = opensslPair(`${dialect}-rsa`, 'rsa', TSA_EXT);
    pairs.p256 = opensslPair(`${dialect}-p256`, 'p256', TSA_EXT);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it.each(['rsa', 'p256'] as const)(
    'imports an openssl %s pair, seals the key, lists it, and openssl ts -verify accepts its stamps',
    async (alg) => {
      const pair = pairs[alg]!;
      const view = await importTsaKey({
        db: db.kysely,
        kek: KEK,
        now: NOW,
        ...pair,
        name: `外部 TSA ${alg}`,
      });
      expect(view).toMatchObject({
        algorithm: alg,
        origin: 'imported',
        name: `外部 TSA ${alg}`,
        validNow: true,
      });
      const sealed = await db.kysely
        .selectFrom('key_store')
        .select('wrapped')
        .where('name', '=', `tsa-${alg}-v1`)
        .executeTakeFirstOrThrow();
      expect(Buffer.from(sealed.wrapped, 'base64').toString('latin1')).not.toContain('PRIVATE KEY');
      const listed = await listTsaKeys({ db: db.kysely, now: NOW });
      expect(listed.find((k) => k.algorithm === alg)).toEqual(view);
      expect(listed.find((k) => k.algorithm === 'sm2')?.origin).toBe('generated');

      // Active at the next load although only sm2 is configured.
      const ca = await load();
      const id = ca.tsa.get(alg)!;
      expect(id.origin).toBe('imported');
      expect(id.certificate.der).toEqual(parseCertificate(pair.certPem).der);

      const data = path(`${dialect}-${alg}-data.txt`);
      writeFileSync(data, `病历 ${alg}`);
      const query = path(`${dialect}-${alg}.tsq`);
      openssl(['ts', '-query', '-data', data, '-sha256', '-cert', '-out', query]);
      const reply = path(`${dialect}-${alg}.tsr`);
      writeFileSync(reply, await stamp(ca, readFileSync(query), alg));
      const cert = path(`${dialect}-${alg}.pem`);
      const v = spawnSync('openssl', ['ts', '-verify', '-queryfile', query, '-in', reply, '-CAfile', cert], {
        encoding: 'utf8',
      });
      expect(`${v.stdout}${v.stderr}`).toContain('Verification: OK');
      expect(v.status).toBe(0);
    },
  );

  it('imports an SM2 TSA key with its chain from the test PKI; its stamps verify against the test root', async () => {
    const pki = new TestPki({ seed: `tsa-import-${dialect}`, now: new Date(NOW) });
    const root = pki.root();
    const inter = root.intermediate();
    const tsa = inter.tsa();
    const view = await importTsaKey({
      db: db.kysely,
      kek: KEK,
      now: NOW,
      keyPem: tsa.privateKeyPem,
      certPem: tsa.pem,
      chainPem: `${inter.pem}${root.pem}`,
    });
    expect(view).toMatchObject({
      algorithm: 'sm2',
      origin: 'imported',
      chainLength: 2,
      name: tsa.cert.subject,
    });
    const ca = await load();
    const id = ca.tsa.get('sm2')!;
    expect(id.chain.map((c) => c.subject)).toEqual([inter.cert.subject, root.cert.subject]);
    const data = new TextEncoder().encode('入院记录');
    const req = buildTimeStampReq({ data, hash: 'sm3', nonce: true });
    const v = verifyTimeStampToken({
      token: await stamp(ca, req.der, 'sm2'),
      data,
      nonce: req.nonce!,
      trustAnchors: [root.cert],
      policy: { sm2: gmSm2Provider },
    });
    expect(v.failures).toEqual([]);
    expect(v.valid).toBe(true);
  });

  it('refuses with stable codes and keeps the key in place', async () => {
    const before = await listTsaKeys({ db: db.kysely, now: NOW });
    const rsa = pairs.rsa!;
    const attempt = (o: { keyPem: string; certPem: string; chainPem?: string; now?: number }) =>
      code(importTsaKey({ db: db.kysely, kek: KEK, now: NOW, ...o }));
    expect(await attempt({ keyPem: pairs.p256!.keyPem, certPem: rsa.certPem })).toBe(
      'TSA_IMPORT_KEY_MISMATCH',
    );
    const other = opensslPair(`${dialect}-rsa-other`, 'rsa', TSA_EXT);
    expect(await attempt({ keyPem: other.keyPem, certPem: rsa.certPem })).toBe('TSA_IMPORT_KEY_MISMATCH');
    const plain = opensslPair(`${dialect}-plain`, 'rsa', ['keyUsage=critical,digitalSignature']);
    expect(await attempt(plain)).toBe('TSA_IMPORT_EKU_INVALID');
    const lax = opensslPair(`${dialect}-lax`, 'rsa', ['extendedKeyUsage=timeStamping']); // not critical
    expect(await attempt(lax)).toBe('TSA_IMPORT_EKU_INVALID');
    const mixed = opensslPair(`${dialect}-mixed`, 'p256', [
      'extendedKeyUsage=critical,timeStamping,serverAuth',
    ]);
    expect(await attempt(mixed)).toBe('TSA_IMPORT_EKU_INVALID');
    expect(await attempt({ ...rsa, now: NOW + 31 * 86_400_000 })).toBe('TSA_IMPORT_CERT_NOT_VALID'); // expired
    expect(await attempt({ ...rsa, now: NOW - 86_400_000 })).toBe('TSA_IMPORT_CERT_NOT_VALID'); // not yet valid
    expect(await attempt({ ...rsa, chainPem: pairs.p256!.certPem })).toBe('TSA_IMPORT_CHAIN_INVALID');
    expect(await attempt({ keyPem: 'garbage', certPem: rsa.certPem })).toBe('TSA_IMPORT_UNREADABLE');
    expect(await attempt({ keyPem: rsa.keyPem, certPem: 'garbage' })).toBe('TSA_IMPORT_UNREADABLE');
    expect(await attempt({ ...rsa, chainPem: 'no certificate here' })).toBe('TSA_IMPORT_UNREADABLE');
    expect(
      await code(importTsaKey({ db: db.kysely, kek: KEK, now: NOW, ...rsa, name: 'x'.repeat(129) })),
    ).toBe('TSA_IMPORT_UNREADABLE');
    expect(await listTsaKeys({ db: db.kysely, now: NOW })).toEqual(before);
  });
});
