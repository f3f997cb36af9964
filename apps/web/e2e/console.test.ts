/**
 * The console in a real browser: playwright-core drives Debian's chromium (/usr/bin/chromium, installed by
 * .ci/run) against the server listening on loopback and serving the built console. Certificate login with a
 * software token (a PKCS#8 PEM loaded into memory, signed with the TypeScript SM2 engine), a wrong key, a
 * replayed challenge; an administrator creating a project, an application and an operator; the auditor
 * reading the operation log of those actions; the operator downloading a record's evidence report (a PDF);
 * PKCS#12 (.p12) and RSA software tokens (a wrong key password, a legacy 3DES file); the administrator running a
 * job on the Jobs page. Screenshots go to apps/web/e2e/screenshots/ (not committed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { build } from '../../server/src/app.js';
import { migrateToLatest, openDatabase, type Db } from '../../server/src/db/connect.js';
import { signWithGm, testConfig, tempDir } from '../../server/src/testing/app.js';
import { createApplication } from '../../server/src/modules/applications/service.js';
import { createProject } from '../../server/src/modules/projects/service.js';
import { sm2 } from '@yizheng/gm';
import {
  clockWithin,
  makeCa,
  makeUserCert,
  seedUser,
  type TestIdentity,
} from '../../server/src/modules/admin/testing.js';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(WEB, 'e2e', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';

describe('console in chromium', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Db;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let admin: TestIdentity;
  let auditor: TestIdentity;
  let operator: TestIdentity;
  let stranger: TestIdentity;
  let rsaAuditor: TestIdentity;
  /** admin1's SM2 key and certificate as PKCS#12 (OpenSSL 3 defaults: PBES2, AES-256-CBC), and as legacy 3DES. */
  let adminP12: string;
  let adminP12Legacy: string;
  /** rsa-auditor's RSA key and certificate as PKCS#12. */
  let rsaP12: string;
  let now: number;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} missing: apt-get install -y chromium (see .ci/run)`);
    if (!existsSync(join(WEB, 'dist', 'index.html'))) {
      const vite = await import('vite');
      await vite.build({ root: WEB, logLevel: 'warn' });
    }
    mkdirSync(SHOTS, { recursive: true });
    tmp = tempDir('yz-e2e-');
    const ca = makeCa(tmp.dir);
    admin = makeUserCert(tmp.dir, ca, 'admin1', 1);
    auditor = makeUserCert(tmp.dir, ca, 'auditor1', 2);
    operator = makeUserCert(tmp.dir, ca, 'operator1', 3);
    stranger = makeUserCert(tmp.dir, ca, 'stranger', 4);
    rsaAuditor = makeUserCert(tmp.dir, ca, 'rsa-auditor', 5, 'rsa');
    const p12 = (key: TestIdentity, out: string, extra: string[] = []): string => {
      const file = join(tmp.dir, out);
      execFileSync('openssl', [
        'pkcs12',
        '-export',
        '-inkey',
        key.keyFile,
        '-in',
        key.certFile,
        '-out',
        file,
        '-passout',
        'pass:令牌 pw',
        ...extra,
      ]);
      return file;
    };
    adminP12 = p12(admin, 'admin1.p12');
    adminP12Legacy = p12(admin, 'admin1-3des.p12', [
      '-keypbe',
      'PBE-SHA1-3DES',
      '-certpbe',
      'PBE-SHA1-3DES',
      '-macalg',
      'sha1',
    ]);
    rsaP12 = p12(rsaAuditor, 'rsa-auditor.p12');
    now = clockWithin(admin.certPem);
    const config = testConfig({ dialect: 'sqlite', file: join(tmp.dir, 'yizheng.db') }, tmp.dir);
    db = await openDatabase(config.database);
    await migrateToLatest(db.kysely);
    await seedUser(db, now, { username: 'admin1', roles: ['administrator'], certificate: admin.certPem });
    await seedUser(db, now, { username: 'auditor1', roles: ['auditor'], certificate: auditor.certPem });
    await seedUser(db, now, { username: 'rsa-auditor', roles: ['auditor'], certificate: rsaAuditor.certPem });
    const trust = join(tmp.dir, 'trust.pem');
    writeFileSync(trust, ca.certPem);
    app = await build(
      { ...config, consoleTrustFile: trust },
      { logger: false, jobs: false, now: () => now, db },
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${addr.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await db?.close();
    tmp?.remove();
  });

  /** An Element Plus input: the data-test attribute lands on the <input> itself or on its wrapper. */
  function field(page: Page, name: string) {
    return page.locator(`input[data-test=${name}], [data-test=${name}] input`).first();
  }

  async function openLogin(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    await page.goto(`${base}/`);
    await page.waitForURL(/\/console\/login$/);
    return page;
  }

  async function login(page: Page, username: string, keyFile: string, keyPassword?: string): Promise<void> {
    await field(page, 'username').fill(username);
    await page.setInputFiles('[data-test=key-file]', keyFile);
    if (keyPassword !== undefined) await field(page, 'key-password').fill(keyPassword);
    await page.locator('[data-test=cert-login]').click();
  }

  it('logs in with a PKCS#12 file (SM2, the certificate inside); a wrong password and a legacy file are explained', async () => {
    const page = await openLogin();
    const error = page.locator('[data-test=login-error]');
    await login(page, 'admin1', adminP12, 'wrong');
    await expect.poll(() => error.textContent()).toContain('PKCS12_PASSWORD_INVALID');
    await expect.poll(() => error.textContent()).toContain('私钥口令错误');
    await login(page, 'admin1', adminP12Legacy, '令牌 pw');
    await expect.poll(() => error.textContent()).toContain('PKCS12_LEGACY_ENCRYPTION');
    await expect.poll(() => error.textContent()).toContain('重新导出');
    await page.screenshot({ path: join(SHOTS, '08a-p12-legacy.png'), animations: 'disabled' });
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/auth/login/certificate')) sent.push(r.postData() ?? '');
    });
    await login(page, 'admin1', adminP12, '令牌 pw');
    await page.waitForURL(/\/console\/users$/);
    // The certificate came out of the PKCS#12 file and was presented with the signature.
    const body = JSON.parse(sent[0]!) as { certificate?: string };
    expect(body.certificate?.replace(/\s+/g, '')).toBe(admin.certPem.replace(/\s+/g, ''));
    await page.screenshot({ path: join(SHOTS, '08b-p12-logged-in.png'), animations: 'disabled' });
    await page.close();
  });

  it('logs in with RSA keys (PKCS#8 PEM and PKCS#12), signed by WebCrypto', async () => {
    for (const [file, password] of [
      [rsaAuditor.keyFile, undefined],
      [rsaP12, '令牌 pw'],
    ] as const) {
      const page = await openLogin();
      await login(page, 'rsa-auditor', file, password);
      await page.waitForURL(/\/console\/operation-log$/);
      await page.close();
    }
    // A signature by another RSA key is refused by the server.
    const page = await openLogin();
    await login(page, 'rsa-auditor', admin.keyFile);
    await expect
      .poll(() => page.locator('[data-test=login-error]').textContent())
      .toContain('LOGIN_SIGNATURE_INVALID');
    await page.close();
  });

  it('the administrator runs a job on the Jobs page and sees its run', async () => {
    const page = await openLogin();
    await login(page, 'admin1', admin.keyFile);
    await page.waitForURL(/\/console\/users$/);
    await page.getByRole('menuitem', { name: '任务管理' }).click();
    await page.waitForURL(/\/console\/jobs$/);
    const row = page.locator('[data-test=jobs-table] .el-table__body-wrapper tr', {
      hasText: 'digest-report',
    });
    await row.locator('[data-test=job-run]').click();
    await expect
      .poll(() => row.locator('[data-test=job-outcome]').textContent(), { timeout: 20_000 })
      .toBe('succeeded');
    await row.locator('[data-test=job-runs]').click();
    await expect.poll(() => page.locator('[data-test=job-runs-table]').textContent()).toContain('manual');
    await page.screenshot({ path: join(SHOTS, '09-jobs-run.png'), fullPage: true, animations: 'disabled' });
    await page.keyboard.press('Escape');
    // Stop and start change the status.
    await row.locator('[data-test=job-stop]').click();
    await expect.poll(() => row.textContent()).toContain('已停止');
    await row.locator('[data-test=job-start]').click();
    await expect.poll(() => row.textContent()).toContain('已启用');
    await page.close();
  });

  it('refuses a wrong key', async () => {
    const page = await openLogin();
    await page.screenshot({ path: join(SHOTS, '01-login.png'), animations: 'disabled' });
    await login(page, 'admin1', stranger.keyFile);
    await expect
      .poll(() => page.locator('[data-test=login-error]').textContent())
      .toContain('LOGIN_SIGNATURE_INVALID');
    await page.screenshot({ path: join(SHOTS, '02-wrong-key.png'), animations: 'disabled' });
    await page.close();
  });

  it('logs in with the software token; a replayed challenge is refused', async () => {
    const page = await openLogin();
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/auth/login/certificate')) sent.push(r.postData() ?? '');
    });
    await login(page, 'admin1', admin.keyFile);
    await page.waitForURL(/\/console\/users$/);
    expect(sent).toHaveLength(1);
    const replay = await page.evaluate(async (body) => {
      const r = await fetch('/api/admin/v1/auth/login/certificate', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return { status: r.status, code: ((await r.json()) as { code: string }).code };
    }, sent[0]!);
    expect(replay).toEqual({ status: 401, code: 'LOGIN_CHALLENGE_USED' });
    await page.close();
  });

  it('an administrator creates a project, an application and an operator; the auditor reads the log', async () => {
    const page = await openLogin();
    await login(page, 'admin1', admin.keyFile);
    await page.waitForURL(/\/console\/users$/);
    await page.screenshot({ path: join(SHOTS, '03-users.png'), animations: 'disabled' });

    await page.getByRole('menuitem', { name: '项目管理' }).click();
    await page.waitForURL(/\/console\/projects$/);
    await page.locator('[data-test=new-project]').click();
    await field(page, 'project-number').fill('P-100');
    await field(page, 'project-name').fill('电子病历存证');
    await page.locator('[data-test=project-save]').click();
    await expect.poll(() => page.locator('.el-table').first().textContent()).toContain('电子病历存证');
    await page.screenshot({ path: join(SHOTS, '04-projects.png'), animations: 'disabled' });

    await page.getByRole('menuitem', { name: '第三方应用' }).click();
    await page.waitForURL(/\/console\/applications$/);
    await page.locator('[data-test=new-app]').click();
    await page.locator('[data-test=app-project]').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: 'P-100' }).click();
    await field(page, 'app-name').fill('HIS 住院系统');
    await page.locator('[data-test=app-save]').click();
    await expect
      .poll(() => page.locator('[data-test=private-key]').textContent())
      .toContain('BEGIN PRIVATE KEY');
    const privateKeyPem = (await page.locator('[data-test=private-key]').textContent()) ?? '';
    await page.screenshot({ path: join(SHOTS, '05-private-key-once.png'), animations: 'disabled' });
    await page.getByRole('button', { name: '确定' }).click();
    await expect.poll(() => page.locator('.el-table').first().textContent()).toContain('HIS 住院系统');

    await page.getByRole('menuitem', { name: '用户管理' }).click();
    await page.waitForURL(/\/console\/users$/);
    await page.locator('[data-test=new-user]').click();
    await field(page, 'user-username').fill('operator1');
    await field(page, 'user-name').fill('张医生');
    await page.locator('[data-test=user-role]').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: /^operator$/ }).click();
    await page.locator('[data-test=user-projects]').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: 'P-100' }).click();
    await page.keyboard.press('Escape');
    await page.setInputFiles('[data-test=user-cert]', operator.certFile);
    await page.locator('[data-test=user-save]').click();
    await expect.poll(() => page.locator('[data-test=otp]').textContent()).toMatch(/\S{10,}/);
    await page.getByRole('button', { name: '确定' }).click();
    await expect.poll(() => page.locator('.el-table').first().textContent()).toContain('张医生');
    await page.screenshot({ path: join(SHOTS, '06-operator-created.png'), animations: 'disabled' });
    await page.locator('[data-test=logout]').click();
    await page.waitForURL(/\/console\/login$/);

    // The application pushes a digest with the key it was just given; the operator finds and re-verifies it.
    const appId = (await db.kysely.selectFrom('applications').select('id').executeTakeFirstOrThrow()).id;
    const body = JSON.stringify({ serialNumber: 'ZY-2026-0001', algorithm: 'sm3', value: 'cd'.repeat(32) });
    const pushed = await fetch(`${base}/api/v1/digests`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signWithGm(sm2.importPrivateKey(privateKeyPem), {
          method: 'POST',
          url: '/api/v1/digests',
          body,
          appId,
          timestamp: now,
        }),
      },
      body,
    });
    expect(pushed.status).toBe(201);
    await login(page, 'operator1', operator.keyFile);
    await page.waitForURL(/\/console\/projects$/);
    await page.getByRole('menuitem', { name: '存证数据' }).click();
    await page.waitForURL(/\/console\/evidence$/);
    await page.getByRole('tab', { name: '摘要数据' }).click();
    await field(page, 'evidence-serial').fill('ZY-2026-0001');
    await page.locator('[data-test=evidence-search]').click();
    await expect
      .poll(() => page.locator('[data-test=evidence-table]').textContent())
      .toContain('ZY-2026-0001');
    await page.locator('[data-test=evidence-verify]').first().click();
    await expect.poll(() => page.locator('[data-test=verify-report]').textContent()).toContain('record');
    await page.screenshot({ path: join(SHOTS, '07a-operator-reverify.png'), animations: 'disabled' });
    await page.keyboard.press('Escape');
    // The record's evidence report from its detail: a PDF download.
    await page.locator('[data-test=evidence-detail]').first().click();
    const downloading = page.waitForEvent('download');
    await page.locator('[data-test=download-report]').click();
    const pdf = await downloading;
    expect(pdf.suggestedFilename()).toMatch(/^dig_.*\.pdf$|\.pdf$/);
    const saved = join(tmp.dir, pdf.suggestedFilename());
    await pdf.saveAs(saved);
    expect(readFileSync(saved).subarray(0, 5).toString()).toBe('%PDF-');
    await page.screenshot({ path: join(SHOTS, '07c-operator-evidence-detail.png'), animations: 'disabled' });
    await page.keyboard.press('Escape');
    // Statistics (统计): the pushed digest and its API call, counted today.
    await page.getByRole('menuitem', { name: '统计分析' }).click();
    await page.waitForURL(/\/console\/statistics$/);
    const totals = page.locator('[data-test=stats-totals]');
    await expect.poll(() => totals.locator('tr', { hasText: '摘要数据' }).textContent()).toBe('摘要数据1111');
    expect(await totals.locator('tr', { hasText: '接口调用' }).textContent()).toBe('接口调用1111');
    expect(await totals.locator('tr', { hasText: '签名数据' }).textContent()).toBe('签名数据0000');
    await page.locator('[data-test=stats-chart] canvas').first().waitFor();
    await page.screenshot({
      path: join(SHOTS, '07b-operator-statistics.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await page.locator('[data-test=logout]').click();
    await page.waitForURL(/\/console\/login$/);

    await login(page, 'auditor1', auditor.keyFile);
    await page.waitForURL(/\/console\/operation-log$/);
    const table = page.locator('[data-test=oplog]');
    await expect.poll(() => table.textContent()).toContain('user.create');
    const text = (await table.textContent()) ?? '';
    for (const action of [
      'project.create',
      'application.create',
      'user.create',
      'login.certificate',
      'evidence.verify',
    ])
      expect(text).toContain(action);
    expect(text).toContain('console:admin1@127.0.0.1');
    await page.locator('[data-test=integrity]').click();
    await expect.poll(() => page.locator('[data-test=integrity-result]').textContent()).toContain('完整');
    await page.screenshot({
      path: join(SHOTS, '07-auditor-operation-log.png'),
      fullPage: true,
      animations: 'disabled',
    });
    // Keyset paging: the next page continues below the last entry shown; previous comes back.
    const seqs = async (): Promise<number[]> =>
      (await table.locator('.el-table__body tr td:first-child').allTextContents()).map(Number);
    const first = await seqs();
    expect(first).toHaveLength(20);
    await page.locator('[data-test=pager-next]').click();
    await expect.poll(async () => (await seqs())[0]).toBe(first[19]! - 1);
    await page.locator('[data-test=pager-prev]').click();
    await expect.poll(seqs).toEqual(first);
    // The auditor's menu holds the logs only (三权分立).
    const menu = (await page.locator('.el-menu').textContent()) ?? '';
    expect(menu).not.toContain('用户管理');
    expect(menu).not.toContain('项目管理');
    await page.close();
  });
  it('history migration: a source and a task made in the console, progress to 100 %, the failures report', async () => {
    // A hospital's intermediate table (SQLite): three good raw SM2 signatures, one tampered, one without serial.
    const ctx = { db: db.kysely, now: () => now, actor: 'test' };
    await createProject({ ctx, number: 'H-001', name: '历史病历' });
    const appId = (await createApplication({ ctx, project: 'H-001', name: 'EMR 历史' })).application.id;
    const file = join(tmp.dir, 'his.db');
    const src = await openDatabase({ dialect: 'sqlite', file });
    await src.kysely.schema
      .createTable('emr_sign')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('serial_no', 'varchar(64)')
      .addColumn('sig_value', 'text')
      .addColumn('signer_cert', 'text')
      .addColumn('content', 'text')
      .execute();
    const key = sm2.importPrivateKey(operator.keyPem);
    const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
    const rows = [1, 2, 3, 4, 5].map((i) => {
      const content = new TextEncoder().encode(`病历 ${i}`);
      return {
        id: i,
        serial_no: i === 5 ? null : `HIS-${i}`,
        sig_value: b64(sm2.sign(key, content)),
        signer_cert: operator.certPem,
        content: b64(i === 4 ? new TextEncoder().encode('被篡改') : content),
      };
    });
    await src.kysely
      .insertInto('emr_sign' as never)
      .values(rows)
      .execute();
    await src.close();

    const page = await openLogin();
    await login(page, 'admin1', admin.keyFile);
    await page.waitForURL(/\/console\/users$/);
    await page.getByRole('menuitem', { name: '历史数据迁移' }).click();
    await page.waitForURL(/\/console\/history$/);
    await page.locator('[data-test=source-create]').click();
    await field(page, 'source-name').fill('EMR 中间表');
    await field(page, 'source-url').fill(`sqlite:${file}`);
    await field(page, 'source-table').fill('emr_sign');
    await page
      .locator('textarea[data-test=source-mapping], [data-test=source-mapping] textarea')
      .first()
      .fill(
        JSON.stringify({
          key: 'id',
          keyType: 'integer',
          serialNumber: 'serial_no',
          signature: 'sig_value',
          defaultFormat: 'raw',
          certificate: 'signer_cert',
          original: 'content',
        }),
      );
    await page.locator('[data-test=source-save]').click();
    await expect.poll(() => page.locator('[data-test=sources-table]').textContent()).toContain('EMR 中间表');
    await page.locator('[data-test=task-create]').click();
    await field(page, 'task-app').fill(appId);
    await page.locator('[data-test=task-save]').click();
    await expect.poll(() => page.locator('[data-test=tasks-table]').textContent()).toContain(appId);
    // The migration job, run now from the console session.
    const run = await page.evaluate(async () => {
      const r = await fetch('/api/admin/v1/jobs/history-migration/run?wait=true', {
        method: 'POST',
        headers: { 'x-csrf-token': sessionStorage.getItem('yz-csrf') ?? '' },
      });
      return ((await r.json()) as { run: { outcome: string } | null }).run?.outcome;
    });
    expect(run).toBe('succeeded');
    const tasks = page.locator('[data-test=tasks-table]');
    await expect.poll(() => tasks.textContent(), { timeout: 15_000 }).toContain('已迁移 3');
    expect(await tasks.textContent()).toContain('失败 2');
    expect(await tasks.locator('[role=progressbar]').first().getAttribute('aria-valuenow')).toBe('100');
    await page.screenshot({ path: join(SHOTS, '10-history.png'), fullPage: true, animations: 'disabled' });
    await page.locator('[data-test=task-failures]').click();
    const failures = page.locator('[data-test=failures-table]');
    await expect.poll(() => failures.textContent()).toContain('EVIDENCE_SIGNATURE_INVALID');
    expect(await failures.textContent()).toContain('HISTORY_ROW_INVALID');
    await page.screenshot({
      path: join(SHOTS, '11-history-failures.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await page.close();
  });
});
