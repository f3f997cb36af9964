/** HMAC-SM3: the generic RFC 2104 construction over pure SM3 against OpenSSL (node:crypto and the CLI). */
import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import * as pure from './hmac-sm3.js';
import * as node from './node/hmac-sm3.js';
import { expectCode } from './testing/expect-code.js';
import { hasOpenssl, OpensslDir } from './testing/openssl.js';
import { seeded } from './testing/seeded.js';

const layers = [
  { name: 'pure', ...pure },
  { name: 'node', ...node },
] as const;

/** Key lengths below, at and above the 64-byte block (longer keys are hashed first). */
const KEY_LENGTHS = [0, 1, 16, 32, 63, 64, 65, 100, 128, 300];

const reference = (key: Uint8Array, m: Uint8Array): string => createHmac('sm3', key).update(m).digest('hex');

describe.each(layers)('HMAC-SM3 ($name)', ({ hmacSm3, createHmacSm3 }) => {
  it('matches node:crypto createHmac for keys shorter than, equal to and longer than the block', () => {
    const rnd = seeded(2104);
    for (const kl of KEY_LENGTHS) {
      for (const ml of [0, 1, 55, 64, 65, 200]) {
        const key = rnd.bytes(kl);
        const m = rnd.bytes(ml);
        expect(toHex(hmacSm3(key, m)), `key ${kl}, message ${ml}`).toBe(reference(key, m));
      }
    }
  });

  it('streams: any split gives the one-shot MAC', () => {
    const rnd = seeded(5);
    const key = rnd.bytes(20);
    const m = rnd.bytes(150);
    const want = reference(key, m);
    for (let i = 0; i <= m.length; i += 7) {
      expect(toHex(createHmacSm3(key).update(m.subarray(0, i)).update(m.subarray(i)).digest())).toBe(want);
    }
  });

  it('takes strings as UTF-8', () => {
    const key = seeded(9).bytes(16);
    expect(toHex(hmacSm3(key, '病历 abc'))).toBe(reference(key, new TextEncoder().encode('病历 abc')));
  });

  it('refuses a key that is not bytes, and reuse after digest (GM_INVALID_ARGUMENT)', () => {
    expectCode(() => hmacSm3('key' as unknown as Uint8Array, 'm'), 'GM_INVALID_ARGUMENT');
    const h = createHmacSm3(new Uint8Array(16)).update('a');
    h.digest();
    expectCode(() => h.update('b'), 'GM_INVALID_ARGUMENT');
    expectCode(() => h.digest(), 'GM_INVALID_ARGUMENT');
  });
});

describe.runIf(hasOpenssl())('HMAC-SM3 against the openssl CLI', () => {
  const dir = new OpensslDir();
  afterAll(() => {
    dir.cleanup();
  });

  it('matches `openssl mac -digest SM3 HMAC` for keys of 1, 16, 64, 65 and 200 bytes', () => {
    const rnd = seeded(32905);
    const m = rnd.bytes(333);
    dir.write('m.bin', m);
    for (const kl of [1, 16, 64, 65, 200]) {
      const key = rnd.bytes(kl);
      const out = dir.run('mac', '-digest', 'SM3', '-macopt', `hexkey:${toHex(key)}`, '-in', 'm.bin', 'HMAC');
      const want = out.trim().toLowerCase();
      expect(toHex(pure.hmacSm3(key, m)), `key ${kl}`).toBe(want);
      expect(toHex(node.hmacSm3(key, m)), `key ${kl}`).toBe(want);
    }
  });
});
