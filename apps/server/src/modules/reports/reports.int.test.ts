/**
 * Reports and packages end to end: a real SM2 CMS record pushed through the signed API, integrated into the log
 * under a signed checkpoint; its PDF read back with pdftotext; its package verified offline with nothing but the
 * internal root; any altered file named; and a package made before a database tamper still verifies offline
 * while the live re-verification reports the tamper.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sm2, sm3, toHex, type Sm2PrivateKey } from '@yizheng/gm';
import { verifyEvidencePackage } from '@yizheng/evidence';
import { unzipSync, zipSync } from 'fflate';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrateAll, publishCheckpoint } from '../../log/index.js';
import { stampCheckpoints } from '../../log/stamper.js';
import { digestArtifacts } from '../../jobs/digest-artifacts.js';
import { generateDigestReports } from '../../jobs/digest-report.js';
import { stampDigests } from '../../jobs/digest-timestamp.js';
import { signWithGm, T0, tempDir, testApp, testConfig } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { createApplication } from '../applications/service.js';
import { makePki, type Pki } from '../evidence/fixtures.test-support.js';
import { createProject } from '../projects/service.js';
import { tsaCheckpointStamper } from '../tsa/checkpoint-stamper.js';
import { createSerialAllocator } from '../tsa/serials.js';
import { createTsa } from '../tsa/service.js';

const ORIGINAL = new TextEncoder().encode('入院记录：患者主诉胸痛 3 小时。');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
let pki: Pki;
beforeAll(() => {
  pki = makePki();
});

describe.each(testDialects())('reports and packages on %s', (dialect) => {
  const tmp = tempDir('yz-rep-');
  let tdb: TestDatabase;
  let app: FastifyInstance;
  const clients: { appId: string; key: Sm2PrivateKey }[] = [];
  let id = '';
  let clock = T0;

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    app = await testApp(testConfig(tdb.config, tmp.dir, { bodyLimit: 4 * 1024 * 1024 }), {
      now: () => clock,
    });
    const ctx = { db: app.db, now: () => T0, actor: 'test' };
    await createProject({ ctx, number: 'P-R', name: '心血管内科存证' });
    await createProject({ ctx, number: 'P-O', name: '其他' });
    for (const project of ['P-R', 'P-O']) {
      const c = await createApplication({ ctx, project, name: `EMR-${project}`, vendor: '厂商' });
      clients.push({ appId: c.application.id, key: sm2.importPrivateKey(c.privateKeyPem!) });
    }
    const body = JSON.stringify({
      serialNumber: 'ZY-0001',
      businessType: '入院记录',
      department: { code: '0301', name: '心血管内科' },
      patient: { id: '110101199003074518', name: '张三', visitNumber: 'V-1' },
      signer: '李医生',
      signature: { format: 'cms', value: b64(pki.sm2Cms(ORIGINAL, { detached: true })) },
      original: b64(ORIGINAL),
    });
    const r = await call(0, 'POST', '/api/v1/signatures', body);
    expect(r.statusCode).toBe(201);
    id = r.json<{ id: string }>().id;
    await integrateAll({ db: app.db, now: () => T0 });
    await publishCheckpoint({ db: app.db, key: app.platformKey, now: T0, minIntervalMs: 0 });
    // The platform TSA stamps the checkpoint, as the checkpoint job does after publishing.
    const stamper = tsaCheckpointStamper(
      createTsa({
        identities: app.ca.tsa,
        config: { policy: '1.2.156.1.1', accuracyMs: 0, defaultAlgorithm: 'sm2' },
        clock: {
          check: () => Promise.resolve({ state: 'unmonitored' }),
          status: () => ({ state: 'unmonitored' }),
          refusal: () => undefined,
        },
        serials: createSerialAllocator({ db: app.db }),
        now: () => T0,
      }),
    );
    expect((await stampCheckpoints({ db: app.db, stamper, now: T0 })).stamped).toBe(1);
  });
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  const call = (who: number, method: 'GET' | 'POST', url: string, body?: string) => {
    const c = clients[who]!;
    return app.inject({
      method,
      url,
      headers: {
        ...signWithGm(c.key, { method, url, appId: c.appId, ...(body ? { body } : {}) }),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { payload: body } : {}),
    });
  };

  it('GET …/report: a Chinese PDF with the record id, hashes and the masked patient', async () => {
    const r = await call(0, 'GET', `/api/v1/signatures/${id}/report`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/pdf');
    const file = join(tmp.dir, `${dialect}.pdf`);
    writeFileSync(file, r.rawPayload);
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    expect(text).toContain(id);
    expect(text).toContain('电子签名数据存证凭证');
    expect(text).toContain('心血管内科存证');
    expect(text).toContain('110***********4518');
    expect(text).not.toContain('110101199003074518');
    expect(text).not.toContain('张三');
    const detail = (await call(0, 'GET', `/api/v1/signatures/${id}`)).json<{ evidenceHash: string }>();
    expect(text).toContain(detail.evidenceHash);
    const en = await call(0, 'GET', `/api/v1/signatures/${id}/report?lang=en-US`);
    writeFileSync(file, en.rawPayload);
    expect(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' })).toContain(
      'Signature Evidence Certificate',
    );
  });

  it('EVIDENCE_NOT_FOUND for another project, REQUEST_INVALID for an unknown language', async () => {
    const other = await call(1, 'GET', `/api/v1/signatures/${id}/package`);
    expect(other.statusCode).toBe(404);
    expect(other.json<{ code: string }>().code).toBe('EVIDENCE_NOT_FOUND');
    const lang = await call(0, 'GET', `/api/v1/signatures/${id}/report?lang=fr`);
    expect(lang.statusCode).toBe(400);
  });

  it('GET …/package verifies offline with only the root; any altered file is named; a later DB tamper does not affect it', async () => {
    const r = await call(0, 'GET', `/api/v1/signatures/${id}/package`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    const zip = new Uint8Array(r.rawPayload);
    const ok = verifyEvidencePackage(zip, { root: app.ca.root.der });
    expect(ok.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(ok.valid).toBe(true);
    expect(ok.rootPinned).toBe(true);
    const names = Object.keys(unzipSync(zip)).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'manifest.json',
        'manifest.sig',
        'record.json',
        'original.bin',
        'signature.bin',
        'log/inclusion-proof.json',
        'log/checkpoint.txt',
        'log/checkpoint.tsr',
        'platform-chain.pem',
        'report/content.json',
        'report/report.pdf',
        'verification.json',
      ]),
    );
    expect(ok.checks.find((c) => c.check === 'inclusion')?.status).toBe('pass');
    expect(ok.checks.find((c) => c.check === 'cms')?.status).toBe('pass');
    // The checkpoint's RFC 3161 stamp is in the package and checked, not skipped.
    expect(ok.checks.find((c) => c.check === 'checkpoint-timestamp')).toBeUndefined();
    const stampChecks = ok.checks.filter((c) => c.part === 'log/checkpoint.tsr');
    expect(stampChecks.map((c) => [c.check, c.status])).toEqual(
      expect.arrayContaining([
        ['timestamp-signature', 'pass'],
        ['timestamp-imprint', 'pass'],
        ['timestamp-tsa-chain', 'pass'],
      ]),
    );
    expect(stampChecks.every((c) => c.status === 'pass')).toBe(true);
    for (const name of names) {
      const files = unzipSync(zip);
      const b = files[name]!.slice();
      b[Math.floor(b.length / 2)] = b[Math.floor(b.length / 2)]! ^ 0x20;
      files[name] = b;
      const v = verifyEvidencePackage(zipSync(files), { root: app.ca.root.der });
      expect(v.valid, name).toBe(false);
      expect(v.failedParts, name).toContain(name);
    }

    await app.db.updateTable('evidence').set({ serial_number: 'ZY-9999' }).where('id', '=', id).execute();
    const live = await call(0, 'POST', `/api/v1/signatures/${id}/verify`);
    expect(live.json<{ intact: boolean; tampered: string[] }>()).toMatchObject({
      intact: false,
      tampered: ['record'],
    });
    expect(verifyEvidencePackage(zip, { root: app.ca.root.der }).valid).toBe(true);
  });
  it('digest records: the reinforcement timestamp in the report, the package and verify; ?stored=1 serves the stored report', async () => {
    const body = JSON.stringify({
      serialNumber: 'ZY-D-1',
      algorithm: 'sm3',
      value: toHex(sm3(ORIGINAL)),
    });
    const pushed = await call(0, 'POST', '/api/v1/digests', body);
    expect(pushed.statusCode).toBe(201);
    const digestId = pushed.json<{ id: string }>().id;
    const pdfText = (bytes: Buffer | Uint8Array, name: string): string => {
      const file = join(tmp.dir, `${dialect}-${name}.pdf`);
      writeFileSync(file, bytes);
      return execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    };

    // Before the jobs: no stored report (a stable 404), no reinforcement anywhere.
    const none = await call(0, 'GET', `/api/v1/digests/${digestId}/report?stored=1`);
    expect(none.statusCode).toBe(404);
    expect(code(none)).toBe('REPORT_NOT_STORED');
    const foreign = await call(1, 'GET', `/api/v1/digests/${digestId}/report?stored=1`);
    expect(foreign.statusCode).toBe(404);
    expect(code(foreign)).toBe('EVIDENCE_NOT_FOUND');
    expect((await call(0, 'GET', `/api/v1/signatures/${id}/report?stored=1`)).statusCode).toBe(400);
    expect((await call(0, 'GET', `/api/v1/digests/${digestId}/report?stored=yes`)).statusCode).toBe(400);
    const before = await call(0, 'POST', `/api/v1/digests/${digestId}/verify`);
    expect(before.json<{ checks: { part: string }[] }>().checks.map((c) => c.part)).not.toContain(
      'reinforcement',
    );
    expect(
      pdfText((await call(0, 'GET', `/api/v1/digests/${digestId}/report`)).rawPayload, 'digest-before'),
    ).not.toContain('平台加固时间戳');

    // The digest-timestamp job stamps it: verify checks the token, the report shows it, the package carries it.
    expect((await stampDigests({ db: app.db, tsa: app.tsa, now: () => clock })).stamped).toBe(1);
    const artifacts = await digestArtifacts(app.db, digestId);
    const verified = await call(0, 'POST', `/api/v1/digests/${digestId}/verify`);
    expect(verified.statusCode).toBe(200);
    const report = verified.json<{
      intact: boolean;
      checks: { part: string; ok: boolean; detail: string }[];
    }>();
    expect(report.intact).toBe(true);
    expect(report.checks.find((c) => c.part === 'reinforcement')).toMatchObject({ ok: true });
    const text = pdfText((await call(0, 'GET', `/api/v1/digests/${digestId}/report`)).rawPayload, 'digest');
    expect(text).toContain('平台加固时间戳');
    expect(text).toContain(toHex(sm3(new Uint8Array(artifacts!.timestamp_token!))));
    const zip = new Uint8Array((await call(0, 'GET', `/api/v1/digests/${digestId}/package`)).rawPayload);
    expect(Object.keys(unzipSync(zip))).toContain('evidence-timestamp.tsr');
    const offline = verifyEvidencePackage(zip, { root: app.ca.root.der });
    expect(offline.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const stampChecks = offline.checks.filter((c) => c.part === 'evidence-timestamp.tsr');
    expect(stampChecks.map((c) => c.check)).toEqual(
      expect.arrayContaining(['timestamp-signature', 'timestamp-imprint', 'timestamp-tsa-chain']),
    );
    expect(stampChecks.every((c) => c.status === 'pass')).toBe(true);

    // An altered token is named by verify.
    const token = new Uint8Array(artifacts!.timestamp_token!);
    const altered = token.slice();
    altered[altered.length - 10] = altered[altered.length - 10]! ^ 0x01;
    await app.db
      .withTables<{ digest_artifacts: { evidence_id: string; timestamp_token: Uint8Array } }>()
      .updateTable('digest_artifacts')
      .set({ timestamp_token: altered })
      .where('evidence_id', '=', digestId)
      .execute();
    const tampered = (await call(0, 'POST', `/api/v1/digests/${digestId}/verify`)).json<{
      intact: boolean;
      tampered: string[];
    }>();
    expect(tampered).toMatchObject({ intact: false, tampered: ['reinforcement'] });
    await app.db
      .withTables<{ digest_artifacts: { evidence_id: string; timestamp_token: Uint8Array } }>()
      .updateTable('digest_artifacts')
      .set({ timestamp_token: token })
      .where('evidence_id', '=', digestId)
      .execute();

    // The digest-report job stores a report: ?stored=1 serves exactly it; the default renders a fresh one.
    expect(
      (await generateDigestReports({ db: app.db, reports: app.reportsHolder, now: () => clock })).generated,
    ).toBe(1);
    const storedSm3 = (await digestArtifacts(app.db, digestId))!.report_sm3;
    const stored = await call(0, 'GET', `/api/v1/digests/${digestId}/report?stored=1`);
    expect(stored.statusCode).toBe(200);
    expect(stored.headers['content-type']).toBe('application/pdf');
    expect(toHex(sm3(new Uint8Array(stored.rawPayload)))).toBe(storedSm3);
    clock = T0 + 60_000;
    try {
      const fresh = await call(0, 'GET', `/api/v1/digests/${digestId}/report`);
      expect(fresh.statusCode).toBe(200);
      expect(toHex(sm3(new Uint8Array(fresh.rawPayload)))).not.toBe(storedSm3);
      const again = await call(0, 'GET', `/api/v1/digests/${digestId}/report?stored=1&lang=en-US`);
      expect(toHex(sm3(new Uint8Array(again.rawPayload)))).toBe(storedSm3);
    } finally {
      clock = T0;
    }
    expect(code(await call(1, 'GET', `/api/v1/digests/${digestId}/report?stored=1`))).toBe(
      'EVIDENCE_NOT_FOUND',
    );
  });

  const link = async (body: Record<string, unknown>): Promise<string> => {
    const r = await call(0, 'POST', `/api/v1/signatures/${id}/download-url`, JSON.stringify(body));
    expect(r.statusCode).toBe(200);
    const url = r.json<{ url: string }>().url;
    expect(url.startsWith(`${app.trustConfig.publicUrl}/downloads?t=`)).toBe(true);
    return url.slice(app.trustConfig.publicUrl.length);
  };
  const code = (r: { json: () => unknown }): string => (r.json() as { code: string }).code;
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** Base64url of 32 bytes spelt otherwise: the last character's unused low bit set (same bytes decoded). */
  const respell = (text: string): string =>
    `${text.slice(0, -1)}${B64URL[B64URL.indexOf(text.at(-1) ?? 'A') | 0x01] ?? ''}`;

  it('download links: served without signing, bound to what they name, one-time, expiring; never logged', async () => {
    const path = await link({ what: 'package' });
    const got = await app.inject({ method: 'GET', url: path });
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-type']).toBe('application/zip');
    expect(verifyEvidencePackage(new Uint8Array(got.rawPayload), { root: app.ca.root.der }).recordId).toBe(
      id,
    );
    expect((await app.inject({ method: 'GET', url: path })).statusCode).toBe(200); // reusable unless one-time

    const token = path.slice('/downloads?t='.length);
    const [payload, mac] = token.split('.') as [string, string];
    const grant = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...grant, id: 'sig_other' })).toString('base64url');
    const altered = await app.inject({ method: 'GET', url: `/downloads?t=${forged}.${mac}` });
    expect(altered.statusCode).toBe(403);
    expect(code(altered)).toBe('DOWNLOAD_LINK_INVALID');
    // One bit of the MAC flipped (in its bytes: a change of text alone may spell the same bytes).
    const macBytes = Buffer.from(mac, 'base64url');
    macBytes[0] = (macBytes[0] ?? 0) ^ 0x01;
    const flipped = await app.inject({
      method: 'GET',
      url: `/downloads?t=${payload}.${macBytes.toString('base64url')}`,
    });
    expect(code(flipped)).toBe('DOWNLOAD_LINK_INVALID');
    // Another spelling of the same MAC bytes (the last character's unused low bits set) is refused too.
    const respelt = respell(mac);
    expect(Buffer.from(respelt, 'base64url').equals(Buffer.from(mac, 'base64url'))).toBe(true);
    expect(respelt).not.toBe(mac);
    expect(code(await app.inject({ method: 'GET', url: `/downloads?t=${payload}.${respelt}` }))).toBe(
      'DOWNLOAD_LINK_INVALID',
    );

    const once = await link({ what: 'report', oneTime: true });
    expect((await app.inject({ method: 'GET', url: once })).headers['content-type']).toBe('application/pdf');
    const again = await app.inject({ method: 'GET', url: once });
    expect(again.statusCode).toBe(403);
    expect(code(again)).toBe('DOWNLOAD_LINK_USED');
    // Not reusable under another spelling of its MAC either (the same bytes, so the same MAC check).
    const [oncePayload, onceMac] = once.slice('/downloads?t='.length).split('.') as [string, string];
    const reused = await app.inject({
      method: 'GET',
      url: `/downloads?t=${oncePayload}.${respell(onceMac)}`,
    });
    expect(reused.statusCode).toBe(403);
    expect(code(reused)).toBe('DOWNLOAD_LINK_INVALID');

    const short = await link({ what: 'report', ttlSeconds: 5 });
    clock = T0 + 5_000;
    try {
      const expired = await app.inject({ method: 'GET', url: short });
      expect(expired.statusCode).toBe(403);
      expect(code(expired)).toBe('DOWNLOAD_LINK_EXPIRED');
    } finally {
      clock = T0;
    }
    const defaultTtl = await call(
      0,
      'POST',
      `/api/v1/signatures/${id}/download-url`,
      JSON.stringify({ what: 'report' }),
    );
    expect(Date.parse(defaultTtl.json<{ expiresAt: string }>().expiresAt) - T0).toBe(10 * 60_000);

    const fileOfSignature = await call(
      0,
      'POST',
      `/api/v1/signatures/${id}/download-url`,
      JSON.stringify({ what: 'file' }),
    );
    expect(fileOfSignature.statusCode).toBe(400);
    const logged = await app.db.selectFrom('api_logs').select(['path', 'response']).execute();
    expect(logged.some((l) => l.path.endsWith('/download-url'))).toBe(true);
    for (const l of logged) expect(l.response ?? '').not.toContain(token);
  });
});
