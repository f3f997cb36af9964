/**
 * `yizheng tsa import|list` on a fresh SQLite data directory: an RSA key and certificate made by
 * `openssl req -x509` are imported under a name and listed; refusals exit 2 with their stable code.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-tsa-'));
const d = ['--data-dir', join(dir, 'data')];
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pair(name: string, eku: boolean): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const o = { stdio: 'ignore' } as const;
  execFileSync(
    'openssl',
    ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key],
    o,
  );
  const ext = eku ? ['-addext', 'extendedKeyUsage=critical,timeStamping'] : [];
  execFileSync(
    'openssl',
    ['req', '-x509', '-new', '-key', key, '-subj', `/CN=${name}`, '-days', '30', '-out', cert, ...ext],
    o,
  );
  return { key, cert };
}

describe('yizheng tsa', () => {
  it('imports an RSA TSA key under a name and lists it beside none generated yet', async () => {
    expect((await cli('tsa', 'list', ...d)).out).toContain('no TSA keys yet');
    const p = pair('ext-tsa', true);
    const r = await cli('tsa', 'import', '--key', p.key, '--cert', p.cert, '--name', '院外时间戳', ...d);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^imported rsa TSA key: CN=ext-tsa \(sha256 [0-9a-f]{64}\)$/m);
    const list = await cli('tsa', 'list', ...d);
    expect(list.out).toMatch(/^rsa\s+imported\s+valid\s+\S+ [0-9a-f]{16} 院外时间戳$/m);
    const json = JSON.parse((await cli('tsa', 'list', '--json', ...d)).out) as {
      algorithm: string;
      name: string;
    }[];
    expect(json).toEqual([
      expect.objectContaining({ algorithm: 'rsa', name: '院外时间戳', origin: 'imported' }),
    ]);
  });

  it('exits 2 with the code when the certificate is no TSA certificate or the key is not its key', async () => {
    const plain = pair('plain', false);
    const r = await cli('tsa', 'import', '--key', plain.key, '--cert', plain.cert, ...d);
    expect(r.code).toBe(2);
    expect(r.err).toContain('TSA_IMPORT_EKU_INVALID');
    const other = pair('other', true);
    const m = await cli('tsa', 'import', '--key', plain.key, '--cert', other.cert, ...d);
    expect(m.code).toBe(2);
    expect(m.err).toContain('TSA_IMPORT_KEY_MISMATCH');
    const missing = await cli('tsa', 'import', '--key', join(dir, 'nope.key'), '--cert', other.cert, ...d);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('ENOENT');
  });
});
