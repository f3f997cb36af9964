import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeDatabase, loadConfig, parseDatabaseUrl } from './config.js';
import { isStartupError } from './startup-error.js';

const cwd = '/srv/yz';

describe('loadConfig', () => {
  it('defaults: 127.0.0.1:8080, ./data, SQLite at data/yizheng.db, KEK under the data dir', () => {
    const c = loadConfig({ env: {}, cwd });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: '/srv/yz/data',
      logLevel: 'info',
      migrateOnStart: true,
    });
    expect(c.database).toEqual({ dialect: 'sqlite', file: '/srv/yz/data/yizheng.db' });
    expect(c.kekFile).toBe('/srv/yz/data/kek.key');
    expect(c.auth.maxSkewMs).toBe(300_000);
  });

  it('environment, then overrides (CLI flags) win', () => {
    const env = {
      YIZHENG_HOST: '0.0.0.0',
      YIZHENG_PORT: '9000',
      YIZHENG_DATA_DIR: '/var/lib/yz',
      YIZHENG_LOG_LEVEL: 'warn',
      YIZHENG_KEK_FILE: 'k.hex',
    };
    const c = loadConfig({ env, cwd });
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      dataDir: '/var/lib/yz',
      logLevel: 'warn',
      kekFile: '/srv/yz/k.hex',
    });
    expect(c.database).toEqual({ dialect: 'sqlite', file: '/var/lib/yz/yizheng.db' });
    const o = loadConfig({ env, cwd, overrides: { host: '::1', port: '7000', dataDir: 'd' } });
    expect(o).toMatchObject({ host: '::1', port: 7000, dataDir: '/srv/yz/d' });
  });

  it('DATABASE_URL selects the dialect', () => {
    expect(loadConfig({ env: { DATABASE_URL: 'postgres://u:p@h/db' }, cwd }).database).toMatchObject({
      dialect: 'postgres',
      url: 'postgres://u:p@h/db',
    });
    expect(loadConfig({ env: { DATABASE_URL: 'mysql://root@h:3306/db' }, cwd }).database).toMatchObject({
      dialect: 'mysql',
    });
    expect(parseDatabaseUrl('mariadb://root@h/db', '/d')).toMatchObject({
      dialect: 'mysql',
      url: 'mysql://root@h/db',
    });
    expect(parseDatabaseUrl('sqlite:/tmp/x.db', '/d')).toEqual({ dialect: 'sqlite', file: '/tmp/x.db' });
    expect(describeDatabase(parseDatabaseUrl('postgres://u:secret@h/db', '/d'))).toBe(
      'postgres postgres://u:***@h/db',
    );
  });

  it('a JSON config file supplies values below the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'yz-cfg-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ port: 8443, host: '10.0.0.1', apiLog: false }));
    const c = loadConfig({
      env: { YIZHENG_CONFIG_FILE: join(dir, 'c.json'), YIZHENG_HOST: '10.0.0.2' },
      cwd,
    });
    expect(c).toMatchObject({ port: 8443, host: '10.0.0.2', apiLog: false });
  });

  it.each([
    [{ YIZHENG_PORT: 'http' }],
    [{ YIZHENG_PORT: '70000' }],
    [{ DATABASE_URL: 'oracle://x' }],
    [{ YIZHENG_LOG_LEVEL: 'loud' }],
    [{ YIZHENG_API_LOG: 'maybe' }],
    [{ YIZHENG_CONFIG_FILE: '/nonexistent/c.json' }],
  ])('CONFIG_INVALID for %j', (env) => {
    let err: unknown;
    try {
      loadConfig({ env, cwd });
    } catch (e) {
      err = e;
    }
    expect(isStartupError(err, 'CONFIG_INVALID')).toBe(true);
  });
});
