/**
 * Revocation on push (吊销检查): signers checked against the CRL directory the operator configures
 * (YIZHENG_CRL_DIR, re-read on change), the CRLs and the OCSP responses inside the CMS; revoked at or before the
 * signing time → 422 EVIDENCE_CERT_REVOKED and nothing stored; the answer recorded in the receipt and reported by
 * `verify`. Certificates from the test PKI (@yizheng/pki/testing) and from `openssl ca` (its -gencrl CRL).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sm2, type Sm2PrivateKey } from '@yizheng/gm';
import { buildSignedData } from '@yizheng/pki';
import { TestPki, ocspResponse, type TestCertificate } from '@yizheng/pki/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication } from '../applications/service.js';
import { createProject } from '../projects/service.js';
import { signWithGm, tempDir, testApp, testConfig } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const HOUR = 3_600_000;
const ORIGINAL = new TextEncoder().encode('出院小结：患者一般情况良好。');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** DER length octets. */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}
/** RFC 5940: [1] IMPLICIT OtherRevocationInfoFormat { id-ri-ocsp-response, OCSPResponse }. */
function ocspRevocationInfo(response: Uint8Array): Uint8Array {
  const oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02];
  const body = [...oid, ...response];
  return Uint8Array.from([0xa1, ...derLength(body.length), ...body]);
}

describe.each(testDialects())('revocation on push on %s', (dialect) => {
  const tmp = tempDir('yz-rev-');
  const crlDir = join(tmp.dir, 'crls');
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let appId: string;
  let key: Sm2PrivateKey;
  const ctx = () => ({ db: app.db, now: () => Date.now(), actor: 'test' });

  const pki = new TestPki({ seed: `revocation-${dialect}`, kind: 'sm2', now: new Date(Date.now() - 60_000) });
  const root = pki.root({ subject: { CN: '医院测试根CA' } });
  const good = root.leaf({ subject: { CN: '医生甲' } });
  const revoked = root.leaf({ subject: { CN: '医生乙' } });
  const revokedLater = root.leaf({ subject: { CN: '医生丙' } });
  const soon = root.leaf({ subject: { CN: '医生丁' } });
  root.revoke(revoked, { at: new Date(Date.now() - HOUR), reason: 'keyCompromise' });
  root.revoke(revokedLater, { at: new Date(Date.now() + 24 * HOUR) });
  // CAs whose CRL / OCSP responses travel only inside the CMS.
  const other = pki.root({ subject: { CN: '另一CA' } });
  const otherGood = other.leaf({ subject: { CN: '医生戊' } });
  const otherRevoked = other.leaf({ subject: { CN: '医生己' } });
  other.revoke(otherRevoked, { at: new Date(Date.now() - HOUR) });
  const third = pki.root({ subject: { CN: '无吊销信息CA' } });
  const unknownLeaf = third.leaf({ subject: { CN: '医生庚' } });

  const call = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const res = await app.inject({
      method,
      url,
      headers: {
        ...signWithGm(key, { method, url, appId, timestamp: Date.now(), ...(text ? { body: text } : {}) }),
        ...(text ? { 'content-type': 'application/json' } : {}),
      },
      ...(text ? { payload: text } : {}),
    });
    return { status: res.statusCode, json: (): Json => res.json() };
  };
  const cms = (leaf: TestCertificate, extra: { crls?: Uint8Array[] } = {}): string =>
    b64(
      buildSignedData({
        content: ORIGINAL,
        signers: [{ signer: leaf.signer, certificate: leaf.cert }],
        oids: 'gmt0010',
        ...extra,
      }),
    );
  let serial = 0;
  const push = (value: string, issuerPem?: string) =>
    call('POST', '/api/v1/signatures', {
      serialNumber: `REV-${++serial}`,
      signature: { format: 'cms', value, ...(issuerPem ? { certificates: [issuerPem] } : {}) },
    });
  const stored = async (n: number) =>
    (await call('GET', `/api/v1/signatures?serialNumber=REV-${n}`)).json().items as Json[];

  beforeAll(async () => {
    mkdirSync(crlDir, { recursive: true });
    writeFileSync(join(crlDir, 'root.crl'), root.crl());
    writeFileSync(join(crlDir, 'notes.txt'), 'not a CRL: ignored');
    tdb = await createTestDatabase(dialect);
    app = await testApp(
      testConfig(tdb.config, tmp.dir, {
        evidence: {
          trustStore: undefined,
          crlDir,
          fileSizeLimit: 64 * 1024,
          fileDir: join(tmp.dir, 'files'),
        },
      }),
      { now: () => Date.now() },
    );
    await createProject({ ctx: ctx(), number: 'P-REV', name: '吊销' });
    const c = await createApplication({ ctx: ctx(), project: 'P-REV', name: 'EMR' });
    appId = c.application.id;
    key = sm2.importPrivateKey(c.privateKeyPem!);
  }, 60_000);
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  it('configured CRL: a good signer is stored with "revocation: good"; verify reports it', async () => {
    const r = await push(cms(good), root.pem);
    expect(r.status).toBe(201);
    expect(r.json().verification.revocation).toMatchObject({
      status: 'good',
      source: 'crl',
      revokedAt: null,
    });
    const v = (await call('POST', `/api/v1/signatures/${r.json().id as string}/verify`)).json();
    expect(v.intact).toBe(true);
    expect(v.checks).toContainEqual(
      expect.objectContaining({
        part: 'revocation',
        ok: true,
        detail: expect.stringMatching(/^revocation: good/),
      }),
    );
  });

  it('configured CRL: revoked before the signing time → 422 EVIDENCE_CERT_REVOKED, nothing stored', async () => {
    const r = await push(cms(revoked), root.pem);
    expect(r.status).toBe(422);
    expect(r.json().code).toBe('EVIDENCE_CERT_REVOKED');
    expect(r.json().detail).toMatch(/revoked at .*keyCompromise/);
    expect(await stored(serial)).toEqual([]);
  });

  it('revoked only after the signing time: good at the signing time, stored', async () => {
    const r = await push(cms(revokedLater), root.pem);
    expect(r.status).toBe(201);
    expect(r.json().verification.revocation.status).toBe('good');
    expect(r.json().verification.revocation.detail).toMatch(/revoked later/);
  });

  it('no CRL or OCSP for the issuer, or no issuer certificate at hand: "unknown", stored', async () => {
    const r = await push(cms(unknownLeaf), third.pem);
    expect(r.status).toBe(201);
    expect(r.json().verification.revocation).toMatchObject({ status: 'unknown', revokedAt: null });
    const noIssuer = await push(cms(good));
    expect(noIssuer.status).toBe(201);
    expect(noIssuer.json().verification.revocation.status).toBe('unknown');
  });

  it('a CRL inside the CMS counts (its signature must verify under the issuer)', async () => {
    const crl = other.crl();
    const bad = await push(cms(otherRevoked, { crls: [crl] }), other.pem);
    expect(bad.status).toBe(422);
    expect(bad.json().code).toBe('EVIDENCE_CERT_REVOKED');
    const ok = await push(cms(otherGood, { crls: [crl] }), other.pem);
    expect(ok.status).toBe(201);
    expect(ok.json().verification.revocation).toMatchObject({ status: 'good', source: 'crl' });
    // A CRL signed by someone else is not used: unknown, not revoked.
    const forged = await push(cms(otherRevoked, { crls: [third.crl()] }), other.pem);
    expect(forged.status).toBe(201);
    expect(forged.json().verification.revocation.status).toBe('unknown');
  });

  it('an OCSP response inside the CMS (RFC 5940) counts', async () => {
    const response = ocspResponse(other, {
      certificates: [otherGood, otherRevoked],
      producedAt: new Date(),
    });
    const info = ocspRevocationInfo(response);
    const bad = await push(cms(otherRevoked, { crls: [info] }), other.pem);
    expect(bad.status).toBe(422);
    expect(bad.json().code).toBe('EVIDENCE_CERT_REVOKED');
    const ok = await push(cms(otherGood, { crls: [info] }), other.pem);
    expect(ok.status).toBe(201);
    expect(ok.json().verification.revocation).toMatchObject({ status: 'good', source: 'ocsp' });
  });

  it('the CRL directory is re-read when a file changes', async () => {
    expect((await push(cms(soon), root.pem)).status).toBe(201);
    root.revoke(soon, { at: new Date(Date.now() - 60_000), reason: 'cessationOfOperation' });
    writeFileSync(join(crlDir, 'root.crl'), root.crl());
    await new Promise((r) => setTimeout(r, 1_100));
    const r = await push(cms(soon), root.pem);
    expect(r.status).toBe(422);
    expect(r.json().code).toBe('EVIDENCE_CERT_REVOKED');
  });
});

describe('revocation with a trust store and a CRL made by `openssl ca -gencrl`', () => {
  const tmp = tempDir('yz-rev-openssl-');
  const d = (f: string): string => join(tmp.dir, f);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: tmp.dir, stdio: 'ignore' });
  };
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let appId: string;
  let key: Sm2PrivateKey;

  const signCms = (name: string): string => {
    openssl('cms', '-sign', '-binary', '-nodetach', '-in', d('data'), '-signer', d(`${name}.pem`),
      '-inkey', d(`${name}.key`), '-outform', 'DER', '-out', d(`${name}.p7s`)); // prettier-ignore
    return execFileSync('base64', ['-w0', d(`${name}.p7s`)]).toString('utf8');
  };
  const push = async (serial: string, value: string) => {
    const url = '/api/v1/signatures';
    const text = JSON.stringify({ serialNumber: serial, signature: { format: 'cms', value } });
    const res = await app.inject({
      method: 'POST',
      url,
      headers: {
        ...signWithGm(key, { method: 'POST', url, appId, timestamp: Date.now(), body: text }),
        'content-type': 'application/json',
      },
      payload: text,
    });
    return { status: res.statusCode, json: (): Json => res.json() };
  };

  beforeAll(async () => {
    writeFileSync(d('data'), ORIGINAL);
    mkdirSync(d('crls'));
    writeFileSync(d('index.txt'), '');
    writeFileSync(d('serial'), '1000\n');
    writeFileSync(d('crlnumber'), '01\n');
    writeFileSync(
      d('ca.cnf'),
      `[ca]\ndefault_ca=yz\n[yz]\ndir=${tmp.dir}\ndatabase=$dir/index.txt\nserial=$dir/serial\ncrlnumber=$dir/crlnumber\n` +
        `new_certs_dir=$dir\ncertificate=$dir/ca.pem\nprivate_key=$dir/ca.key\ndefault_md=sha256\ndefault_days=30\n` +
        `default_crl_days=7\npolicy=any\nunique_subject=no\ncopy_extensions=none\n[any]\ncommonName=supplied\n` +
        `[leaf]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n` +
        `[req]\ndistinguished_name=dn\n[dn]\n[v3ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n` +
        `subjectKeyIdentifier=hash\n`,
    );
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', d('ca.key'), '-out', d('ca.pem'),
      '-subj', '/CN=Yizheng CRL Test CA', '-days', '30', '-config', d('ca.cnf'), '-extensions', 'v3ca'); // prettier-ignore
    for (const name of ['good', 'bad']) {
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', d(`${name}.key`), '-out', d(`${name}.csr`),
        '-subj', `/CN=Doctor ${name}`, '-config', d('ca.cnf')); // prettier-ignore
      openssl('ca', '-batch', '-config', d('ca.cnf'), '-extensions', 'leaf', '-in', d(`${name}.csr`),
        '-out', d(`${name}.pem`), '-notext'); // prettier-ignore
    }
    openssl('ca', '-config', d('ca.cnf'), '-revoke', d('bad.pem'), '-crl_reason', 'keyCompromise');
    openssl('ca', '-config', d('ca.cnf'), '-gencrl', '-out', d('crls/ca-crl.pem'));
    tdb = await createTestDatabase('sqlite');
    app = await testApp(
      testConfig(tdb.config, tmp.dir, {
        evidence: {
          trustStore: d('ca.pem'),
          crlDir: d('crls'),
          fileSizeLimit: 64 * 1024,
          fileDir: d('files'),
        },
      }),
      { now: () => Date.now() },
    );
    const ctx = { db: app.db, now: () => Date.now(), actor: 'test' };
    await createProject({ ctx, number: 'P-REV-OSSL', name: '吊销 openssl' });
    const c = await createApplication({ ctx, project: 'P-REV-OSSL', name: 'EMR' });
    appId = c.application.id;
    key = sm2.importPrivateKey(c.privateKeyPem!);
  }, 120_000);
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  it('a CMS by the revoked leaf → 422 EVIDENCE_CERT_REVOKED; by the good one → trusted, "revocation: good"', async () => {
    // The revocation (now) precedes the CMS signingTime (a moment later).
    await new Promise((r) => setTimeout(r, 1_100));
    const bad = await push('OSSL-1', signCms('bad'));
    expect(bad.status).toBe(422);
    expect(bad.json().code).toBe('EVIDENCE_CERT_REVOKED');
    const ok = await push('OSSL-2', signCms('good'));
    expect(ok.status).toBe(201);
    expect(ok.json().verification).toMatchObject({
      chain: 'trusted',
      revocation: { status: 'good', source: 'crl' },
    });
  });
});
