/**
 * SM4: GB/T 32907 examples, the pure block cipher against OpenSSL, and ECB/CBC/CTR with PKCS#7 of both layers
 * against each other and the `openssl enc` CLI in both directions.
 */
import { createCipheriv } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { pkcs7Unpad } from './cipher-modes.js';
import * as node from './node/sm4.js';
import * as pure from './sm4.js';
import { Sm4 } from './sm4-js.js';
import { expectCode } from './testing/expect-code.js';
import { hasOpenssl, OpensslDir } from './testing/openssl.js';
import { seeded } from './testing/seeded.js';
import type { Sm4Mode } from './sm4.js';

const layers = [
  { name: 'pure', ...pure },
  { name: 'node', ...node },
] as const;

const GBT_KEY = fromHex('0123456789abcdeffedcba9876543210');
const MODES: Sm4Mode[] = ['ecb', 'cbc', 'ctr'];
const LENGTHS = [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000];

describe('SM4 block cipher (GB/T 32907)', () => {
  it('Appendix A example 1: key = plaintext = 0123…3210', () => {
    const c = new Sm4(GBT_KEY);
    const out = new Uint8Array(16);
    c.encryptBlock(GBT_KEY, 0, out, 0);
    expect(toHex(out)).toBe('681edf34d206965e86b3e94f536e4246');
    c.decryptBlock(out, 0, out, 0);
    expect(toHex(out)).toBe(toHex(GBT_KEY));
  });

  it.each(layers)('$name API: example 1 through sm4Encrypt/sm4Decrypt ecb without padding', (l) => {
    const ct = l.sm4Encrypt('ecb', GBT_KEY, GBT_KEY, { padding: false });
    expect(toHex(ct)).toBe('681edf34d206965e86b3e94f536e4246');
    expect(toHex(l.sm4Decrypt('ecb', GBT_KEY, ct, { padding: false }))).toBe(toHex(GBT_KEY));
  });

  it('1,000 chained encryptions agree with node sm4-ecb', () => {
    const c = new Sm4(GBT_KEY);
    const ours = Uint8Array.from(GBT_KEY);
    const ecb = createCipheriv('sm4-ecb', GBT_KEY, null).setAutoPadding(false);
    let theirs = Uint8Array.from(GBT_KEY);
    for (let i = 0; i < 1000; i++) {
      c.encryptBlock(ours, 0, ours, 0);
      theirs = new Uint8Array(ecb.update(theirs));
    }
    expect(toHex(ours)).toBe(toHex(theirs));
  });

  it('random keys and blocks agree with node sm4-ecb, both directions', () => {
    const rnd = seeded(32907);
    for (let i = 0; i < 200; i++) {
      const key = rnd.bytes(16);
      const block = rnd.bytes(16);
      const want = createCipheriv('sm4-ecb', key, null).setAutoPadding(false).update(block);
      const c = new Sm4(key);
      const out = new Uint8Array(16);
      c.encryptBlock(block, 0, out, 0);
      expect(toHex(out)).toBe(want.toString('hex'));
      c.decryptBlock(out, 0, out, 0);
      expect(toHex(out)).toBe(toHex(block));
    }
  });

  it.runIf(process.env.YIZHENG_SLOW === '1')('Appendix A example 2: 1,000,000 chained encryptions', () => {
    const c = new Sm4(GBT_KEY);
    const b = Uint8Array.from(GBT_KEY);
    for (let i = 0; i < 1_000_000; i++) c.encryptBlock(b, 0, b, 0);
    expect(toHex(b)).toBe('595298c7c6fd271f0402f804c33d3f66');
  });

  it('refuses a key that is not 16 bytes', () => {
    expectCode(() => new Sm4(new Uint8Array(15)), 'GM_INVALID_ARGUMENT');
  });
});

describe('SM4 modes: pure against node', () => {
  it('ECB, CBC, CTR with and without padding agree, and decrypt back', () => {
    const rnd = seeded(17964);
    for (const mode of MODES) {
      for (const n of LENGTHS) {
        for (const padding of mode === 'ctr' ? [false] : [true, false]) {
          if (!padding && mode !== 'ctr' && n % 16 !== 0) continue;
          const key = rnd.bytes(16);
          const data = rnd.bytes(n);
          const options = { ...(mode === 'ecb' ? {} : { iv: rnd.bytes(16) }), padding };
          const a = pure.sm4Encrypt(mode, key, data, options);
          const b = node.sm4Encrypt(mode, key, data, options);
          const what = `${mode} n=${n} padding=${padding}`;
          expect(toHex(a), what).toBe(toHex(b));
          expect(a.length, what).toBe(padding ? (Math.floor(n / 16) + 1) * 16 : n);
          expect(toHex(pure.sm4Decrypt(mode, key, b, options)), what).toBe(toHex(data));
          expect(toHex(node.sm4Decrypt(mode, key, a, options)), what).toBe(toHex(data));
        }
      }
    }
  });

  it('CTR carries across the whole 128-bit counter, as OpenSSL does', () => {
    const key = seeded(1).bytes(16);
    const data = seeded(2).bytes(80);
    for (const iv of [
      'ffffffffffffffffffffffffffffffff',
      '0000000000000000fffffffffffffffe',
      '00000000fffffffffffffffffffffffe',
    ]) {
      expect(toHex(pure.sm4Encrypt('ctr', key, data, { iv: fromHex(iv) })), iv).toBe(
        toHex(node.sm4Encrypt('ctr', key, data, { iv: fromHex(iv) })),
      );
    }
  });
});

describe.runIf(hasOpenssl())('SM4 modes against the openssl enc CLI', () => {
  const dir = new OpensslDir();
  afterAll(() => {
    dir.cleanup();
  });

  it.each(MODES)('sm4-%s: ours → openssl -d and openssl → ours', (mode) => {
    const rnd = seeded(mode.charCodeAt(1));
    for (const n of LENGTHS) {
      for (const padding of mode === 'ctr' ? [false] : [true, false]) {
        if (!padding && mode !== 'ctr' && n % 16 !== 0) continue;
        const key = rnd.bytes(16);
        const iv = mode === 'ecb' ? undefined : rnd.bytes(16);
        const data = rnd.bytes(n);
        const what = `${mode} n=${n} padding=${padding}`;
        const args = [
          'enc',
          `-sm4-${mode}`,
          '-K',
          toHex(key),
          ...(iv ? ['-iv', toHex(iv)] : []),
          ...(padding ? [] : ['-nopad']),
        ];
        const options = { ...(iv ? { iv } : {}), padding };

        dir.write('p.bin', data);
        dir.run(...args, '-in', 'p.bin', '-out', 'c.bin');
        const theirs = dir.read('c.bin');
        for (const l of layers) {
          expect(toHex(l.sm4Encrypt(mode, key, data, options)), `${l.name} ${what}`).toBe(toHex(theirs));
          expect(toHex(l.sm4Decrypt(mode, key, theirs, options)), `${l.name} ${what}`).toBe(toHex(data));
          dir.write('c2.bin', l.sm4Encrypt(mode, key, data, options));
          dir.run(...args, '-d', '-in', 'c2.bin', '-out', 'p2.bin');
          expect(toHex(dir.read('p2.bin')), `${l.name} ${what}`).toBe(toHex(data));
        }
      }
    }
  });
});

describe('PKCS#7 padding', () => {
  /** The reference rule, written plainly. */
  function valid(block: Uint8Array): boolean {
    const n = block[15]!;
    if (n < 1 || n > 16) return false;
    for (let i = 16 - n; i < 16; i++) if (block[i] !== n) return false;
    return true;
  }

  it('accepts exactly the valid final blocks (every pad length, each byte position corrupted)', () => {
    for (let n = 0; n <= 255; n++) {
      const good = new Uint8Array(32).fill(0xaa);
      good.fill(n, 32 - Math.min(n, 16));
      const cases = [good];
      for (let i = 16; i < 31; i++) {
        const bad = good.slice();
        bad[i]! ^= 0x01;
        cases.push(bad);
      }
      for (const c of cases) {
        if (valid(c.subarray(16))) expect(pkcs7Unpad(c).length).toBe(32 - n);
        else expectCode(() => pkcs7Unpad(c), 'GM_INVALID_PADDING');
      }
    }
  });

  it.each(layers)('$name: bad padding after decryption → GM_INVALID_PADDING (ecb and cbc)', (l) => {
    const key = seeded(3).bytes(16);
    const iv = seeded(4).bytes(16);
    const finals = [
      '00000000000000000000000000000000', // pad length 0
      '00000000000000000000000000000011', // 17 > block
      '00000000000000000000000000040303', // inconsistent pad bytes
      '01101010101010101010101010101010', // 16 bytes claimed, first is wrong
    ];
    for (const f of finals) {
      const plain = fromHex('00112233445566778899aabbccddeeff' + f);
      for (const mode of ['ecb', 'cbc'] as const) {
        const options = mode === 'cbc' ? { iv } : {};
        const ct = l.sm4Encrypt(mode, key, plain, { ...options, padding: false });
        expectCode(() => l.sm4Decrypt(mode, key, ct, options), 'GM_INVALID_PADDING');
      }
    }
  });
});

describe('node layer outputs', () => {
  it('are plain Uint8Arrays owning exactly their bytes (no Buffer, no slice of Node’s pool)', () => {
    const key = new Uint8Array(16);
    const iv = new Uint8Array(16);
    const outputs = [
      node.sm4Encrypt('cbc', key, new Uint8Array(5), { iv }),
      node.sm4Encrypt('ecb', key, new Uint8Array(0)),
      node.sm4Encrypt('ctr', key, new Uint8Array(20), { iv }),
      node.sm4Decrypt('cbc', key, node.sm4Encrypt('cbc', key, new Uint8Array(5), { iv }), { iv }),
      node.sm4GcmEncrypt(key, iv.subarray(0, 12), new Uint8Array(3000)).ciphertext,
      node.sm4Seal(key, new Uint8Array(7)),
    ];
    for (const o of outputs) {
      expect(Object.getPrototypeOf(o)).toBe(Uint8Array.prototype);
      expect(o.buffer.byteLength).toBeLessThanOrEqual(o.length + 16);
    }
  });
});

describe.each(layers)('SM4 argument checks ($name)', (l) => {
  const key = new Uint8Array(16);
  const iv = new Uint8Array(16);
  const data = new Uint8Array(32);

  it('wrong key or IV sizes, a missing IV, an IV for ECB → GM_INVALID_ARGUMENT', () => {
    for (const f of [l.sm4Encrypt, l.sm4Decrypt]) {
      expectCode(() => f('ecb', new Uint8Array(15), data), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('cbc', new Uint8Array(17), data, { iv }), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('ctr', new Uint8Array(32), data, { iv }), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('cbc', key, data, { iv: new Uint8Array(15) }), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('ctr', key, data, { iv: new Uint8Array(12) }), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('cbc', key, data), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('ctr', key, data), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('ecb', key, data, { iv }), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('ctr', key, data, { iv, padding: true }), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('gcm' as Sm4Mode, key, data, { iv }), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('ecb', key, 'text' as unknown as Uint8Array), 'GM_INVALID_ARGUMENT');
      expectCode(() => f('ecb', 'k'.repeat(16) as unknown as Uint8Array, data), 'GM_INVALID_ARGUMENT');
    }
  });

  it('unpadded data that is not whole blocks: GM_INVALID_ARGUMENT to encrypt, GM_INVALID_CIPHERTEXT to decrypt', () => {
    expectCode(() => l.sm4Encrypt('ecb', key, new Uint8Array(17), { padding: false }), 'GM_INVALID_ARGUMENT');
    expectCode(
      () => l.sm4Encrypt('cbc', key, new Uint8Array(1), { iv, padding: false }),
      'GM_INVALID_ARGUMENT',
    );
    expectCode(() => l.sm4Decrypt('ecb', key, new Uint8Array(17)), 'GM_INVALID_CIPHERTEXT');
    expectCode(
      () => l.sm4Decrypt('cbc', key, new Uint8Array(31), { iv, padding: false }),
      'GM_INVALID_CIPHERTEXT',
    );
    expectCode(() => l.sm4Decrypt('cbc', key, new Uint8Array(0), { iv }), 'GM_INVALID_CIPHERTEXT');
    expect(l.sm4Decrypt('cbc', key, new Uint8Array(0), { iv, padding: false }).length).toBe(0);
  });
});
