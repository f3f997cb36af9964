import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isStartupError } from '../startup-error.js';
import { tempDir } from '../testing/app.js';
import { loadTrustStore } from './trust-store.js';

describe('trust store', () => {
  const tmp = tempDir('yz-trust-');
  afterAll(() => {
    tmp.remove();
  });
  const cert = (name: string): string => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
        '-subj',
        `/CN=${name}`,
        '-days',
        '30',
      ],
      { cwd: tmp.dir, stdio: 'ignore' },
    );
    return join(tmp.dir, `${name}.pem`);
  };

  it('reads a PEM file, or every .pem/.crt/.cer of a directory (several certificates per file)', () => {
    const a = cert('root-a');
    const b = cert('root-b');
    expect(loadTrustStore(a).map((c) => c.subject)).toEqual(['CN=root-a']);
    const dir = join(tmp.dir, 'store');
    mkdirSync(dir);
    writeFileSync(join(dir, 'bundle.crt'), readFileSync(a, 'utf8') + readFileSync(b, 'utf8'));
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    expect(loadTrustStore(dir).map((c) => c.subject)).toEqual(['CN=root-a', 'CN=root-b']);
  });

  it('refuses to start (CONFIG_INVALID) on a missing path, an empty store or a malformed certificate', () => {
    const bad = join(tmp.dir, 'bad.pem');
    writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    for (const p of [join(tmp.dir, 'missing.pem'), empty, bad]) {
      let error: unknown;
      try {
        loadTrustStore(p);
      } catch (e) {
        error = e;
      }
      expect(isStartupError(error, 'CONFIG_INVALID')).toBe(true);
    }
  });
});
