/** The cold database's configuration: environment, config file, absent, refused, and never logged in clear. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from '../app.js';
import { describeDatabase, loadConfig } from '../config.js';
import { testConfig } from '../testing/app.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cold-cfg-'));

describe('cold database configuration', () => {
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is absent unless YIZHENG_COLD_DATABASE_URL or coldDatabaseUrl is set', () => {
    expect(loadConfig({ env: {}, cwd: dir }).coldDatabase).toBeUndefined();
    expect(loadConfig({ env: { YIZHENG_COLD_DATABASE_URL: '' }, cwd: dir }).coldDatabase).toBeUndefined();
  });

  it('takes PostgreSQL, MariaDB or a SQLite file; the environment wins over the file', () => {
    const pg = loadConfig({ env: { YIZHENG_COLD_DATABASE_URL: 'postgres://u:s3cret@db/cold' }, cwd: dir });
    expect(pg.coldDatabase).toMatchObject({ dialect: 'postgres', url: 'postgres://u:s3cret@db/cold' });
    expect(describeDatabase(pg.coldDatabase!)).not.toContain('s3cret');
    const maria = loadConfig({ env: { YIZHENG_COLD_DATABASE_URL: 'mariadb://root@db/cold' }, cwd: dir });
    expect(maria.coldDatabase).toMatchObject({ dialect: 'mysql', url: 'mysql://root@db/cold' });
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ coldDatabaseUrl: 'sqlite:cold/archive.db' }));
    const fromFile = loadConfig({ env: { YIZHENG_CONFIG_FILE: file }, cwd: dir });
    expect(fromFile.coldDatabase).toMatchObject({ dialect: 'sqlite' });
    expect(fromFile.coldDatabase?.dialect === 'sqlite' && fromFile.coldDatabase.file).toMatch(/archive\.db$/);
    const both = loadConfig({
      env: { YIZHENG_CONFIG_FILE: file, YIZHENG_COLD_DATABASE_URL: 'postgres://db/other' },
      cwd: dir,
    });
    expect(both.coldDatabase).toMatchObject({ dialect: 'postgres', url: 'postgres://db/other' });
  });

  it('refuses an unknown scheme at startup (CONFIG_INVALID)', () => {
    expect(() => loadConfig({ env: { YIZHENG_COLD_DATABASE_URL: 'oracle://db/cold' }, cwd: dir })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error,
    );
  });
});

describe('an unreachable cold database', () => {
  it('refuses the start with DB_UNREACHABLE naming the cold database, without the password', async () => {
    const d = mkdtempSync(join(tmpdir(), 'yz-cold-down-'));
    try {
      const config = testConfig({ dialect: 'sqlite', file: join(d, 'hot.db') }, d, {
        coldDatabase: { dialect: 'postgres', url: 'postgres://u:s3cret@127.0.0.1:1/cold', poolSize: 1 },
      });
      const err = await build(config, { logger: false, jobs: false }).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(err?.code).toBe('DB_UNREACHABLE');
      expect(err?.message).toMatch(/^cold database: /);
      expect(err?.message).not.toContain('s3cret');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
