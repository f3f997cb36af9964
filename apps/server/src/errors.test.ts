import { describe, expect, it } from 'vitest';
import { ERRORS, isErrorCode, negotiateLocale, YzError } from './errors.js';

describe('error catalogue', () => {
  it('every code has a 4xx/5xx status and both languages', () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(e.status).toBeGreaterThanOrEqual(400);
      expect(e['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      expect(e['en-US']).toMatch(/^[A-Z]/);
    }
    expect(isErrorCode('AUTH_NONCE_REPLAY')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(new YzError('AUTH_APP_FROZEN').statusCode).toBe(403);
  });

  it.each([
    [undefined, 'zh-CN'],
    ['', 'zh-CN'],
    ['en', 'en-US'],
    ['en-US,en;q=0.9', 'en-US'],
    ['zh-CN,zh;q=0.9,en;q=0.8', 'zh-CN'],
    ['fr-FR, en;q=0.5', 'en-US'],
    ['en;q=0.3, zh-TW;q=0.7', 'zh-CN'],
    ['de', 'zh-CN'],
    ['en;q=0', 'zh-CN'],
  ])('Accept-Language %j → %s', (header, want) => {
    expect(negotiateLocale(header)).toBe(want);
  });
});
