/**
 * The migration strategies page (迁移策略) in chromium against a live server: the administrator creates a
 * strategy through the dialog, sees it in the table, edits its window away, and deletes it; the server holds
 * exactly what the page showed. Screenshots go to apps/web/e2e/screenshots/ (not committed).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { build } from '../../server/src/app.js';
import { migrateToLatest, openDatabase, type Db } from '../../server/src/db/connect.js';
import { testConfig, tempDir } from '../../server/src/testing/app.js';
import { listStrategies } from '../../server/src/modules/strategies/service.js';
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

describe('migration strategies page in chromium', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Db;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let admin: TestIdentity;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} missing: apt-get install -y chromium (see .ci/run)`);
    if (!existsSync(join(WEB, 'dist', 'index.html'))) {
      const vite = await import('vite');
      await vite.build({ root: WEB, logLevel: 'warn' });
    }
    mkdirSync(SHOTS, { recursive: true });
    tmp = tempDir('yz-e2e-strat-');
    const ca = makeCa(tmp.dir);
    admin = makeUserCert(tmp.dir, ca, 'admin1', 1);
    const now = clockWithin(admin.certPem);
    const config = testConfig({ dialect: 'sqlite', file: join(tmp.dir, 'yizheng.db') }, tmp.dir);
    db = await openDatabase(config.database);
    await migrateToLatest(db.kysely);
    await seedUser(db, now, { username: 'admin1', roles: ['administrator'], certificate: admin.certPem });
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
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await db?.close();
    tmp?.remove();
  });

  function field(page: Page, name: string) {
    return page.locator(`input[data-test=${name}], [data-test=${name}] input`).first();
  }

  it('creates, edits and deletes a strategy', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: 'zh-CN' });
    await page.goto(`${base}/`);
    await page.waitForURL(/\/console\/login$/);
    await field(page, 'username').fill('admin1');
    await page.setInputFiles('[data-test=key-file]', admin.keyFile);
    await page.locator('[data-test=cert-login]').click();
    await page.waitForURL(/\/console\/users$/);
    await page.getByRole('menuitem', { name: '迁移策略' }).click();
    await page.waitForURL(/\/console\/strategies$/);
    await expect
      .poll(() => page.locator('[data-test=strategies-table]').textContent())
      .toContain('暂无迁移策略');

    await page.locator('[data-test=strategy-create]').click();
    await field(page, 'strategy-name').fill('三年归档');
    await field(page, 'strategy-age').fill('1095');
    await page.locator('[data-test=strategy-save]').click();
    const row = page.locator('[data-test=strategies-table] .el-table__body-wrapper tr', {
      hasText: '三年归档',
    });
    await expect.poll(() => row.textContent()).toContain('01:00–05:00');
    expect(await row.textContent()).toContain('1095');
    await page.screenshot({ path: join(SHOTS, '20-strategies.png'), fullPage: true, animations: 'disabled' });
    const [stored] = await listStrategies({ db: db.kysely });
    expect(stored).toMatchObject({
      name: '三年归档',
      ageDays: 1095,
      kinds: ['signature'],
      window: { start: '01:00', end: '05:00' },
      timezone: 'Asia/Shanghai',
      enabled: true,
    });

    // Edit: no window (any time).
    await row.locator('[data-test=strategy-edit]').click();
    const dialog = page.locator('.el-dialog', { hasText: '修改策略' });
    await dialog.locator('.el-switch').first().click();
    await page.locator('[data-test=strategy-save]').click();
    await expect.poll(() => row.textContent()).toContain('不限时间');
    expect((await listStrategies({ db: db.kysely }))[0]?.window).toBeNull();

    // Delete, confirmed.
    await row.locator('[data-test=strategy-delete]').click();
    await page.locator('.el-message-box__btns .el-button--primary').click();
    await expect
      .poll(() => page.locator('[data-test=strategies-table]').textContent())
      .toContain('暂无迁移策略');
    expect(await listStrategies({ db: db.kysely })).toEqual([]);
    await page.close();
  }, 120_000);
});
