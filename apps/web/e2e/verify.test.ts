/**
 * The public verification page in a real browser (playwright-core + /usr/bin/chromium), against the server on
 * loopback serving the built page at /verify/: a package made by the server (a real SM2 CMS record under a
 * signed checkpoint) uploaded → valid, every check run in the browser; the same package with one file altered
 * → the failed check named; the report's QR link opened → the record's proof verified in the browser; after a
 * database tamper the package still verifies offline while the live check reports the tamper. Screenshots go
 * to apps/web/e2e/screenshots/ (not committed).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sm2 } from '@yizheng/gm';
import { unzipSync, zipSync } from 'fflate';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../server/src/app.js';
import { integrateAll, publishCheckpoint } from '../../server/src/log/index.js';
import { stampCheckpoints } from '../../server/src/log/stamper.js';
import { tsaCheckpointStamper } from '../../server/src/modules/tsa/checkpoint-stamper.js';
import { createApplication } from '../../server/src/modules/applications/service.js';
import { makePki } from '../../server/src/modules/evidence/fixtures.test-support.js';
import { createProject } from '../../server/src/modules/projects/service.js';
import { signWithGm, T0, tempDir, testConfig } from '../../server/src/testing/app.js';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(WEB, 'e2e', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const ORIGINAL = new TextEncoder().encode('手术记录：腹腔镜胆囊切除术，过程顺利。');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/**
 * The built page. With no build at all, the console test (run beside this one) builds both entries: wait for it
 * rather than race it on the same dist/; build here when nobody else does (no emptying: never under its feet).
 */
async function builtPage(): Promise<void> {
  const dist = (f: string): boolean => existsSync(join(WEB, 'dist', f));
  if (!dist('index.html'))
    for (let i = 0; i < 120 && !(dist('index.html') && dist('verify.html')); i++)
      await new Promise((r) => setTimeout(r, 1000));
  if (dist('verify.html')) {
    await new Promise((r) => setTimeout(r, 2000)); // let a build that just wrote its HTML finish
    return;
  }
  const vite = await import('vite');
  await vite.build({ root: WEB, logLevel: 'warn', build: { emptyOutDir: false } });
}

describe('public verification page in chromium', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let id = '';
  let zip: Uint8Array;
  let goodFile = '';
  let badFile = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} missing: apt-get install -y chromium (see .ci/run)`);
    await builtPage();
    mkdirSync(SHOTS, { recursive: true });
    tmp = tempDir('yz-e2e-verify-');
    const pki = makePki();
    const config = testConfig({ dialect: 'sqlite', file: join(tmp.dir, 'yizheng.db') }, tmp.dir, {
      bodyLimit: 4 * 1024 * 1024,
    });
    app = await build(config, { logger: false, jobs: false, now: () => T0 });
    const ctx = { db: app.db, now: () => T0, actor: 'test' };
    await createProject({ ctx, number: 'P-W', name: '普外科存证' });
    const c = await createApplication({ ctx, project: 'P-W', name: 'EMR', vendor: '厂商' });
    const key = sm2.importPrivateKey(c.privateKeyPem!);
    const signed = (method: 'GET' | 'POST', url: string, body?: string) =>
      app.inject({
        method,
        url,
        headers: {
          ...signWithGm(key, { method, url, appId: c.application.id, ...(body ? { body } : {}) }),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { payload: body } : {}),
      });
    const body = JSON.stringify({
      serialNumber: 'SS-0001',
      patient: { id: '110101199003074518', name: '李四', visitNumber: 'V-3' },
      signer: '王医生',
      signature: { format: 'cms', value: b64(pki.sm2Cms(ORIGINAL, { detached: true })) },
      original: b64(ORIGINAL),
    });
    const r = await signed('POST', '/api/v1/signatures', body);
    expect(r.statusCode).toBe(201);
    id = r.json<{ id: string }>().id;
    await integrateAll({ db: app.db, now: () => T0 });
    await publishCheckpoint({ db: app.db, key: app.platformKey, now: T0, minIntervalMs: 0 });
    zip = new Uint8Array((await signed('GET', `/api/v1/signatures/${id}/package`)).rawPayload);
    goodFile = join(tmp.dir, `${id}.zip`);
    writeFileSync(goodFile, zip);
    const files = unzipSync(zip);
    files['original.bin'] = new TextEncoder().encode('手术记录：改过的原文。');
    badFile = join(tmp.dir, `${id}-altered.zip`);
    writeFileSync(badFile, zipSync(files));
    // A second record, so that the log grows past the package's checkpoint (the live consistency proof).
    const more = await signed('POST', '/api/v1/signatures', body.replace('SS-0001', 'SS-0002'));
    expect(more.statusCode).toBe(201);
    await integrateAll({ db: app.db, now: () => T0 });
    await publishCheckpoint({ db: app.db, key: app.platformKey, now: T0, minIntervalMs: 0 });
    // The platform TSA stamps the checkpoints (as the checkpoint job does): the QR page checks those tokens.
    await stampCheckpoints({ db: app.db, stamper: tsaCheckpointStamper(app.tsa), now: T0 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${addr.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    tmp?.remove();
  });

  async function upload(page: Page, file: string): Promise<void> {
    await page.goto(`${base}/verify/`);
    await page.locator('[data-test="package"]').setInputFiles(file);
    await page.locator('[data-test="verdict"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-test="live-verdict"]').waitFor();
  }

  const status = (page: Page, check: string) =>
    page.locator(`[data-check="${check}"]`).first().getAttribute('data-status');

  it('a package made by the server: valid, every check run in the browser, consistent with the live log', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await upload(page, goodFile);
    expect(await page.locator('[data-test="verdict"]').textContent()).toContain('结论：证据包完整有效。');
    for (const check of [
      'signature.bin#cms',
      'signature.bin#signer-validity',
      'signature.bin#signer-chain',
      'log/checkpoint.txt#signature',
      'log/inclusion-proof.json#inclusion',
      'report/content.json#seal',
      'platform-root#root-pinned',
      'manifest.sig#signature',
      'live-log#consistency',
      'live-log#record-intact',
    ]) {
      expect(await status(page, check), check).toBe('pass');
    }
    expect(await page.locator('[data-test="live-verdict"]').textContent()).toContain('与当前日志一致');
    await page.screenshot({ path: join(SHOTS, 'verify-01-package-valid.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the package with one file altered: the failed check is named', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    await upload(page, badFile);
    expect(await page.locator('[data-test="verdict"]').textContent()).toMatch(/未通过核验.*original\.bin/);
    expect(await status(page, 'original.bin#sm3')).toBe('fail');
    expect(await status(page, 'original.bin#record-sm3')).toBe('fail');
    expect(await status(page, 'signature.bin#cms')).toBe('fail');
    await page.locator('[data-test="lang"]').click();
    expect(await page.locator('[data-test="verdict"]').textContent()).toContain('NOT valid');
    await page.screenshot({ path: join(SHOTS, 'verify-02-package-altered-en.png'), fullPage: true });
    await page.close();
  });

  it('what is not a package is refused as unreadable, in the page', async () => {
    const page = await browser.newPage();
    const junk = join(tmp.dir, 'junk.zip');
    writeFileSync(junk, 'not a zip at all');
    await page.goto(`${base}/verify/`);
    await page.locator('[data-test="package"]').setInputFiles(junk);
    await page.locator('[data-test="error"]').waitFor();
    expect(await page.locator('[data-test="error"]').textContent()).toContain('PACKAGE_UNREADABLE');
    await page.close();
  });

  it("the report's QR link: the record's proof verified in the browser; a wrong code is refused", async () => {
    const content = JSON.parse(new TextDecoder().decode(unzipSync(zip)['report/content.json'])) as {
      view: { verifyUrl: string };
    };
    const url = new URL(content.view.verifyUrl);
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    await page.goto(`${base}${url.pathname}${url.hash}`);
    await page.locator('[data-test="record-verdict"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-test="record-verdict"]').textContent()).toContain('证明有效');
    expect(await status(page, 'public-record#inclusion')).toBe('pass');
    expect(await status(page, 'public-record#checkpoint-signature')).toBe('pass');
    expect(await status(page, 'public-record#record-intact')).toBe('pass');
    for (const check of [
      'timestamp-signature',
      'timestamp-imprint',
      'timestamp-ess-cert-id',
      'timestamp-tsa-chain',
    ])
      expect(await status(page, `public-record#${check}`), check).toBe('pass');
    const manifest = JSON.parse(new TextDecoder().decode(unzipSync(zip)['manifest.json'])) as {
      evidenceHash: string;
    };
    expect(await page.locator('[data-test="evidence-hash"]').textContent()).toBe(manifest.evidenceHash);
    await page.screenshot({ path: join(SHOTS, 'verify-03-qr-link.png'), fullPage: true });
    await page.close();
    const wrong = await browser.newPage();
    await wrong.goto(`${base}${url.pathname}#c=${'A'.repeat(22)}`);
    await wrong.locator('[data-test="error"]').waitFor();
    expect(await wrong.locator('[data-test="error"]').textContent()).toContain('PUBLIC_VERIFY_NOT_FOUND');
    await wrong.close();
  });

  it('after a database tamper the package still verifies offline; the live check reports the tamper', async () => {
    await app.db.updateTable('evidence').set({ signer: '篡改' }).where('id', '=', id).execute();
    const page = await browser.newPage({ viewport: { width: 1200, height: 1800 } });
    await upload(page, goodFile);
    expect(await page.locator('[data-test="verdict"]').textContent()).toContain('结论：证据包完整有效。');
    expect(await status(page, 'live-log#record-intact')).toBe('fail');
    expect(await page.locator('[data-test="live-verdict"]').textContent()).toContain('record-intact');
    await page.screenshot({ path: join(SHOTS, 'verify-04-live-tamper.png'), fullPage: true });
    await page.close();
  });
});
