/** `yizheng admin create|reset-password` and `yizheng audit verify` against a temporary data directory (SQLite). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('yizheng admin and audit', () => {
  const data = join(dir, 'data');

  it('creates the first administrator with a bound certificate and prints a one-time password', async () => {
    const key = join(dir, 'admin.key');
    const certFile = join(dir, 'admin.crt');
    execFileSync('openssl', ['genpkey', '-algorithm', 'SM2', '-out', key]);
    execFileSync('openssl', [
      'req',
      '-new',
      '-x509',
      '-key',
      key,
      '-subj',
      '/CN=root-admin',
      '-days',
      '30',
      '-sm3',
      '-out',
      certFile,
    ]);
    const r = await cli(
      'admin',
      'create',
      '--username',
      'root-admin',
      '--role',
      'administrator',
      '--cert',
      certFile,
      '--data-dir',
      data,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const body = JSON.parse(r.out) as {
      user: { username: string; certificate: { subject: string } };
      oneTimePassword: string;
    };
    expect(body.user.username).toBe('root-admin');
    expect(body.user.certificate.subject).toBe('CN=root-admin');
    expect(body.oneTimePassword.length).toBeGreaterThanOrEqual(20);
  });

  it('refuses a duplicate user name and an unknown role (exit 2)', async () => {
    const dup = await cli(
      'admin',
      'create',
      '--username',
      'root-admin',
      '--role',
      'auditor',
      '--data-dir',
      data,
    );
    expect(dup.code).toBe(2);
    expect(dup.err).toContain('USER_USERNAME_TAKEN');
    const role = await cli('admin', 'create', '--username', 'x', '--role', 'superuser', '--data-dir', data);
    expect(role.code).toBe(2);
    expect(role.err).toContain('ROLE_NOT_FOUND');
  });

  it('resets a password', async () => {
    const r = await cli('admin', 'reset-password', '--username', 'root-admin', '--data-dir', data);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/one-time password for root-admin/);
  });

  it('audit verify: intact chain exits 0; a tampered entry exits 1 naming the row', async () => {
    const ok = await cli('audit', 'verify', '--data-dir', data);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/operationLog: intact, 2 entries/);
    const db = new Database(join(data, 'yizheng.db'));
    db.prepare("UPDATE operation_logs SET actor = 'someone-else' WHERE seq = 1").run();
    db.close();
    const bad = await cli('audit', 'verify', '--data-dir', data, '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out)).toMatchObject({
      operationLog: { ok: false, seq: 1, reason: 'hash_mismatch' },
    });
  });
});
