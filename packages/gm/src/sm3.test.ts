/** SM3: GB/T 32905 examples, pure TypeScript against OpenSSL (node:crypto and the CLI), streaming splits. */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex, utf8 } from './bytes.js';
import * as node from './node/sm3.js';
import * as pure from './sm3-js.js';
import type { HashFactory } from './sm2/hash.js';
import { loadNativeSm3 } from './sm2/native-engine.js';
import { expectCode } from './testing/expect-code.js';
import { hasOpenssl, OpensslDir } from './testing/openssl.js';
import { seeded } from './testing/seeded.js';

// Both factories fit the SM2 code's hash dependency.
const factories: HashFactory[] = [pure.createSm3, node.createSm3];

const layers = [
  { name: 'pure', ...pure },
  { name: 'node', ...node },
] as const;

const reference = (b: Uint8Array): string => createHash('sm3').update(b).digest('hex');

describe.each(layers)('SM3 ($name)', ({ sm3, createSm3 }) => {
  it('GB/T 32905 Appendix A example 1: "abc"', () => {
    expect(toHex(sm3('abc'))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    expect(toHex(sm3(utf8('abc')))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('GB/T 32905 Appendix A example 2: "abcd" × 16 (two blocks)', () => {
    expect(toHex(sm3('abcd'.repeat(16)))).toBe(
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
    );
    expect(toHex(createSm3().update('abcd'.repeat(8)).update('abcd'.repeat(8)).digest())).toBe(
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
    );
  });

  it('hashes strings as UTF-8', () => {
    const s = '电子病历 — 住院 §1';
    expect(toHex(sm3(s))).toBe(toHex(sm3(utf8(s))));
    expect(toHex(sm3(s))).toBe(reference(utf8(s)));
  });

  it('returns a plain 32-byte Uint8Array', () => {
    const d = sm3('x');
    expect(Object.getPrototypeOf(d)).toBe(Uint8Array.prototype);
    expect(d.length).toBe(32);
    expect(d.byteLength).toBe(d.buffer.byteLength);
  });

  it('refuses update or digest after digest (GM_INVALID_ARGUMENT)', () => {
    const h = createSm3().update('a');
    h.digest();
    expectCode(() => h.update('b'), 'GM_INVALID_ARGUMENT');
    expectCode(() => h.digest(), 'GM_INVALID_ARGUMENT');
  });
});

describe('SM3 pure TypeScript against OpenSSL', () => {
  it('agrees with node:crypto on every length 0 … 300', () => {
    const rnd = seeded(32905);
    for (let n = 0; n <= 300; n++) {
      const m = rnd.bytes(n);
      const want = reference(m);
      expect(toHex(pure.sm3(m)), `length ${n}`).toBe(want);
      expect(toHex(node.sm3(m)), `length ${n}`).toBe(want);
    }
  });

  it('streams with every split point of messages around one and two blocks', () => {
    const rnd = seeded(64);
    for (const n of [55, 56, 63, 64, 65, 119, 120, 127, 128, 129]) {
      const m = rnd.bytes(n);
      const want = reference(m);
      for (let i = 0; i <= n; i++) {
        for (const f of factories) {
          expect(
            toHex(f().update(m.subarray(0, i)).update(m.subarray(i)).digest()),
            `n=${n} split=${i}`,
          ).toBe(want);
        }
        // Three pieces: the split, then the rest byte by byte up to the next block boundary.
        const h = pure.createSm3().update(m.subarray(0, i));
        const j = Math.min(n, i + ((64 - (i % 64)) % 64));
        for (let k = i; k < j; k++) h.update(m.subarray(k, k + 1));
        expect(toHex(h.update(m.subarray(j)).digest()), `n=${n} bytes from ${i}`).toBe(want);
      }
    }
  });

  it('hashes 1 MiB in uneven chunks like one call', () => {
    const m = seeded(7).bytes(1 << 20);
    const h = pure.createSm3();
    for (let o = 0, step = 1; o < m.length; o += step, step = (step * 7 + 3) % 5000)
      h.update(m.subarray(o, o + step));
    expect(toHex(h.digest())).toBe(reference(m));
  });
});

describe.runIf(hasOpenssl())('SM3 against the openssl CLI', () => {
  const dir = new OpensslDir();
  afterAll(() => {
    dir.cleanup();
  });

  it('matches `openssl dgst -sm3` on a 1000-byte file', () => {
    const m = seeded(1000).bytes(1000);
    dir.write('m.bin', m);
    const out = dir.run('dgst', '-sm3', '-r', 'm.bin');
    const want = out.trim().split(/\s+/)[0]!.toLowerCase();
    expect(toHex(pure.sm3(m))).toBe(want);
    expect(toHex(node.sm3(m))).toBe(want);
  });
});

describe.skipIf(process.env.YIZHENG_SKIP_NATIVE === '1')('SM3 of the native addon (native/sm3.c)', () => {
  const loaded = loadNativeSm3();
  const native = loaded.sm3;

  it('loads and passes its known-answer check (npm ci builds it; YIZHENG_SKIP_NATIVE=1 skips this)', () => {
    expect(loaded.sm3 ? 'loaded' : loaded.reason).toBe('loaded');
  });

  it('agrees with node:crypto on every length 0 … 1100 and on 1 MiB + 13', () => {
    if (!native) throw new Error('native SM3 missing');
    const rnd = seeded(0x5333);
    for (let n = 0; n <= 1100; n++) {
      const m = rnd.bytes(n);
      expect(toHex(native(m)), `length ${n}`).toBe(reference(m));
    }
    const big = rnd.bytes((1 << 20) + 13);
    expect(toHex(native(big))).toBe(reference(big));
  });

  it('hashes exactly the view it is given (a subarray at an odd offset, a Buffer)', () => {
    if (!native) throw new Error('native SM3 missing');
    const backing = seeded(7).bytes(300);
    const view = backing.subarray(33, 33 + 129);
    expect(toHex(native(view))).toBe(reference(view));
    expect(toHex(native(Buffer.from(view)))).toBe(reference(view));
    // Short inputs go through a reused slot: each length from 64 down, at an odd offset, sees only itself.
    for (let n = 64; n >= 0; n--) {
      const short = backing.subarray(101, 101 + n);
      expect(toHex(native(short)), `length ${n}`).toBe(reference(short));
    }
  });

  it('is what the Node entry uses for bytes', () => {
    if (!native) throw new Error('native SM3 missing');
    const m = seeded(9).bytes(1024);
    expect(toHex(node.sm3(m))).toBe(toHex(native(m)));
    expect(toHex(node.sm3('医证'))).toBe(reference(utf8('医证')));
  });

  it('hashes strings natively as UTF-8 exactly as OpenSSL does: every width, lone surrogates, the size bound', () => {
    if (!native) throw new Error('native SM3 missing');
    const openssl = (s: string): string => createHash('sm3').update(s, 'utf8').digest('hex');
    const r = seeded(31);
    const units = ['a', 'é', '医', '😀', '\ud800', '\udfff', '\u0000', '\uffff'];
    const strings = [''];
    for (let n = 1; n <= 200; n++)
      strings.push(Array.from({ length: n }, () => units[r.int(units.length)]).join(''));
    strings.push('x\ud83d', '\ude00x', '\udbff\udbff', '证'.repeat(node.MAX_NATIVE_STRING_UNITS));
    strings.push('证'.repeat(node.MAX_NATIVE_STRING_UNITS + 1), 'a'.repeat(node.MAX_NATIVE_STRING_UNITS + 7));
    for (const s of strings) {
      expect(toHex(node.sm3(s)), `length ${s.length}`).toBe(openssl(s));
      expect(toHex(node.sm3(s))).toBe(toHex(pure.sm3(s)));
    }
    // A long string hashed after a short one, and a short one after a long one, share no state.
    expect(toHex(node.sm3('abc'))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('refuses anything but a Uint8Array (GM_INVALID_ARGUMENT)', () => {
    if (!native) throw new Error('native SM3 missing');
    const call = native as (data: unknown) => Uint8Array;
    for (const bad of ['abc', new Uint16Array(4), new DataView(new ArrayBuffer(4)), undefined, 5])
      expectCode(() => call(bad), 'GM_INVALID_ARGUMENT');
  });
});
