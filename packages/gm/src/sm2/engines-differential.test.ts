/**
 * Differential test of the three SM2 engines — `native` (Yizheng's C), `openssl` (the addon over Node's
 * OpenSSL, an independent implementation) and `js` (TypeScript BigInt) — on random (key, message, nonce)
 * triples: 10^4 in the default suite, 10^6 with YIZHENG_SLOW=1. For every triple the engines must derive the
 * same public key, produce bit-identical signatures for the same k (GB/T 32918.2 clause 6.1 is deterministic
 * given k), and accept each other's signatures; tampered digests must fail everywhere; [k]Q must agree.
 *
 * Then the edge cases: scalars 0, 1, n−1, n, 2^256−1 in every entry point; the point at infinity inside the
 * verification sum; a sum that needs a doubling; r + s = n; r or s out of range; public keys that are not
 * curve points. And the RFC 6979 (HMAC-SM3) nonces of the native engine against a TypeScript rendering of
 * RFC 6979 clause 3.2 over node:crypto's HMAC-SM3.
 */
import { describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt, concat, toHex } from '../bytes.js';
import { isGmError } from '../errors.js';
import { createSm3 } from '../node/sm3.js';
import { hmacSm3 } from '../node/hmac-sm3.js';
import { nativeEngine, opensslEngine, skipNative } from '../testing/engines.js';
import { seeded } from '../testing/seeded.js';
import { GX, GY, N, P as FIELD_P } from './curve.js';
import type { Sm2Engine } from './engine.js';
import { createJsEngine } from './js-engine.js';
import { Sm2PublicKey } from './keys.js';
import { loadNativeEngine } from './native-engine.js';
import { createSm2 } from './sm2.js';

const SLOW = process.env.YIZHENG_SLOW === '1';
const COUNT = SLOW ? 1_000_000 : 10_000;
/** The TypeScript engine is ~50× slower: it takes part in every JS_EVERY-th triple. */
const JS_EVERY = SLOW ? 1000 : 20;

const b32 = (v: bigint): Uint8Array => bigIntToBytes(((v % (1n << 256n)) + (1n << 256n)) % (1n << 256n), 32);
const int = (b: Uint8Array): bigint => bytesToBigInt(b);
const G = concat(Uint8Array.of(4), b32(GX), b32(GY));

/** Outcome of a call: its bytes/boolean as hex/string, or the GmError code. */
function outcome(fn: () => Uint8Array | boolean): string {
  try {
    const r = fn();
    return typeof r === 'boolean' ? String(r) : toHex(r);
  } catch (err) {
    if (isGmError(err)) return `error:${err.code}`;
    throw err;
  }
}

describe.skipIf(skipNative)('SM2 engines: native ⇄ openssl ⇄ js', () => {
  const native = nativeEngine();
  const openssl = opensslEngine();
  const js = createJsEngine();
  const all: [string, Sm2Engine][] = [
    ['native', native],
    ['openssl', openssl],
    ['js', js],
  ];
  const sm2 = createSm2({ engine: native, hash: createSm3 });
  const digest = (pub: Uint8Array, msg: Uint8Array): Uint8Array =>
    sm2.computeDigest(Sm2PublicKey.fromPoint(pub), msg);

  it(
    `agree on ${COUNT.toLocaleString('en')} random (key, message, k) triples`,
    { timeout: COUNT * 60 },
    () => {
      const rnd = seeded(0x5a2);
      const scalar = (max: bigint): Uint8Array => {
        for (;;) {
          const b = rnd.bytes(32);
          const v = int(b);
          if (v >= 1n && v <= max) return b;
        }
      };
      let jsChecks = 0;
      for (let i = 0; i < COUNT; i++) {
        const d = scalar(N - 2n);
        const k = scalar(N - 1n);
        const msg = rnd.bytes(rnd.int(120));
        const P = native.publicKeyFromPrivate(d);
        expect(toHex(openssl.publicKeyFromPrivate(d)), `P, triple ${i}`).toBe(toHex(P));
        const e = digest(P, msg);
        const sig = outcome(() => native.sign(e, d, k));
        expect(
          outcome(() => openssl.sign(e, d, k)),
          `sign, triple ${i}`,
        ).toBe(sig);
        const rs = native.sign(e, d); // random k
        expect(native.verify(e, rs, P), `native verifies itself, triple ${i}`).toBe(true);
        expect(openssl.verify(e, rs, P), `openssl verifies native, triple ${i}`).toBe(true);
        if (i % 4 === 0) {
          expect(native.verify(e, openssl.sign(e, d), P), `native verifies openssl, triple ${i}`).toBe(true);
        }
        if (i % 7 === 0) {
          const bad = e.slice();
          bad[i % 32]! ^= 1 << (i % 8);
          expect(native.verify(bad, rs, P)).toBe(false);
          expect(openssl.verify(bad, rs, P)).toBe(false);
        }
        if (i % 10 === 0) {
          expect(toHex(native.multiply(P, k)), `kP, triple ${i}`).toBe(toHex(openssl.multiply(P, k)));
        }
        if (i % JS_EVERY === 0) {
          jsChecks++;
          expect(
            outcome(() => js.sign(e, d, k)),
            `js sign, triple ${i}`,
          ).toBe(sig);
          expect(js.verify(e, rs, P), `js verifies native, triple ${i}`).toBe(true);
        }
      }
      expect(jsChecks).toBe(Math.ceil(COUNT / JS_EVERY));
    },
  );

  describe('edge cases', () => {
    const edges: [string, bigint][] = [
      ['0', 0n],
      ['1', 1n],
      ['n-2', N - 2n],
      ['n-1', N - 1n],
      ['n', N],
      ['n+1', N + 1n],
      ['2^256-1', (1n << 256n) - 1n],
    ];
    const Q = native.publicKeyFromPrivate(b32(0x1234567n));
    const e = digest(Q, Uint8Array.of(1, 2, 3));
    const d = b32(0xabcdefn);

    it('private keys 0, 1, n-2, n-1, n, n+1, 2^256-1: same result or same error code on every engine', () => {
      for (const [label, v] of edges) {
        const want = outcome(() => openssl.publicKeyFromPrivate(b32(v)));
        expect(
          outcome(() => native.publicKeyFromPrivate(b32(v))),
          `d = ${label}`,
        ).toBe(want);
        expect(
          outcome(() => native.sign(e, b32(v), b32(99n))),
          `sign d = ${label}`,
        ).toBe(outcome(() => openssl.sign(e, b32(v), b32(99n))));
      }
      expect(outcome(() => native.publicKeyFromPrivate(b32(1n)))).toBe(toHex(G));
      expect(outcome(() => native.publicKeyFromPrivate(b32(0n)))).toBe('error:GM_INVALID_KEY');
      expect(outcome(() => native.publicKeyFromPrivate(b32(N - 1n)))).toBe('error:GM_INVALID_KEY');
    });

    it('nonces k = 0, 1, n-2, n-1, n, n+1, 2^256-1: identical signatures or the same error on every engine', () => {
      for (const [label, v] of edges) {
        const want = outcome(() => openssl.sign(e, d, b32(v)));
        expect(
          outcome(() => native.sign(e, d, b32(v))),
          `k = ${label}`,
        ).toBe(want);
        expect(
          outcome(() => js.sign(e, d, b32(v))),
          `js k = ${label}`,
        ).toBe(want);
      }
      expect(outcome(() => native.sign(e, d, b32(0n)))).toBe('error:GM_INVALID_ARGUMENT');
      expect(outcome(() => native.sign(e, d, b32(N)))).toBe('error:GM_INVALID_ARGUMENT');
    });

    it('multiply by 0, 1, n-2, n-1, n, n+1, 2^256-1 (reduced mod n; 0 and n give infinity)', () => {
      for (const [label, v] of edges) {
        for (const point of [Q, G]) {
          const want = outcome(() => openssl.multiply(point, b32(v)));
          expect(
            outcome(() => native.multiply(point, b32(v))),
            `k = ${label}`,
          ).toBe(want);
          expect(
            outcome(() => js.multiply(point, b32(v))),
            `js k = ${label}`,
          ).toBe(want);
        }
      }
      expect(outcome(() => native.multiply(Q, b32(1n)))).toBe(toHex(Q));
      expect(outcome(() => native.multiply(Q, b32(N)))).toBe('error:GM_INVALID_ARGUMENT');
      // (n-1)·Q = -Q
      const negQ = concat(Q.subarray(0, 33), b32(FIELD_P - int(Q.subarray(33))));
      expect(outcome(() => native.multiply(Q, b32(N - 1n)))).toBe(toHex(negQ));
    });

    it('verification sums that reach infinity or need a doubling', () => {
      // P = G: [s]G + [t]G with t = r + s ≡ -s, i.e. r ≡ -2s: the sum is the point at infinity.
      const s = 0x1111_2222_3333n;
      const rInf = (((-2n * s) % N) + N) % N;
      const atInfinity = concat(b32(rInf), b32(s));
      for (const [name, eng] of all) expect(eng.verify(e, atInfinity, G), name).toBe(false);

      // P = 3G: [s]G + [t]3G with s ≡ 3t, i.e. r ≡ -2s/3: both halves are the same point, the sum is [2s]G.
      // Choose e so that the signature is valid: e ≡ r - x([2s]G).
      const inv3 = (() => {
        let [a, m, x0, x1] = [3n, N, 0n, 1n];
        while (a > 1n) {
          const q = a / m;
          [a, m] = [m, a % m];
          [x0, x1] = [x1 - q * x0, x0];
        }
        return ((x1 % N) + N) % N;
      })();
      const r = (((-2n * s * inv3) % N) + N) % N;
      const P3 = native.publicKeyFromPrivate(b32(3n));
      const twoS = native.publicKeyFromPrivate(b32(2n * s));
      const eValid = b32((((r - int(twoS.subarray(1, 33))) % N) + N) % N);
      const doubled = concat(b32(r), b32(s));
      for (const [name, eng] of all) {
        expect(eng.verify(eValid, doubled, P3), name).toBe(true);
        expect(eng.verify(e, doubled, P3), name).toBe(false);
      }
    });

    it('r + s = n (t = 0), r or s = 0, n, 2^256-1: false on every engine', () => {
      const rs = native.sign(e, d);
      const r = int(rs.subarray(0, 32));
      const s = int(rs.subarray(32));
      const P = native.publicKeyFromPrivate(d);
      expect(native.verify(e, rs, P)).toBe(true);
      const cases = [
        [r, N - r],
        [0n, s],
        [r, 0n],
        [N, s],
        [r, N],
        [(1n << 256n) - 1n, s],
        [r, (1n << 256n) - 1n],
        [r + N, s].map((v) => v % (1n << 256n)),
      ];
      for (const [cr, cs] of cases) {
        const sig = concat(b32(cr!), b32(cs!));
        for (const [name, eng] of all) expect(eng.verify(e, sig, P), `${name} r=${cr} s=${cs}`).toBe(false);
      }
    });

    it('public keys that are not curve points: verify is false (native, openssl); multiply is GM_INVALID_KEY', () => {
      const rs = native.sign(e, d);
      const P = native.publicKeyFromPrivate(d);
      const offCurve = P.slice();
      offCurve[64]! ^= 1;
      const xTooBig = concat(Uint8Array.of(4), b32(int(P.subarray(1, 33)) + FIELD_P), P.subarray(33));
      const compressed = concat(Uint8Array.of(2 + (P[64]! & 1)), P.subarray(1, 33), new Uint8Array(32));
      const zero = new Uint8Array(65);
      zero[0] = 4;
      for (const bad of [offCurve, xTooBig, compressed, zero]) {
        for (const eng of [native, openssl]) {
          expect(eng.verify(e, rs, bad)).toBe(false);
          expect(outcome(() => eng.multiply(bad, d))).toBe('error:GM_INVALID_KEY');
        }
      }
    });
  });

  describe('RFC 6979 nonces (HMAC-SM3)', () => {
    const load = loadNativeEngine({ nonce: 'rfc6979' });
    if (!load.engine) throw new Error(load.reason);
    const det = load.engine;

    /** RFC 6979 clause 3.2 with H = SM3, qlen = hlen = 256: the first candidate k in [1, n-1]. */
    function rfc6979(x: Uint8Array, e: Uint8Array): Uint8Array {
      const h1 = b32(int(e) % N);
      let V: Uint8Array = new Uint8Array(32).fill(1);
      let K: Uint8Array = new Uint8Array(32);
      K = hmacSm3(K, concat(V, Uint8Array.of(0), x, h1));
      V = hmacSm3(K, V);
      K = hmacSm3(K, concat(V, Uint8Array.of(1), x, h1));
      V = hmacSm3(K, V);
      for (;;) {
        V = hmacSm3(K, V);
        const k = int(V);
        if (k >= 1n && k < N) return V;
        K = hmacSm3(K, concat(V, Uint8Array.of(0)));
        V = hmacSm3(K, V);
      }
    }

    it('sign without k uses the RFC 6979 k: deterministic, equal to sign with that k, verifiable', () => {
      const rnd = seeded(6979);
      expect(det.nonce).toBe('rfc6979');
      for (let i = 0; i < 200; i++) {
        const d = rnd.bytes(32);
        if (int(d) < 1n || int(d) > N - 2n) continue;
        const P = det.publicKeyFromPrivate(d);
        const e = i % 10 === 0 ? b32((1n << 256n) - 1n - BigInt(i)) : rnd.bytes(32); // also e ≥ n
        const sig = det.sign(e, d);
        expect(toHex(det.sign(e, d))).toBe(toHex(sig));
        expect(toHex(sig), `key ${i}`).toBe(toHex(openssl.sign(e, d, rfc6979(d, e))));
        expect(openssl.verify(e, sig, P)).toBe(true);
      }
      // The default (CSPRNG) engine does not repeat.
      const d = b32(5n);
      const e = b32(77n);
      expect(toHex(native.sign(e, d))).not.toBe(toHex(native.sign(e, d)));
    });
  });
});
