import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVIDENCE_DEFAULTS, loadConfig } from '../config.js';
import { isStartupError } from '../startup-error.js';
import { evidenceConfigOf } from './deps.js';

describe('evidence configuration', () => {
  it('defaults: no trust store, 64 MiB files under <data>/files', () => {
    const c = loadConfig({ env: {}, cwd: '/srv/yz' });
    expect(c.evidence).toEqual({
      trustStore: undefined,
      fileSizeLimit: EVIDENCE_DEFAULTS.fileSizeLimit,
      fileDir: join('/srv/yz/data', 'files'),
    });
    expect(evidenceConfigOf({ dataDir: '/d', evidence: undefined })).toEqual({
      trustStore: undefined,
      fileSizeLimit: 64 * 1024 * 1024,
      fileDir: '/d/files',
    });
  });

  it('YIZHENG_TRUST_STORE (resolved against cwd) and YIZHENG_FILE_SIZE_LIMIT', () => {
    const c = loadConfig({
      env: { YIZHENG_TRUST_STORE: 'roots', YIZHENG_FILE_SIZE_LIMIT: '1048576' },
      cwd: '/srv/yz',
    });
    expect(c.evidence).toMatchObject({ trustStore: '/srv/yz/roots', fileSizeLimit: 1048576 });
    let error: unknown;
    try {
      loadConfig({ env: { YIZHENG_FILE_SIZE_LIMIT: '10MB' }, cwd: '/srv/yz' });
    } catch (e) {
      error = e;
    }
    expect(isStartupError(error, 'CONFIG_INVALID')).toBe(true);
  });

  it('YIZHENG_CRL_DIR (resolved against cwd); unset: no configured CRLs', () => {
    const c = loadConfig({ env: { YIZHENG_CRL_DIR: 'crls' }, cwd: '/srv/yz' });
    expect(c.evidence?.crlDir).toBe('/srv/yz/crls');
    expect(loadConfig({ env: {}, cwd: '/srv/yz' }).evidence?.crlDir).toBeUndefined();
  });
});
