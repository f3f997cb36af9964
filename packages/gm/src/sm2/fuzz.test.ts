/**
 * Fuzzing the native engine's input handling, in bounded time:
 * - the C target `native/test/fuzz_parse.c` (libFuzzer-compatible) built with AddressSanitizer and
 *   UndefinedBehaviorSanitizer, run for a few seconds over random, mutated and truncated inputs; it checks
 *   properties (verify with and without the key table agree, [k]P stays on the curve, a signature it makes
 *   verifies) and aborts on any violation or memory error;
 * - the N-API surface: every function of the addon called with random JavaScript values (wrong types,
 *   lengths, views, numbers, strings) must return a result or throw a GmError / addon error with a known code,
 *   never crash, and never accept a wrong length.
 */
import { describe, expect, it } from 'vitest';
import { isGmError } from '../errors.js';
import { SANITIZE_FLAGS, cHarness, nativeSource } from '../testing/c-harness.js';
import { seeded } from '../testing/seeded.js';
import { skipNative } from '../testing/engines.js';
import { loadNativeEngine, type NativeSm2Engine } from './native-engine.js';

const harness = cHarness('yz-fuzz-');

describe.skipIf(skipNative)('native SM2 input fuzzing', () => {
  it('C target under ASan/UBSan: random, mutated and truncated inputs for 3 s', () => {
    harness({
      name: 'fuzz_parse',
      sources: ['test/fuzz_parse.c', 'sm2p256.c', 'sm3.c'].map(nativeSource),
      flags: [...SANITIZE_FLAGS, '-g', '-D_POSIX_C_SOURCE=200809L'],
      args: ['3', '20261201'],
      success: /no property violated/,
    });
  });

  it('N-API surface: 20,000 calls with random arguments return or throw a coded error', () => {
    const load = loadNativeEngine({ publicKeyCacheSize: 8 });
    if (!load.engine) throw new Error(load.reason);
    const eng: NativeSm2Engine = load.engine;
    const rnd = seeded(8);
    const d = new Uint8Array(32);
    d[31] = 7;
    const pub = eng.publicKeyFromPrivate(d);
    const lengths = [0, 1, 31, 32, 33, 63, 64, 65, 66, 96, 128, 130, 195];
    const value = (): unknown => {
      switch (rnd.int(10)) {
        case 0:
          return undefined;
        case 1:
          return rnd.int(1000) - 500;
        case 2:
          return 'x'.repeat(rnd.int(70));
        case 3:
          return new Uint16Array(rnd.int(40));
        case 4:
          return Array.from(rnd.bytes(rnd.int(70)));
        case 5: {
          const n = lengths[rnd.int(lengths.length)]!;
          const buf = rnd.bytes(n + 8);
          return buf.subarray(rnd.int(8), rnd.int(8) + n > buf.length ? buf.length : rnd.int(8) + n);
        }
        case 6:
          return pub.slice();
        case 7: {
          const p = pub.slice();
          p[rnd.int(65)]! ^= 1 << rnd.int(8);
          return p;
        }
        default:
          return rnd.bytes(lengths[rnd.int(lengths.length)]!);
      }
    };
    const fns: ((...a: unknown[]) => unknown)[] = [
      (a) => eng.publicKeyFromPrivate(a as Uint8Array),
      (a, b, c) => eng.sign(a as Uint8Array, b as Uint8Array, c as Uint8Array | undefined),
      (a, b, c) => eng.verify(a as Uint8Array, b as Uint8Array, c as Uint8Array),
      (a, b, c) => eng.verifyBatch(a as Uint8Array, b as Uint8Array, c as Uint8Array),
      (a, b) => eng.multiply(a as Uint8Array, b as Uint8Array),
    ];
    const codes = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const f = fns[rnd.int(fns.length)]!;
      try {
        const out = f(value(), value(), value());
        expect(typeof out === 'boolean' || out instanceof Uint8Array).toBe(true);
      } catch (err) {
        expect(isGmError(err), String(err)).toBe(true);
        const code = (err as { code: string }).code;
        expect(['GM_INVALID_ARGUMENT', 'GM_INVALID_KEY']).toContain(code);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    expect(codes.get('GM_INVALID_ARGUMENT')).toBeGreaterThan(0);
    expect(codes.get('GM_INVALID_KEY')).toBeGreaterThan(0);
    // still sane afterwards
    const e = new Uint8Array(32).fill(9);
    expect(eng.verify(e, eng.sign(e, d), pub)).toBe(true);
  });
});
