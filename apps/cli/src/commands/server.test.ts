/**
 * `yizheng start|migrate|project|app` in-process on a temporary SQLite data directory, and `yizheng start` as a
 * real process (the built CLI) answering /healthz. The application key printed by `app create` is used with the
 * openssl CLI to sign a request the server accepts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, loadConfig, stringToSign } from '@yizheng/server';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-srv-'));
const dataDir = join(dir, 'data');
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const d = ['--data-dir', dataDir];

describe('yizheng migrate / project / app', () => {
  it('migrate creates the SQLite database under the data dir, then reports it up to date', async () => {
    const first = await cli('migrate', ...d);
    expect(first.code).toBe(0);
    // Every migration, once, in order (the list grows with the schema; its order is the contract).
    const applied = /^applied: (.+)\n$/.exec(first.out)?.[1]?.split(', ') ?? [];
    expect(applied.slice(0, 2)).toEqual(['0001-init', '0002-file-store']);
    expect(applied.every((m) => /^\d{4}-[a-z0-9-]+$/.test(m))).toBe(true);
    expect([...applied].sort()).toEqual(applied);
    expect(new Set(applied).size).toBe(applied.length);
    expect(existsSync(join(dataDir, 'yizheng.db'))).toBe(true);
    expect(await cli('migrate', ...d)).toMatchObject({ code: 0, out: 'database schema is up to date\n' });
  });

  it('project create / list / freeze / unfreeze; duplicates and unknown projects exit 2 with their code', async () => {
    expect((await cli('project', 'create', '--number', 'XN-01', '--name', '心内科', ...d)).code).toBe(0);
    expect(
      (
        await cli(
          'project',
          'create',
          '--number',
          'TMP',
          '--name',
          '临时',
          '--file-storage',
          'database',
          ...d,
        )
      ).code,
    ).toBe(0);
    expect(JSON.parse((await cli('project', 'show', 'TMP', ...d)).out).fileStorage).toBe('database');
    expect((await cli('project', 'update', 'TMP', '--file-storage', 'local', ...d)).out).toContain(
      '"fileStorage": "local"',
    );
    expect(
      (await cli('project', 'create', '--number', 'X', '--name', 'x', '--file-storage', 's3', ...d)).code,
    ).toBe(2);
    const dup = await cli('project', 'create', '--number', 'XN-01', '--name', 'again', ...d);
    expect(dup.code).toBe(2);
    expect(dup.err).toContain('PROJECT_NUMBER_TAKEN');
    const list = await cli('project', 'list', ...d);
    expect(list.out).toMatch(/^ID\s+NUMBER\s+STATUS/);
    expect(list.out).toContain('心内科');
    expect((await cli('project', 'freeze', 'XN-01', 'TMP', ...d)).out).toMatch(/XN-01\s+frozen/);
    expect(JSON.parse((await cli('project', 'list', '--status', 'frozen', '--json', ...d)).out)).toHaveLength(
      2,
    );
    expect((await cli('project', 'unfreeze', 'XN-01', ...d)).out).toMatch(/XN-01\s+active/);
    const missing = await cli('project', 'freeze', 'NOPE', ...d);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('PROJECT_NOT_FOUND');
  });

  it('project delete needs --yes', async () => {
    expect((await cli('project', 'delete', 'TMP', ...d)).code).toBe(2);
    expect(await cli('project', 'delete', 'TMP', '--yes', ...d)).toMatchObject({ code: 0 });
    expect((await cli('project', 'list', ...d)).out).not.toContain('临时');
  });

  let appId = '';
  it('app create prints the private key once; the server accepts a request signed with it by openssl', async () => {
    const r = await cli(
      'app',
      'create',
      '--project',
      'XN-01',
      '--name',
      'HIS',
      '--vendor',
      '厂商',
      '--tags',
      '门诊,住院',
      ...d,
    );
    expect(r.code).toBe(0);
    appId = /application (app_[0-9a-f]+)/.exec(r.out)![1]!;
    const pem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/.exec(r.out)![0];
    writeFileSync(join(dir, 'app.pem'), pem, { mode: 0o600 });
    expect((await cli('app', 'show', appId, ...d)).out).not.toContain('PRIVATE');

    const now = Date.now();
    const nonce = 'cli-test-nonce-0000001';
    writeFileSync(
      join(dir, 'tosign'),
      stringToSign({
        method: 'GET',
        url: '/api/v1/ping',
        timestamp: String(now),
        nonce,
        body: new Uint8Array(),
      }),
    );
    const sig = execFileSync('openssl', [
      'pkeyutl',
      '-sign',
      '-rawin',
      '-digest',
      'sm3',
      '-pkeyopt',
      'distid:1234567812345678',
      '-inkey',
      join(dir, 'app.pem'),
      '-in',
      join(dir, 'tosign'),
    ]);
    const app = await build(loadConfig({ env: { YIZHENG_DATA_DIR: dataDir, YIZHENG_LOG_LEVEL: 'silent' } }), {
      logger: false,
      jobs: false,
      now: () => now,
    });
    try {
      const res = await app.inject({
        url: '/api/v1/ping',
        headers: {
          'x-yz-app': appId,
          'x-yz-timestamp': String(now),
          'x-yz-nonce': nonce,
          'x-yz-signature': sig.toString('base64'),
        },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ appId, project: { number: 'XN-01' } });
    } finally {
      await app.close();
    }
  });

  it('app create --pubkey stores the given key and prints no private key; --key-out writes it with mode 0600', async () => {
    execFileSync('sh', [
      '-c',
      `openssl genpkey -algorithm SM2 -out ${join(dir, 'own.pem')} && openssl pkey -in ${join(dir, 'own.pem')} -pubout -out ${join(dir, 'own.pub')}`,
    ]);
    const r = await cli(
      'app',
      'create',
      '--project',
      'XN-01',
      '--name',
      'EMR',
      '--pubkey',
      join(dir, 'own.pub'),
      ...d,
    );
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('PRIVATE');
    const id = /application (app_[0-9a-f]+)/.exec(r.out)![1]!;
    expect(JSON.parse((await cli('app', 'show', id, ...d)).out).publicKeyPem).toBe(
      readFileSync(join(dir, 'own.pub'), 'utf8'),
    );
    const k = await cli(
      'app',
      'create',
      '--project',
      'XN-01',
      '--name',
      'LIS',
      '--key-out',
      join(dir, 'lis.pem'),
      ...d,
    );
    expect(k.out).not.toContain('BEGIN');
    expect(statSync(join(dir, 'lis.pem')).mode & 0o777).toBe(0o600);
    const bad = await cli(
      'app',
      'create',
      '--project',
      'XN-01',
      '--name',
      'X',
      '--pubkey',
      join(dir, 'tosign'),
      ...d,
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('APP_PUBLIC_KEY_INVALID');
  });

  it('app list / freeze / unfreeze / rotate-key', async () => {
    expect((await cli('app', 'list', '--project', 'XN-01', ...d)).out).toMatch(/HIS/);
    expect((await cli('app', 'freeze', appId, ...d)).out).toMatch(new RegExp(`${appId}\\s+\\S+\\s+frozen`));
    expect((await cli('app', 'unfreeze', appId, ...d)).out).toMatch(new RegExp(`${appId}\\s+\\S+\\s+active`));
    const r = await cli('app', 'rotate-key', appId, ...d);
    expect(r.out).toContain('key v2');
    expect(r.out).toContain('BEGIN PRIVATE KEY');
    const missing = await cli('app', 'rotate-key', 'app_missing', ...d);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('APP_NOT_FOUND');
  });
});

describe('yizheng start (the built CLI as a process)', () => {
  const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

  it('listens with no configuration beyond a data dir, answers /healthz and /readyz, stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [main, 'start', '--port', '0', '--data-dir', join(dir, 'started')],
      {
        env: { ...process.env, YIZHENG_LOG_LEVEL: 'warn', DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    const origin = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /listening on (http:\/\/[^\s]+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => {
        reject(new Error(`exited ${code}: ${err}`));
      });
    });
    expect(await (await fetch(`${origin}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${origin}/readyz`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(statSync(join(dir, 'started', 'kek.key')).mode & 0o777).toBe(0o600);
  });
});
