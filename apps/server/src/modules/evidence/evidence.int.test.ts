/**
 * The evidence API end to end through app.inject(), on every available database: push → receipt → query →
 * verify with SM2 CMS, RSA CMS, raw SM2 and RFC 3161 tokens (openssl and the pki builder), every rejection code,
 * duplicates and Idempotency-Key, batch, files, isolation between projects and applications, and tampering
 * with a stored record, payload, file or log node.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sm2, sm3, toHex, type Sm2PrivateKey } from '@yizheng/gm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../audit/canonical-json.js';
import { EVIDENCE_DEFAULTS } from '../../config.js';
import { verifyReceipt, type Receipt } from '../../evidence/receipt.js';
import { integrateAll, publishCheckpoint } from '../../log/index.js';
import { createApplication, updateApplication } from '../applications/service.js';
import { createProject, deleteProject, setProjectStatus, updateProject } from '../projects/service.js';
import { signWithGm, tempDir, testApp, testConfig } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { makePki, type Pki } from './fixtures.test-support.js';

// Ahead of the wall clock: the openssl certificates made below are valid from "now" (to the second).
const NOW = Date.now() + 120_000;
/** Response bodies, read loosely in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const ORIGINAL = utf8('入院记录：患者张三，男，45 岁，主诉胸痛 2 小时。');

let pki: Pki;
beforeAll(() => {
  pki = makePki();
}, 60_000);

interface Client {
  appId: string;
  key: Sm2PrivateKey;
}

describe.each(testDialects())('evidence API on %s', (dialect) => {
  const tmp = tempDir('yz-ev-');
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let a: Client; // project A
  let a2: Client; // project A, second application
  let b: Client; // project B
  const ctx = () => ({ db: app.db, now: () => NOW, actor: 'test' });

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    app = await testApp(
      testConfig(tdb.config, tmp.dir, {
        bodyLimit: 4 * 1024 * 1024,
        evidence: { trustStore: undefined, fileSizeLimit: 64 * 1024, fileDir: join(tmp.dir, 'files') },
      }),
      { now: () => NOW },
    );
    await createProject({ ctx: ctx(), number: 'P-A', name: '心内科' });
    await createProject({ ctx: ctx(), number: 'P-B', name: '急诊' });
    const mk = async (project: string, name: string): Promise<Client> => {
      const c = await createApplication({ ctx: ctx(), project, name });
      return { appId: c.application.id, key: sm2.importPrivateKey(c.privateKeyPem!) };
    };
    a = await mk('P-A', 'EMR');
    a2 = await mk('P-A', 'HIS');
    b = await mk('P-B', 'LIS');
  }, 60_000);
  afterAll(async () => {
    await app.close();
    await tdb.drop();
    tmp.remove();
  });

  const call = async (
    c: Client,
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const signed = signWithGm(c.key, {
      method,
      url,
      appId: c.appId,
      timestamp: NOW,
      ...(text ? { body: text } : {}),
    });
    const res = await app.inject({
      method,
      url,
      headers: { ...signed, ...(text ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(text ? { payload: text } : {}),
    });
    return { status: res.statusCode, json: (): Json => res.json(), raw: res };
  };
  const push = (c: Client, body: unknown, headers: Record<string, string> = {}) =>
    call(c, 'POST', '/api/v1/signatures', body, headers);

  const cmsCache = new Map<string, string>();
  const cmsFor = (serial: string): string => {
    let v = cmsCache.get(serial);
    if (v === undefined) {
      v = b64(pki.sm2Cms(ORIGINAL));
      cmsCache.set(serial, v);
    }
    return v;
  };
  const sm2CmsItem = (serial: string, extra: Record<string, unknown> = {}) => ({
    serialNumber: serial,
    businessType: '入院记录',
    sourceSystem: 'EMR',
    department: { code: '0301', name: '心内科' },
    patient: { id: 'P000123', name: '张三', visitNumber: 'V-88' },
    signature: { format: 'cms', value: cmsFor(serial) },
    tags: ['住院'],
    metadata: { 病区: '3A', 床号: 12 },
    ...extra,
  });

  let platformPem: string;
  const receipts: Receipt[] = [];

  it('SM2 CMS (attached): 201 receipt signed by the platform key; verifiable with openssl', async () => {
    const r = await push(a, sm2CmsItem('SN-0001'));
    expect(r.status).toBe(201);
    const receipt = r.json() as Receipt;
    expect(receipt).toMatchObject({
      type: 'yizheng-receipt/1',
      kind: 'signature',
      appId: a.appId,
      serialNumber: 'SN-0001',
      logIndex: 0,
      verification: {
        format: 'cms',
        chain: 'untrusted-root',
        against: 'original',
        signingTimeSource: 'cms-signing-time',
      },
    });
    expect(receipt.id).toMatch(/^sig_[0-9a-f]{24}$/);
    const key = await call(a, 'GET', '/api/v1/receipts/key');
    platformPem = key.json().publicKeyPem as string;
    expect(verifyReceipt({ publicKey: sm2.importPublicKey(platformPem) }, receipt)).toBe(true);
    // Independently, with openssl pkeyutl over the canonical receipt body.
    const { signature, ...body } = receipt;
    writeFileSync(join(tmp.dir, 'body.json'), canonicalJson(body));
    writeFileSync(join(tmp.dir, 'sig.der'), Buffer.from(signature.value, 'base64'));
    writeFileSync(join(tmp.dir, 'platform.pem'), platformPem);
    const out = pki.openssl(
      'pkeyutl',
      '-verify',
      '-rawin',
      '-digest',
      'sm3',
      '-pkeyopt',
      'distid:1234567812345678',
      '-pubin',
      '-inkey',
      join(tmp.dir, 'platform.pem'),
      '-in',
      join(tmp.dir, 'body.json'),
      '-sigfile',
      join(tmp.dir, 'sig.der'),
    );
    expect(out.toString()).toMatch(/Signature Verified Successfully/);
    // A changed body no longer verifies.
    expect(verifyReceipt({ publicKey: sm2.importPublicKey(platformPem) }, { ...receipt, logIndex: 1 })).toBe(
      false,
    );
    receipts.push(receipt);
  });

  it('the same evidence pushed again returns the first receipt (200); patient fields are encrypted at rest', async () => {
    const r = await push(a, sm2CmsItem('SN-0001'));
    expect(r.status).toBe(200);
    const again = r.json() as Receipt;
    expect({ ...again, signature: undefined }).toEqual({ ...receipts[0]!, signature: undefined });
    const row = await app.db
      .selectFrom('evidence')
      .selectAll()
      .where('id', '=', again.id)
      .executeTakeFirstOrThrow();
    expect(row.patient_id_enc).not.toContain('P000123');
    expect(row.patient_name_enc).not.toContain('张三');
    expect(JSON.stringify(row)).not.toContain('张三');
  });

  it('RSA CMS detached with the original, and with only its digest; RSA CMS attached', async () => {
    const detached = pki.rsaCmsDetached(ORIGINAL);
    const r1 = await push(a, {
      serialNumber: 'SN-RSA-1',
      signature: { format: 'cms', value: b64(detached) },
      original: b64(ORIGINAL),
    });
    expect(r1.status).toBe(201);
    expect(r1.json().verification).toMatchObject({ against: 'original', signer: 'CN=张医生' });
    const digest = createHash('sha256').update(ORIGINAL).digest('hex');
    const r2 = await push(a, {
      serialNumber: 'SN-RSA-2',
      signature: { format: 'cms', value: b64(detached) },
      originalDigest: { algorithm: 'sha256', value: digest },
    });
    expect(r2.status).toBe(201);
    expect(r2.json().verification).toMatchObject({ against: 'digest' });
    const r3 = await push(a, {
      serialNumber: 'SN-RSA-3',
      signature: { format: 'cms', value: b64(pki.rsaCmsAttached(ORIGINAL)) },
    });
    expect(r3.status).toBe(201);
  });

  it('the record keeps the SM3 of the original: from a verified SM3 messageDigest, else hashed', async () => {
    // An independent SM3 (OpenSSL through node:crypto) of an original other tests do not push.
    const original = utf8('出院小结：患者恢复良好，准予出院。'.repeat(40));
    const expected = createHash('sm3').update(original).digest('hex');
    const stored = async (r: { json: () => Json }) =>
      (
        await app.db
          .selectFrom('evidence')
          .select(['original_sm3', 'original_size'])
          .where('id', '=', r.json().id as string)
          .executeTakeFirstOrThrow()
      ).original_sm3;
    const attached = await push(a, {
      serialNumber: 'SN-OSM3-1',
      signature: { format: 'cms', value: b64(pki.sm2Cms(original)) },
    });
    const detached = await push(a, {
      serialNumber: 'SN-OSM3-2',
      signature: { format: 'cms', value: b64(pki.sm2Cms(original, { detached: true })) },
      original: b64(original),
    });
    const rsa = await push(a, {
      serialNumber: 'SN-OSM3-3',
      signature: { format: 'cms', value: b64(pki.rsaCmsDetached(original)) },
      original: b64(original),
    });
    for (const r of [attached, detached, rsa]) {
      expect(r.status).toBe(201);
      expect(await stored(r)).toBe(expected);
    }
  });

  it('raw SM2 signature (openssl pkeyutl) with the signer certificate', async () => {
    const r = await push(a, {
      serialNumber: 'SN-RAW-1',
      signature: { format: 'raw', value: b64(pki.sm2Raw(ORIGINAL)), certificate: pki.sm2CertPem },
      original: b64(ORIGINAL),
      signedAt: new Date(NOW - 1000).toISOString(),
    });
    expect(r.json()).toMatchObject({ kind: 'signature' });
    expect(r.status).toBe(201);
    expect(r.json().verification).toMatchObject({
      format: 'raw',
      signatureAlgorithm: '1.2.156.10197.1.501',
      signingTimeSource: 'declared',
    });
  });

  it('RFC 3161: a token over the raw signature value (openssl ts -reply), and CAdES-T inside SM2 CMS', async () => {
    const sig = pki.sm2Raw(ORIGINAL);
    const r = await push(a, {
      serialNumber: 'SN-TS-1',
      signature: { format: 'raw', value: b64(sig), certificate: b64(pki.sm2CertDer) },
      original: b64(ORIGINAL),
      timestampToken: b64(pki.timestamp(sig)),
    });
    expect(r.status).toBe(201);
    expect(r.json().verification).toMatchObject({
      signingTimeSource: 'timestamp',
      timestamp: { covers: 'signature', source: 'pushed' },
    });
    const r2 = await push(
      a,
      sm2CmsItem('SN-TS-2', {
        signature: { format: 'cms', value: b64(pki.sm2Cms(ORIGINAL, { tokenOverSignature: true })) },
      }),
    );
    expect(r2.status).toBe(201);
    expect(r2.json().verification).toMatchObject({
      timestamp: { source: 'cms-unsigned-attribute', covers: 'signature' },
    });
  });

  it('digest data: 201 receipt; duplicate → the first receipt', async () => {
    const value = toHex(sm3(ORIGINAL));
    const r = await call(a, 'POST', '/api/v1/digests', {
      serialNumber: 'D-1',
      category: '病历',
      algorithm: 'sm3',
      value,
    });
    expect(r.status).toBe(201);
    expect(r.json().id).toMatch(/^dig_/);
    const again = await call(a, 'POST', '/api/v1/digests', {
      serialNumber: 'D-1',
      category: '病历',
      algorithm: 'sm3',
      value,
    });
    expect(again.status).toBe(200);
    expect(again.json().id).toBe(r.json().id);
    const id = r.json().id as string;
    const v = (await call(a, 'POST', `/api/v1/digests/${id}/verify`)).json();
    expect(v).toMatchObject({ intact: true, kind: 'digest', log: { status: 'pending' } });
    const listed = (await call(a, 'GET', '/api/v1/digests?serialNumber=D-1')).json();
    expect(listed.items[0]).toMatchObject({ id, category: '病历', digest: { algorithm: 'sm3', value } });
    const bad = await call(a, 'POST', '/api/v1/digests', { serialNumber: 'D-2', algorithm: 'sha512', value });
    expect(bad.status).toBe(400);
    expect(bad.json().code).toBe('EVIDENCE_INPUT_INVALID');
  });

  it('Idempotency-Key: a replay returns the first receipt; the key on other evidence → 409', async () => {
    const k = { 'idempotency-key': 'req-0001' };
    const r1 = await push(a, sm2CmsItem('SN-IK-1'), k);
    expect(r1.status).toBe(201);
    const r2 = await push(a, sm2CmsItem('SN-IK-1'), k);
    expect(r2.status).toBe(200);
    expect(r2.json().id).toBe(r1.json().id);
    const r3 = await push(a, sm2CmsItem('SN-IK-2'), k);
    expect(r3.status).toBe(409);
    expect(r3.json().code).toBe('EVIDENCE_IDEMPOTENCY_CONFLICT');
    const r4 = await push(a, sm2CmsItem('SN-IK-3'), { 'idempotency-key': 'bad key!' });
    expect(r4.json().code).toBe('EVIDENCE_INPUT_INVALID');
  });

  it('batch: a result per item (stored, rejected, duplicate within the batch); > 1,000 items → 413', async () => {
    const good = sm2CmsItem('SN-B-1');
    // The last byte of this CMS is the last byte of its SM2 signature (no unsigned attributes): pre-verified on
    // the thread pool with the others, it must still be refused, and by name.
    const tampered = Buffer.from(pki.sm2Cms(ORIGINAL));
    tampered[tampered.length - 1]! ^= 1;
    const items = [
      good,
      { ...sm2CmsItem('SN-B-2'), signature: { format: 'cms', value: b64(utf8('not a cms')) } },
      good,
      sm2CmsItem('SN-B-3'),
      { ...sm2CmsItem('SN-B-4'), signature: { format: 'cms', value: b64(tampered) } },
    ];
    const r = await call(a, 'POST', '/api/v1/signatures:batch', { items });
    expect(r.status).toBe(200);
    const results = r.json().results as {
      index: number;
      status: number;
      receipt?: Receipt;
      error?: { code: string };
    }[];
    expect(results.map((x) => x.status).sort()).toEqual([200, 201, 201, 422, 422].sort());
    expect(results[1]!.error!.code).toBe('EVIDENCE_FORMAT_INVALID');
    expect(results[4]!.error!.code).toBe('EVIDENCE_SIGNATURE_INVALID');
    expect(results[0]!.receipt!.id).toBe(results[2]!.receipt!.id);
    // Contiguous log indices were assigned to the batch.
    const indices = results.filter((x) => x.status === 201).map((x) => x.receipt!.logIndex);
    expect(new Set(indices).size).toBe(2);
    const big = await call(a, 'POST', '/api/v1/signatures:batch', {
      items: Array.from({ length: 1001 }, () => good),
    });
    expect(big.status).toBe(413);
    expect(big.json().code).toBe('EVIDENCE_BATCH_TOO_LARGE');
  });

  it('batch with an Idempotency-Key: a replay returns the same receipts; items stored before answer 200', async () => {
    const items = [sm2CmsItem('SN-BK-1'), sm2CmsItem('SN-BK-2'), sm2CmsItem('SN-0001')];
    const h = { 'idempotency-key': 'batch-0001' };
    const first = (await call(a, 'POST', '/api/v1/signatures:batch', { items }, h)).json().results as {
      status: number;
      receipt: Receipt;
    }[];
    expect(first.map((r) => r.status)).toEqual([201, 201, 200]);
    expect(first[2]!.receipt.id).toBe(receipts[0]!.id);
    const replay = (await call(a, 'POST', '/api/v1/signatures:batch', { items }, h)).json().results as {
      status: number;
      receipt: Receipt;
    }[];
    expect(replay.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(replay.map((r) => r.receipt.id)).toEqual(first.map((r) => r.receipt.id));
    const other = await call(a, 'POST', '/api/v1/signatures:batch', { items: [sm2CmsItem('SN-BK-3')] }, h);
    expect(other.json().results[0].error.code).toBe('EVIDENCE_IDEMPOTENCY_CONFLICT');
  });

  it('concurrent pushes share transactions (group commit) and every one gets its own contiguous log index', async () => {
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => push(a2, sm2CmsItem(`SN-C-${i}`))));
    expect(rs.every((r) => r.status === 201)).toBe(true);
    const idx = rs.map((r) => r.json().logIndex as number).sort((x, y) => x - y);
    expect(idx.at(-1)! - idx[0]!).toBe(39);
    const leaves = await app.db
      .selectFrom('log_leaves')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const records = await app.db
      .selectFrom('evidence')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(leaves.n)).toBe(Number(records.n));
  });

  it('query: by id, application, serial number, patient id and name (exact), time range; cursor pagination', async () => {
    const q = async (c: Client, qs: string): Promise<Json> =>
      (await call(c, 'GET', `/api/v1/signatures${qs}`)).json();
    expect((await q(a, '?serialNumber=SN-0001')).items).toHaveLength(1);
    const byPatient = await q(a, `?patientId=P000123`);
    expect(byPatient.items.length).toBeGreaterThan(3);
    expect(byPatient.items[0].patient).toEqual({ id: 'P000123', name: '张三', visitNumber: 'V-88' });
    expect(
      (await q(a, `?patientName=${encodeURIComponent('张三')}&serialNumber=SN-0001`)).items,
    ).toHaveLength(1);
    expect((await q(a, `?patientName=${encodeURIComponent('张')}`)).items).toHaveLength(0);
    expect((await q(a, `?id=${receipts[0]!.id}`)).items[0].id).toBe(receipts[0]!.id);
    const byApp = await q(a, `?appId=${a2.appId}&limit=200`);
    expect(byApp.items).toHaveLength(40);
    const from = new Date(NOW).toISOString();
    expect((await q(a, `?from=${from}&limit=1`)).items).toHaveLength(1);
    expect((await q(a, `?to=${from}`)).items).toHaveLength(0);
    // Pages of 7 cover everything once, in a stable order.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await q(
        a,
        `?appId=${a2.appId}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(byApp.items.map((i: { id: string }) => i.id));
    const bad = await call(a, 'GET', '/api/v1/signatures?cursor=nonsense');
    expect(bad.json().code).toBe('EVIDENCE_CURSOR_INVALID');
  });

  it('detail: the stored signature, certificates and original; 404 EVIDENCE_NOT_FOUND', async () => {
    const d = await call(a, 'GET', `/api/v1/signatures/${receipts[0]!.id}`);
    expect(d.status).toBe(200);
    expect(d.json().payload.signature).toBeTruthy();
    expect(d.json().evidenceHash).toBe(receipts[0]!.evidenceHash);
    // Metadata keeps its JSON types (an integer is not coerced to a string).
    expect(d.json().metadata).toEqual({ 病区: '3A', 床号: 12 });
    const nf = await call(a, 'GET', '/api/v1/signatures/sig_000000000000000000000000');
    expect(nf.status).toBe(404);
    expect(nf.json().code).toBe('EVIDENCE_NOT_FOUND');
  });

  it('isolation: another project sees nothing; an application of the same project sees its project’s data', async () => {
    const other = await call(b, 'GET', `/api/v1/signatures/${receipts[0]!.id}`);
    expect(other.status).toBe(404);
    expect((await call(b, 'GET', '/api/v1/signatures')).json().items).toHaveLength(0);
    const verify = await call(b, 'POST', `/api/v1/signatures/${receipts[0]!.id}/verify`);
    expect(verify.status).toBe(404);
    expect((await call(a2, 'GET', `/api/v1/signatures/${receipts[0]!.id}`)).status).toBe(200);
    // A digest id is not a signature.
    expect((await call(a, 'GET', `/api/v1/digests/${receipts[0]!.id}`)).status).toBe(404);
  });

  it('verify: intact, pending before the log is checkpointed, included with a proof after', async () => {
    const v1 = await call(a, 'POST', `/api/v1/signatures/${receipts[0]!.id}/verify`);
    expect(v1.status).toBe(200);
    expect(v1.json()).toMatchObject({ intact: true, tampered: [], log: { status: 'pending', index: 0 } });
    await integrateAll({ db: app.db, now: () => NOW });
    await publishCheckpoint({ db: app.db, key: app.platformKey, now: NOW, minIntervalMs: 0 });
    const v2 = (await call(a, 'POST', `/api/v1/signatures/${receipts[0]!.id}/verify`)).json();
    expect(v2).toMatchObject({ intact: true, log: { status: 'included', index: 0 } });
    expect(v2.log.treeSize).toBeGreaterThan(40);
    expect(v2.log.checkpoint).toContain('\n');
    expect(v2.checks.map((c: { part: string }) => c.part)).toEqual(
      expect.arrayContaining(['record', 'patient', 'signature', 'log']),
    );
  });

  it('files: multipart + detached RSA CMS over the file → receipt; download; 413 and missing-file codes', async () => {
    const content = new Uint8Array(Buffer.from('%PDF-1.7 出院小结 ' + 'x'.repeat(3000)));
    const meta = {
      serialNumber: 'F-1',
      patient: { id: 'P000123' },
      signature: b64(pki.rsaCmsDetached(content)),
    };
    const multipart = (parts: { name: string; filename?: string; type: string; data: Uint8Array }[]) => {
      const boundary = 'yz-boundary-7f3a';
      const chunks: Buffer[] = [];
      for (const p of parts) {
        chunks.push(
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\nContent-Type: ${p.type}\r\n\r\n`,
          ),
          Buffer.from(p.data),
          Buffer.from('\r\n'),
        );
      }
      chunks.push(Buffer.from(`--${boundary}--\r\n`));
      return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
    };
    const send = async (m: { body: Buffer; type: string }) => {
      const url = '/api/v1/files';
      const h = signWithGm(a.key, {
        method: 'POST',
        url,
        appId: a.appId,
        timestamp: NOW,
        body: new Uint8Array(m.body),
      });
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { ...h, 'content-type': m.type },
        payload: m.body,
      });
      return { status: res.statusCode, json: (): Json => res.json() };
    };
    const ok = await send(
      multipart([
        { name: 'meta', type: 'application/json', data: utf8(JSON.stringify(meta)) },
        { name: 'file', filename: '出院小结.pdf', type: 'application/pdf', data: content },
      ]),
    );
    expect(ok.status).toBe(201);
    const id = ok.json().id as string;
    expect(id).toMatch(/^fil_/);
    const dl = await call(a, 'GET', `/api/v1/files/${id}/content`);
    expect(dl.status).toBe(200);
    expect(Buffer.from(dl.raw.rawPayload).equals(Buffer.from(content))).toBe(true);
    const detail = (await call(a, 'GET', `/api/v1/files/${id}`)).json();
    expect(detail.file).toMatchObject({
      sm3: toHex(sm3(content)),
      size: content.length,
      name: '出院小结.pdf',
    });
    const v = (await call(a, 'POST', `/api/v1/files/${id}/verify`)).json();
    expect(v).toMatchObject({ intact: true });

    const tooBig = await send(
      multipart([
        { name: 'meta', type: 'application/json', data: utf8(JSON.stringify({ serialNumber: 'F-2' })) },
        {
          name: 'file',
          filename: 'big.bin',
          type: 'application/octet-stream',
          data: new Uint8Array(64 * 1024 + 1),
        },
      ]),
    );
    expect(tooBig.status).toBe(413);
    expect(tooBig.json().code).toBe('EVIDENCE_FILE_TOO_LARGE');
    const huge = await send(
      multipart([{ name: 'file', type: 'application/octet-stream', data: new Uint8Array(2 * 1024 * 1024) }]),
    );
    expect(huge.json().code).toBe('EVIDENCE_FILE_TOO_LARGE');
    const missing = await send(
      multipart([
        { name: 'meta', type: 'application/json', data: utf8(JSON.stringify({ serialNumber: 'F-3' })) },
      ]),
    );
    expect(missing.status).toBe(400);
    expect(missing.json().code).toBe('EVIDENCE_FILE_MISSING');
    const badSig = await send(
      multipart([
        {
          name: 'meta',
          type: 'application/json',
          data: utf8(JSON.stringify({ ...meta, serialNumber: 'F-4' })),
        },
        { name: 'file', filename: 'x.pdf', type: 'application/pdf', data: utf8('another file') },
      ]),
    );
    expect(badSig.status).toBe(422);
    expect(badSig.json().code).toBe('EVIDENCE_DIGEST_MISMATCH');
    // Changing one byte of the body after signing is refused by the signed-API guard.
    const m = multipart([
      { name: 'meta', type: 'application/json', data: utf8(JSON.stringify({ serialNumber: 'F-5' })) },
      { name: 'file', type: 'text/plain', data: utf8('abc') },
    ]);
    const h = signWithGm(a.key, {
      method: 'POST',
      url: '/api/v1/files',
      appId: a.appId,
      timestamp: NOW,
      body: new Uint8Array(m.body),
    });
    const changed = Buffer.from(m.body);
    changed[changed.length - 20]! ^= 1;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/files',
      headers: { ...h, 'content-type': m.type },
      payload: changed,
    });
    expect(res.json().code).toBe('AUTH_SIGNATURE_INVALID');
    expect(EVIDENCE_DEFAULTS.fileSizeLimit).toBeGreaterThan(64 * 1024);
  });

  it('the OpenAPI document lists the evidence API', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json<{ paths: Record<string, unknown> }>().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/signatures',
        '/api/v1/signatures:batch',
        '/api/v1/digests',
        '/api/v1/files',
        '/api/v1/files/{id}/content',
        '/api/v1/signatures/{id}/verify',
      ]),
    );
  });

  describe('rejections: 422 names the failed check, nothing is stored', () => {
    const count = async () =>
      Number(
        (
          await app.db
            .selectFrom('evidence')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const cases: [string, () => Record<string, unknown>, number][] = [
      [
        'EVIDENCE_SIGNATURE_INVALID',
        () => ({
          signature: { format: 'raw', value: b64(pki.sm2Raw(utf8('other'))), certificate: pki.sm2CertPem },
          original: b64(ORIGINAL),
        }),
        422,
      ],
      [
        'EVIDENCE_DIGEST_MISMATCH',
        () => ({
          signature: { format: 'cms', value: b64(pki.rsaCmsDetached(ORIGINAL)) },
          original: b64(utf8('changed original')),
        }),
        422,
      ],
      ['EVIDENCE_FORMAT_INVALID', () => ({ signature: { format: 'cms', value: b64(utf8('garbage')) } }), 422],
      [
        'EVIDENCE_SIGNER_CERT_MISSING',
        () => ({ signature: { format: 'raw', value: b64(pki.sm2Raw(ORIGINAL)) }, original: b64(ORIGINAL) }),
        422,
      ],
      [
        'EVIDENCE_ORIGINAL_REQUIRED',
        () => ({ signature: { format: 'cms', value: b64(pki.rsaCmsDetached(ORIGINAL)) } }),
        400,
      ],
      [
        'EVIDENCE_CERT_EXPIRED',
        () => ({
          signature: { format: 'raw', value: b64(pki.sm2Raw(ORIGINAL)), certificate: pki.sm2CertPem },
          original: b64(ORIGINAL),
          signedAt: '2099-01-01T00:00:00Z',
        }),
        422,
      ],
      [
        'EVIDENCE_CERT_NOT_YET_VALID',
        () => ({
          signature: { format: 'raw', value: b64(pki.sm2Raw(ORIGINAL)), certificate: pki.sm2CertPem },
          original: b64(ORIGINAL),
          signedAt: '2001-01-01T00:00:00Z',
        }),
        422,
      ],
      [
        'EVIDENCE_ALGORITHM_UNSUPPORTED',
        () => ({
          signature: {
            format: 'raw',
            value: b64(pki.sm2Raw(ORIGINAL)),
            certificate: pki.sm2CertPem,
            algorithm: '1.2.3.4',
          },
          original: b64(ORIGINAL),
        }),
        422,
      ],
      [
        'EVIDENCE_TIMESTAMP_IMPRINT_MISMATCH',
        () => {
          const s = pki.sm2Raw(ORIGINAL);
          return {
            signature: { format: 'raw', value: b64(s), certificate: pki.sm2CertPem },
            original: b64(ORIGINAL),
            timestampToken: b64(pki.timestamp(utf8('something else'))),
          };
        },
        422,
      ],
      [
        'EVIDENCE_TIMESTAMP_INVALID',
        () => ({
          signature: { format: 'raw', value: b64(pki.sm2Raw(ORIGINAL)), certificate: pki.sm2CertPem },
          original: b64(ORIGINAL),
          timestampToken: b64(utf8('not a token')),
        }),
        422,
      ],
      ['EVIDENCE_INPUT_INVALID', () => ({ signature: { format: 'cms', value: 'abc' } }), 400],
      ['REQUEST_VALIDATION', () => ({ signature: { format: 'pgp', value: 'AAAA' } }), 400],
    ];
    it.each(cases)('%s', async (code, make, status) => {
      const before = await count();
      const r = await push(a, { serialNumber: `SN-REJ-${code}`, ...make() });
      expect(r.json().code).toBe(code);
      expect(r.status).toBe(status);
      expect(r.raw.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(await count()).toBe(before);
    });

    it('PROJECT_FROZEN: a frozen project stores nothing', async () => {
      await setProjectStatus({ ctx: ctx(), refs: ['P-B'], status: 'frozen' });
      const r = await push(b, sm2CmsItem('SN-FROZEN'));
      expect(r.status).toBe(403);
      expect(r.json().code).toBe('PROJECT_FROZEN');
      await setProjectStatus({ ctx: ctx(), refs: ['P-B'], status: 'active' });
    });
  });

  describe('with a trust store (YIZHENG_TRUST_STORE: a directory of PEM roots)', () => {
    let trusted: FastifyInstance;
    beforeAll(async () => {
      const dir = join(tmp.dir, 'trust');
      mkdirSync(dir);
      writeFileSync(join(dir, 'root.pem'), pki.rsaCaPem);
      writeFileSync(join(dir, 'sm2.crt'), pki.sm2CertPem + pki.notCaPem);
      writeFileSync(join(dir, 'ignored.txt'), 'not a certificate');
      trusted = await testApp(
        testConfig(tdb.config, tmp.dir, {
          bodyLimit: 4 * 1024 * 1024,
          evidence: { trustStore: dir, fileSizeLimit: 64 * 1024, fileDir: join(tmp.dir, 'files') },
        }),
        { now: () => NOW },
      );
    });
    afterAll(async () => {
      await trusted.close();
    });
    const pushTrusted = async (body: unknown) => {
      const text = JSON.stringify(body);
      const url = '/api/v1/signatures';
      const h = signWithGm(a.key, { method: 'POST', url, appId: a.appId, timestamp: NOW, body: text });
      const res = await trusted.inject({
        method: 'POST',
        url,
        headers: { ...h, 'content-type': 'application/json' },
        payload: text,
      });
      return { status: res.statusCode, json: (): Json => res.json() };
    };

    it('a chain to a trusted root → chain "trusted" (RSA CA → leaf; a self-signed SM2 certificate in the store)', async () => {
      const r = await pushTrusted({
        serialNumber: 'SN-T-1',
        signature: { format: 'cms', value: b64(pki.rsaCmsDetached(ORIGINAL)) },
        original: b64(ORIGINAL),
      });
      expect(r.status).toBe(201);
      expect(r.json().verification).toMatchObject({ chain: 'trusted' });
      const s = await pushTrusted({
        serialNumber: 'SN-T-2',
        signature: { format: 'raw', value: b64(pki.sm2Raw(ORIGINAL)), certificate: pki.sm2CertPem },
        original: b64(ORIGINAL),
      });
      expect(s.status).toBe(201);
      expect(s.json().verification).toMatchObject({ chain: 'trusted' });
    });

    it('EVIDENCE_CHAIN_UNTRUSTED: issued by a root not in the store', async () => {
      const r = await pushTrusted({
        serialNumber: 'SN-T-3',
        signature: { format: 'cms', value: b64(pki.rsaCmsDetached(ORIGINAL, 'other')) },
        original: b64(ORIGINAL),
      });
      expect(r.status).toBe(422);
      expect(r.json().code).toBe('EVIDENCE_CHAIN_UNTRUSTED');
    });

    it('EVIDENCE_CHAIN_INVALID: issued by a certificate that is not a CA', async () => {
      const r = await pushTrusted({
        serialNumber: 'SN-T-4',
        signature: { format: 'cms', value: b64(pki.rsaCmsDetached(ORIGINAL, 'notca')) },
        original: b64(ORIGINAL),
      });
      expect(r.status).toBe(422);
      expect(r.json().code).toBe('EVIDENCE_CHAIN_INVALID');
    });
  });

  it('the application’s default tags are merged into its records: defaults first, each tag once', async () => {
    await updateApplication({ ctx: ctx(), id: a2.appId, defaultTags: ['门诊', '住院'] });
    try {
      const sig = await push(a2, sm2CmsItem('TAGS-1', { tags: ['住院', '急诊', '急诊'] }));
      expect(sig.status).toBe(201);
      const dig = await call(a2, 'POST', '/api/v1/digests', {
        serialNumber: 'TAGS-2',
        algorithm: 'sm3',
        value: toHex(sm3(new TextEncoder().encode('TAGS-2'))),
      });
      expect(dig.status).toBe(201);
      const batch = await call(a2, 'POST', '/api/v1/signatures:batch', {
        items: [sm2CmsItem('TAGS-3', { tags: [] })],
      });
      expect(batch.json().results[0].status).toBe(201);
      const tagsOf = async (kind: string, id: string) =>
        (await call(a2, 'GET', `/api/v1/${kind}/${id}`)).json().tags as string[];
      expect(await tagsOf('signatures', sig.json().id as string)).toEqual(['门诊', '住院', '急诊']);
      expect(await tagsOf('digests', dig.json().id as string)).toEqual(['门诊', '住院']);
      expect(await tagsOf('signatures', batch.json().results[0].receipt.id as string)).toEqual([
        '门诊',
        '住院',
      ]);
      // The merged tags are part of the hashed record.
      const v = (await call(a2, 'POST', `/api/v1/signatures/${sig.json().id as string}/verify`)).json();
      expect(v.intact).toBe(true);
    } finally {
      await updateApplication({ ctx: ctx(), id: a2.appId, defaultTags: [] });
    }
    // Without defaults the request's tags are stored as sent.
    const plain = await push(a2, sm2CmsItem('TAGS-4', { tags: ['急诊'] }));
    expect((await call(a2, 'GET', `/api/v1/signatures/${plain.json().id as string}`)).json().tags).toEqual([
      '急诊',
    ]);
  });

  it('deleting a project removes its evidence records and payloads, and nothing of other projects', async () => {
    await createProject({ ctx: ctx(), number: 'P-DEL', name: '待删除' });
    const d = await createApplication({ ctx: ctx(), project: 'P-DEL', name: 'tmp' });
    const c: Client = { appId: d.application.id, key: sm2.importPrivateKey(d.privateKeyPem!) };
    const r = await push(c, sm2CmsItem('SN-DEL-1'));
    expect(r.status).toBe(201);
    const count = async (projectId?: string) => {
      let q = app.db.selectFrom('evidence').select((eb) => eb.fn.countAll().as('n'));
      if (projectId !== undefined) q = q.where('project_id', '=', projectId);
      return Number((await q.executeTakeFirstOrThrow()).n);
    };
    const before = await count();
    await deleteProject({ ctx: ctx(), ref: 'P-DEL' });
    expect(await count(d.application.projectId)).toBe(0);
    expect(await count()).toBe(before - 1);
    const payload = await app.db
      .selectFrom('evidence_payloads')
      .select('evidence_id')
      .where('evidence_id', '=', (r.json() as Receipt).id)
      .executeTakeFirst();
    expect(payload).toBeUndefined();
  });

  describe('tamper detection: one changed byte → verify names exactly that record and part', () => {
    const verify = async (kind: string, id: string): Promise<Json> =>
      (await call(a, 'POST', `/api/v1/${kind}/${id}/verify`)).json();
    const flip = (s: string): string => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');

    it('a stored record column', async () => {
      const [x, y] = [
        receipts[0]!.id,
        (await call(a, 'GET', '/api/v1/signatures?serialNumber=SN-RSA-1')).json().items[0].id,
      ];
      const row = await app.db
        .selectFrom('evidence')
        .select('serial_number')
        .where('id', '=', x)
        .executeTakeFirstOrThrow();
      await app.db
        .updateTable('evidence')
        .set({ serial_number: flip(row.serial_number) })
        .where('id', '=', x)
        .execute();
      const v = await verify('signatures', x);
      expect(v.intact).toBe(false);
      expect(v.tampered).toEqual(['record']);
      expect((await verify('signatures', y)).intact).toBe(true);
      await app.db
        .updateTable('evidence')
        .set({ serial_number: row.serial_number })
        .where('id', '=', x)
        .execute();
      expect((await verify('signatures', x)).intact).toBe(true);
    });

    it('the stored evidence hash itself, or a digest column made non-hex → record tampered, never a 500', async () => {
      const x = (await call(a, 'GET', '/api/v1/signatures?serialNumber=SN-RSA-2')).json().items[0]
        .id as string;
      const row = await app.db
        .selectFrom('evidence')
        .select(['evidence_hash', 'digest_value'])
        .where('id', '=', x)
        .executeTakeFirstOrThrow();
      await app.db
        .updateTable('evidence')
        .set({ evidence_hash: 'z'.repeat(64) })
        .where('id', '=', x)
        .execute();
      const v = await verify('signatures', x);
      expect(v.tampered).toEqual(['record']);
      await app.db
        .updateTable('evidence')
        .set({ evidence_hash: row.evidence_hash, digest_value: 'not-hex' })
        .where('id', '=', x)
        .execute();
      const w = await verify('signatures', x);
      expect(w.intact).toBe(false);
      expect(w.tampered).toContain('record');
      await app.db
        .updateTable('evidence')
        .set({ digest_value: row.digest_value })
        .where('id', '=', x)
        .execute();
      expect((await verify('signatures', x)).intact).toBe(true);
    });

    it('a stored signature byte, and a sealed patient field', async () => {
      const x = receipts[0]!.id;
      const p = await app.db
        .selectFrom('evidence_payloads')
        .select('signature')
        .where('evidence_id', '=', x)
        .executeTakeFirstOrThrow();
      const changed = Buffer.from(p.signature!);
      changed[changed.length - 1]! ^= 0x01;
      await app.db
        .updateTable('evidence_payloads')
        .set({ signature: changed })
        .where('evidence_id', '=', x)
        .execute();
      const v = await verify('signatures', x);
      expect(v.tampered).toEqual(['signature']);
      await app.db
        .updateTable('evidence_payloads')
        .set({ signature: Buffer.from(p.signature!) })
        .where('evidence_id', '=', x)
        .execute();
      const e = await app.db
        .selectFrom('evidence')
        .select('patient_name_enc')
        .where('id', '=', x)
        .executeTakeFirstOrThrow();
      await app.db
        .updateTable('evidence')
        .set({ patient_name_enc: flip(e.patient_name_enc!) })
        .where('id', '=', x)
        .execute();
      expect((await verify('signatures', x)).tampered).toEqual(['patient']);
      await app.db
        .updateTable('evidence')
        .set({ patient_name_enc: e.patient_name_enc })
        .where('id', '=', x)
        .execute();
      expect((await verify('signatures', x)).intact).toBe(true);
    });

    it('a stored file byte (local store) → file tampered, download refused', async () => {
      const list = (await call(a, 'GET', '/api/v1/files?serialNumber=F-1')).json();
      const f = list.items[0] as { id: string; file: { sm3: string } };
      const path = join(tmp.dir, 'files', f.file.sm3.slice(0, 2), f.file.sm3.slice(2, 4), f.file.sm3);
      const bytes = readFileSync(path);
      const changed = Buffer.from(bytes);
      changed[10]! ^= 0x01;
      writeFileSync(path, changed);
      expect((await verify('files', f.id)).tampered).toEqual(['file']);
      const dl = await call(a, 'GET', `/api/v1/files/${f.id}/content`);
      expect(dl.json().code).toBe('EVIDENCE_TAMPERED');
      writeFileSync(path, bytes);
      expect((await verify('files', f.id)).intact).toBe(true);
      expect(statSync(path).size).toBe(bytes.length);
      expect(readdirSync(join(tmp.dir, 'files')).length).toBeGreaterThan(0);
    });

    it('a stored file byte (database store, per-project choice) → file tampered', async () => {
      await updateProject({ ctx: ctx(), ref: 'P-B', fileStorage: 'database' });
      const boundary = 'db-boundary';
      const content = Buffer.from('检验报告 LIS-42');
      const body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n` +
            JSON.stringify({ serialNumber: 'F-DB-1' }) +
            `\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.txt"\r\n\r\n`,
        ),
        content,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const url = '/api/v1/files';
      const h = signWithGm(b.key, {
        method: 'POST',
        url,
        appId: b.appId,
        timestamp: NOW,
        body: new Uint8Array(body),
      });
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { ...h, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: body,
      });
      expect(res.statusCode).toBe(201);
      const id = res.json<Receipt>().id;
      const sm3hex = toHex(sm3(content));
      const blob = await app.db
        .selectFrom('file_blobs')
        .select('content')
        .where('sm3', '=', sm3hex)
        .executeTakeFirstOrThrow();
      const changed = Buffer.from(blob.content);
      changed[0]! ^= 0x01;
      await app.db.updateTable('file_blobs').set({ content: changed }).where('sm3', '=', sm3hex).execute();
      const v = (await call(b, 'POST', `/api/v1/files/${id}/verify`)).json();
      expect(v.tampered).toEqual(['file']);
      await app.db
        .updateTable('file_blobs')
        .set({ content: Buffer.from(blob.content) })
        .where('sm3', '=', sm3hex)
        .execute();
      expect((await call(b, 'POST', `/api/v1/files/${id}/verify`)).json().intact).toBe(true);
    });

    it('a log node row → that record’s log check fails, the others stay intact', async () => {
      await integrateAll({ db: app.db, now: () => NOW });
      await publishCheckpoint({ db: app.db, key: app.platformKey, now: NOW + 1, minIntervalMs: 0 });
      const target = (await call(a, 'GET', '/api/v1/signatures?serialNumber=SN-RAW-1')).json().items[0] as {
        id: string;
        logIndex: number;
      };
      const other = (await call(a, 'GET', '/api/v1/signatures?serialNumber=SN-RSA-2')).json().items[0] as {
        id: string;
      };
      const node = await app.db
        .selectFrom('log_nodes')
        .select('hash')
        .where('level', '=', 0)
        .where('idx', '=', target.logIndex)
        .executeTakeFirstOrThrow();
      const changed = Buffer.from(node.hash);
      changed[0]! ^= 0x01;
      await app.db
        .updateTable('log_nodes')
        .set({ hash: changed })
        .where('level', '=', 0)
        .where('idx', '=', target.logIndex)
        .execute();
      const v = await verify('signatures', target.id);
      expect(v.tampered).toEqual(['log']);
      expect(v.log.status).toBe('tampered');
      expect((await verify('signatures', other.id)).intact).toBe(true);
      await app.db
        .updateTable('log_nodes')
        .set({ hash: Buffer.from(node.hash) })
        .where('level', '=', 0)
        .where('idx', '=', target.logIndex)
        .execute();
      expect((await verify('signatures', target.id)).intact).toBe(true);
    });
  });
});
