import { describe, expect, it } from 'vitest';
import { seeded } from '../../audit/canonical-random.test-support.js';
import { isYzError } from '../../errors.js';
import { base64 } from './service.js';

/** The decoder before the no-whitespace shortcut: the reference. */
function reference(value: string): string {
  const s = value.replace(/\s+/g, '');
  if (s.length === 0 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return 'invalid';
  return Buffer.from(s, 'base64').toString('hex');
}

function outcome(value: string): string {
  try {
    return Buffer.from(base64(value, 'x')).toString('hex');
  } catch (e) {
    if (isYzError(e) && e.code === 'EVIDENCE_INPUT_INVALID') return 'invalid';
    throw e;
  }
}

describe('base64 field decoding equals the reference', () => {
  it('on random valid, whitespace-broken and malformed texts', () => {
    const rnd = seeded(64);
    const noise = [' ', '\n', '\r\n', '\t', '=', '==', '-', '_', '.', '\u00a0', '\u2028', 'é', ''];
    const differing: string[] = [];
    for (let n = 0; n < 3000; n++) {
      const bytes = Buffer.from(
        Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)),
      );
      let text = bytes.toString('base64');
      if (rnd() < 0.6) {
        const k = Math.floor(rnd() * 4);
        for (let i = 0; i < k; i++) {
          const at = Math.floor(rnd() * (text.length + 1));
          text = text.slice(0, at) + noise[Math.floor(rnd() * noise.length)]! + text.slice(at);
        }
      }
      if (outcome(text) !== reference(text)) differing.push(text);
    }
    expect(differing).toEqual([]);
    for (const t of ['', ' ', 'QQ==', ' Q Q = = ', 'QQ=', 'QUJD\nREVG', 'QUJDREVG===', '====', 'Q\u00a0Q=='])
      expect(outcome(t)).toBe(reference(t));
  });
});
