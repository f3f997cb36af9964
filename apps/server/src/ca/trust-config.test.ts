import { describe, expect, it } from 'vitest';
import { isStartupError } from '../startup-error.js';
import { parseTrustConfig, TRUST_DEFAULTS } from './trust-config.js';

const base = { host: '127.0.0.1', port: 8080, cwd: '/srv/yizheng' };

describe('trust configuration', () => {
  it('has defaults: all three TSA keys, SM2 default, no NTP, 10-minute links, the public URL from host:port', () => {
    const c = parseTrustConfig({ ...base, env: {}, file: {} });
    expect(c.tsa.algorithms).toEqual(['sm2', 'rsa', 'p256']);
    expect(c.tsa.defaultAlgorithm).toBe('sm2');
    expect(c.tsa.ntpServer).toBeUndefined();
    expect(c.tsa.policy).toBe(TRUST_DEFAULTS.tsaPolicy);
    expect(c.downloadTtlMs).toBe(600_000);
    expect(c.downloadPurgeGraceMs).toBe(86_400_000);
    expect(c.publicUrl).toBe('http://127.0.0.1:8080');
    expect(c.unitName).toBe(TRUST_DEFAULTS.unitName);
  });

  it('reads the environment over the file', () => {
    const c = parseTrustConfig({
      ...base,
      env: {
        YIZHENG_TSA_KEYS: 'rsa, p256',
        YIZHENG_NTP_SERVER: '10.1.1.1:123',
        YIZHENG_UNIT_NAME: '某某医院',
      },
      file: {
        trust: {
          tsaKeys: ['sm2'],
          tsaDefault: 'p256',
          unitLogo: 'logo.png',
          publicUrl: 'https://yz.example/',
        },
      },
    });
    expect(c.tsa.algorithms).toEqual(['rsa', 'p256']);
    expect(c.tsa.defaultAlgorithm).toBe('p256');
    expect(c.tsa.ntpServer).toBe('10.1.1.1:123');
    expect(c.unitName).toBe('某某医院');
    expect(c.unitLogoFile).toBe('/srv/yizheng/logo.png');
    expect(c.publicUrl).toBe('https://yz.example');
  });

  it.each([
    [{ YIZHENG_TSA_KEYS: 'sm2,dsa' }],
    [{ YIZHENG_TSA_KEYS: 'rsa', YIZHENG_TSA_DEFAULT: 'sm2' }],
    [{ YIZHENG_TSA_POLICY: 'not.an.oid' }],
    [{ YIZHENG_NTP_SERVER: 'a:b:c' }],
    [{ YIZHENG_NTP_MAX_DRIFT_MS: '-5' }],
    [{ YIZHENG_DOWNLOAD_PURGE_GRACE_MS: '1d' }],
    [{ YIZHENG_PUBLIC_URL: 'ftp://x' }],
  ])('CONFIG_INVALID for %o', (env) => {
    let err: unknown;
    try {
      parseTrustConfig({ ...base, env, file: {} });
    } catch (e) {
      err = e;
    }
    expect(isStartupError(err, 'CONFIG_INVALID')).toBe(true);
  });
});
