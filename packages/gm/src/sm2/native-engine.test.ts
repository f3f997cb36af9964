/**
 * Both N-API engines — `native` (Yizheng's own C arithmetic) and `openssl` (the addon over Node's OpenSSL) —
 * against the published GB/T 32918.5 vector, Node's own SM2 ECDH (OpenSSL inside Node, a different code path:
 * EVP_PKEY_derive) and the openssl CLI (key generation, signing, verification).
 *
 * The addons must be built (`npm ci` builds them): a missing addon FAILS these tests, unless
 * YIZHENG_SKIP_NATIVE=1 says explicitly that it was not built on purpose.
 */
import { createECDH, createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt, concat, fromHex, toHex, utf8 } from '../bytes.js';
import { isGmError } from '../errors.js';
import { A, B, DEFAULT_USER_ID, GX, GY, N, isOnCurve } from './curve.js';
import type { PublicKeyCacheStats, Sm2Engine } from './engine.js';
import { loadNativeEngine } from './native-engine.js';
import { loadOpensslEngine } from './openssl-engine.js';

const SKIP_NATIVE = process.env.YIZHENG_SKIP_NATIVE === '1';

type CachedEngine = Sm2Engine & { publicKeyCacheStats(): PublicKeyCacheStats };
type Loader = (options?: {
  publicKeyCacheSize?: number;
}) => { engine: CachedEngine } | { engine: undefined; reason: string };

const ENGINES: { label: string; load: Loader; addon: string; description: RegExp }[] = [
  {
    label: 'native',
    load: loadNativeEngine,
    addon: 'yizheng_sm2_native.node',
    description: /^Yizheng C engine/,
  },
  {
    label: 'openssl',
    load: loadOpensslEngine,
    addon: 'yizheng_sm2.node',
    description: new RegExp(`OpenSSL ${process.versions.openssl.replace(/\./g, '\\.')}`),
  },
];

const sm3 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sm3');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const b32 = (v: bigint): Uint8Array => bigIntToBytes(v, 32);
const point = (x: bigint, y: bigint): Uint8Array => concat(new Uint8Array([4]), b32(x), b32(y));

/** Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A), GB/T 32918.2 clause 5.5. */
function computeZ(publicKey: Uint8Array, id: Uint8Array): Uint8Array {
  const entl = id.length * 8;
  return sm3(
    new Uint8Array([entl >> 8, entl & 0xff]),
    id,
    b32(A),
    b32(B),
    b32(GX),
    b32(GY),
    publicKey.subarray(1, 33),
    publicKey.subarray(33, 65),
  );
}

/** e = SM3(Z_A ‖ M), clause 6.1 A1–A2. */
const digest = (publicKey: Uint8Array, message: Uint8Array, id = utf8(DEFAULT_USER_ID)): Uint8Array =>
  sm3(computeZ(publicKey, id), message);

/** Deterministic test keys d ∈ [1, n-2], derived by hashing (no unseeded randomness in tests). */
function testKey(label: string, i: number): Uint8Array {
  for (let j = 0; ; j++) {
    const d = sm3(utf8(`yizheng native-engine ${label} ${i} ${j}`));
    const v = bytesToBigInt(d);
    if (v >= 1n && v <= N - 2n) return d;
  }
}

/** Minimal strict DER for SM2Signature ::= SEQUENCE { r INTEGER, s INTEGER } (GM/T 0009 clause 7.2). */
function derEncodeSignature(rs: Uint8Array): Uint8Array {
  const int = (b: Uint8Array): Uint8Array => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.subarray(i);
    const body = v[0]! & 0x80 ? concat(new Uint8Array([0]), v) : v;
    return concat(new Uint8Array([0x02, body.length]), body);
  };
  const body = concat(int(rs.subarray(0, 32)), int(rs.subarray(32, 64)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

/** Strict decoding of the same (short-form lengths only: an SM2 signature is at most 72 bytes). */
function derDecodeSignature(der: Uint8Array): Uint8Array {
  let o = 0;
  const tlv = (tag: number): Uint8Array => {
    if (der[o] !== tag) throw new Error(`DER: expected tag ${tag} at offset ${o}`);
    const len = der[o + 1]!;
    if (len & 0x80 || o + 2 + len > der.length) throw new Error('DER: bad length');
    o += 2;
    const v = der.subarray(o, o + len);
    if (tag === 0x02) o += len;
    return v;
  };
  const integer = (): Uint8Array => {
    let v = tlv(0x02);
    if (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > 32) throw new Error('DER: INTEGER longer than 32 bytes');
    return b32(bytesToBigInt(v));
  };
  const seq = tlv(0x30);
  const rs = concat(integer(), integer());
  if (o !== der.length || o !== 2 + seq.length) throw new Error('DER: trailing bytes');
  return rs;
}

/** SubjectPublicKeyInfo for an SM2 key: id-ecPublicKey with the sm2 curve OID (GM/T 0015), then the point. */
function publicKeyPem(publicKey: Uint8Array): string {
  const spki = concat(fromHex('3059301306072a8648ce3d020106082a811ccf5501822d034200'), publicKey);
  const b64 = Buffer.from(spki).toString('base64');
  return `-----BEGIN PUBLIC KEY-----\n${b64.replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----\n`;
}

/** The openssl CLI in a private temporary directory. */
const tmp = mkdtempSync(join(tmpdir(), 'yz-native-sm2-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});
const at = (name: string): string => join(tmp, name);
const openssl = (...args: string[]): string =>
  execFileSync('openssl', args, { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** d and P of a PEM private key as OpenSSL's own parser prints them (`openssl pkey -text`). */
function opensslKeyText(pemPath: string): { d: Uint8Array; publicKey: Uint8Array } {
  const text = openssl('pkey', '-in', pemPath, '-noout', '-text');
  const field = (name: string): Uint8Array => {
    const m = new RegExp(`^${name}:\\s*\\n((?:\\s+[0-9a-f:]+\\n)+)`, 'm').exec(text);
    if (!m) throw new Error(`no ${name} in openssl pkey -text output:\n${text}`);
    return fromHex(m[1]!.replace(/[\s:]/g, ''));
  };
  const d = field('priv');
  return { d: b32(bytesToBigInt(d)), publicKey: field('pub') };
}

function expectGmError(fn: () => unknown, code: 'GM_INVALID_ARGUMENT' | 'GM_INVALID_KEY'): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a GmError').toBeDefined();
  expect(isGmError(thrown), `expected a GmError, got ${String(thrown)}`).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
}

describe.skipIf(SKIP_NATIVE).each(ENGINES)(
  '$label SM2 engine (N-API)',
  ({ label, load, addon, description }) => {
    const loaded = load();
    function engine(): CachedEngine {
      if (!loaded.engine) {
        throw new Error(
          `the ${label} addon did not load: ${loaded.reason} (set YIZHENG_SKIP_NATIVE=1 to skip)`,
        );
      }
      return loaded.engine;
    }

    it('loads the addon (npm ci builds it; YIZHENG_SKIP_NATIVE=1 skips this suite)', () => {
      expect(loaded.engine ? 'loaded' : loaded.reason).toBe('loaded');
      expect(engine().name).toBe(label);
      expect(engine().description).toMatch(description);
    });

    describe('GB/T 32918.5-2017 signature example (ID 1234567812345678, "message digest")', () => {
      const d = fromHex('3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8');
      const P = fromHex(
        '04' +
          '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020' +
          'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13',
      );
      const k = fromHex('59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21');
      const rs = fromHex(
        'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3' +
          'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA',
      );
      const e = digest(P, utf8('message digest'));

      it('Z and e', () => {
        expect(toHex(computeZ(P, utf8('1234567812345678')))).toBe(
          'b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3',
        );
        expect(toHex(e)).toBe('f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640');
      });

      it('P = d·G', () => {
        expect(toHex(engine().publicKeyFromPrivate(d))).toBe(toHex(P));
      });

      it('sign with the published k gives the published (r, s)', () => {
        expect(toHex(engine().sign(e, d, k))).toBe(toHex(rs));
      });

      it('verifies the published signature', () => {
        expect(engine().verify(e, rs, P)).toBe(true);
      });

      it('the openssl CLI verifies the published signature too (checks our DER and SPKI helpers)', () => {
        writeFileSync(at('vec.msg'), 'message digest');
        writeFileSync(at('vec.sig'), derEncodeSignature(rs));
        writeFileSync(at('vec.pub.pem'), publicKeyPem(P));
        const out = openssl(
          'pkeyutl',
          '-verify',
          '-rawin',
          '-digest',
          'sm3',
          '-pkeyopt',
          'distid:1234567812345678',
          '-pubin',
          '-inkey',
          'vec.pub.pem',
          '-in',
          'vec.msg',
          '-sigfile',
          'vec.sig',
        );
        expect(out).toContain('Signature Verified Successfully');
      });

      it('random-k signatures differ and verify', () => {
        const s1 = engine().sign(e, d);
        const s2 = engine().sign(e, d);
        expect(toHex(s1)).not.toBe(toHex(s2));
        expect(engine().verify(e, s1, P)).toBe(true);
        expect(engine().verify(e, s2, P)).toBe(true);
      });
    });

    it("agrees with Node's SM2 ECDH on 200 keys: d·G and the x of d·Q", () => {
      const eng = engine();
      for (let i = 0; i < 200; i++) {
        const d = testKey('ecdh-a', i);
        const other = testKey('ecdh-b', i);
        const ecdh = createECDH('SM2');
        ecdh.setPrivateKey(d);
        const P = eng.publicKeyFromPrivate(d);
        expect(toHex(P), `key ${i}`).toBe(toHex(ecdh.getPublicKey()));
        expect(isOnCurve(bytesToBigInt(P.subarray(1, 33)), bytesToBigInt(P.subarray(33)))).toBe(true);

        const Q = eng.publicKeyFromPrivate(other);
        const dQ = eng.multiply(Q, d);
        expect(toHex(dQ.subarray(1, 33)), `key ${i}`).toBe(toHex(ecdh.computeSecret(Q)));
        expect(isOnCurve(bytesToBigInt(dQ.subarray(1, 33)), bytesToBigInt(dQ.subarray(33)))).toBe(true);
        // d·(e·G) = e·(d·G): the y coordinate too, and multiply(G, d) = publicKeyFromPrivate(d).
        expect(toHex(eng.multiply(P, other))).toBe(toHex(dQ));
        expect(toHex(eng.multiply(point(GX, GY), d))).toBe(toHex(P));
      }
    });

    describe('interoperability with the openssl CLI', () => {
      const ROUNDS = 6;
      const message = (i: number): Uint8Array => utf8(`电子病历 evidence #${i} `.repeat(i * 7 + 1));

      it('verifies signatures made by `openssl pkeyutl -sign -digest sm3 -pkeyopt distid:…`', () => {
        for (let i = 0; i < ROUNDS; i++) {
          openssl('genpkey', '-algorithm', 'SM2', '-out', `k${i}.pem`);
          const key = opensslKeyText(at(`k${i}.pem`));
          expect(toHex(engine().publicKeyFromPrivate(key.d))).toBe(toHex(key.publicKey));
          const msg = message(i);
          writeFileSync(at(`m${i}`), msg);
          openssl(
            'pkeyutl',
            '-sign',
            '-rawin',
            '-digest',
            'sm3',
            '-pkeyopt',
            `distid:${DEFAULT_USER_ID}`,
            '-inkey',
            `k${i}.pem`,
            '-in',
            `m${i}`,
            '-out',
            `s${i}.der`,
          );
          const rs = derDecodeSignature(new Uint8Array(readFileSync(at(`s${i}.der`))));
          const e = digest(key.publicKey, msg);
          expect(engine().verify(e, rs, key.publicKey), `round ${i}`).toBe(true);
          expect(engine().verify(digest(key.publicKey, concat(msg, utf8('x'))), rs, key.publicKey)).toBe(
            false,
          );
        }
      });

      it('signatures it makes verify with `openssl pkeyutl -verify` (and a tampered one does not)', () => {
        for (let i = 0; i < ROUNDS; i++) {
          openssl('genpkey', '-algorithm', 'SM2', '-out', `o${i}.pem`);
          openssl('pkey', '-in', `o${i}.pem`, '-pubout', '-out', `o${i}.pub.pem`);
          const key = opensslKeyText(at(`o${i}.pem`));
          const msg = message(i + 100);
          writeFileSync(at(`om${i}`), msg);
          const rs = engine().sign(digest(key.publicKey, msg), key.d);
          writeFileSync(at(`os${i}.der`), derEncodeSignature(rs));
          const out = openssl(
            'pkeyutl',
            '-verify',
            '-rawin',
            '-digest',
            'sm3',
            '-pkeyopt',
            `distid:${DEFAULT_USER_ID}`,
            '-pubin',
            '-inkey',
            `o${i}.pub.pem`,
            '-in',
            `om${i}`,
            '-sigfile',
            `os${i}.der`,
          );
          expect(out, `round ${i}`).toContain('Signature Verified Successfully');
        }
        const bad = engine().sign(
          digest(opensslKeyText(at('o0.pem')).publicKey, utf8('other')),
          opensslKeyText(at('o0.pem')).d,
        );
        writeFileSync(at('bad.der'), derEncodeSignature(bad));
        expect(() =>
          openssl(
            'pkeyutl',
            '-verify',
            '-rawin',
            '-digest',
            'sm3',
            '-pkeyopt',
            `distid:${DEFAULT_USER_ID}`,
            '-pubin',
            '-inkey',
            'o0.pub.pem',
            '-in',
            'om0',
            '-sigfile',
            'bad.der',
          ),
        ).toThrow();
      });
    });

    describe('signatures that must not verify', () => {
      const d = testKey('neg', 0);
      const P = (): Uint8Array => engine().publicKeyFromPrivate(d);
      const e = sm3(utf8('negative cases'));
      const rs = (): Uint8Array => engine().sign(e, d);
      const flip = (b: Uint8Array, i: number): Uint8Array => {
        const c = b.slice();
        c[i]! ^= 1;
        return c;
      };
      const withScalars = (r: bigint, s: bigint): Uint8Array => concat(b32(r), b32(s));

      it('baseline verifies', () => {
        expect(engine().verify(e, rs(), P())).toBe(true);
      });
      it('tampered e', () => {
        expect(engine().verify(flip(e, 31), rs(), P())).toBe(false);
        expect(engine().verify(flip(e, 0), rs(), P())).toBe(false);
      });
      it('tampered r', () => {
        expect(engine().verify(e, flip(rs(), 31), P())).toBe(false);
      });
      it('tampered s', () => {
        expect(engine().verify(e, flip(rs(), 63), P())).toBe(false);
      });
      it('wrong public key', () => {
        expect(engine().verify(e, rs(), engine().publicKeyFromPrivate(testKey('neg', 1)))).toBe(false);
      });
      it('t = (r + s) mod n = 0, i.e. s = n − r (B4)', () => {
        const r = bytesToBigInt(rs().subarray(0, 32));
        expect(engine().verify(e, withScalars(r, N - r), P())).toBe(false);
      });
      it('r or s outside [1, n-1] (B1, B2)', () => {
        const sig = rs();
        const r = bytesToBigInt(sig.subarray(0, 32));
        const s = bytesToBigInt(sig.subarray(32));
        expect(engine().verify(e, withScalars(0n, s), P())).toBe(false);
        expect(engine().verify(e, withScalars(r, 0n), P())).toBe(false);
        expect(engine().verify(e, withScalars(N, s), P())).toBe(false);
        expect(engine().verify(e, withScalars(r, N), P())).toBe(false);
        expect(engine().verify(e, withScalars((1n << 256n) - 1n, s), P())).toBe(false);
        expect(engine().verify(e, withScalars(r, (1n << 256n) - 1n), P())).toBe(false);
      });
      it('a public key that is not an uncompressed curve point: false, not an exception', () => {
        const bad = flip(P(), 64); // y changed: off the curve
        expect(engine().verify(e, rs(), bad)).toBe(false);
        const hybrid = P().slice();
        hybrid[0] = 0x06 | (hybrid[64]! & 1); // hybrid encoding of the same point
        expect(engine().verify(e, rs(), hybrid)).toBe(false);
        expect(engine().publicKeyCacheStats().size).toBeGreaterThan(0);
      });
    });

    describe('argument errors', () => {
      const d = testKey('args', 0);
      const e = sm3(utf8('args'));
      const P = (): Uint8Array => engine().publicKeyFromPrivate(d);
      const rs = (): Uint8Array => engine().sign(e, d);
      const n = b32(N);

      it('wrong lengths → GM_INVALID_ARGUMENT', () => {
        const eng = engine();
        expectGmError(() => eng.publicKeyFromPrivate(new Uint8Array(31)), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.publicKeyFromPrivate(new Uint8Array(33)), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.sign(e.subarray(1), d), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.sign(e, d.subarray(1)), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.sign(e, d, new Uint8Array(33)), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.verify(concat(e, new Uint8Array(1)), rs(), P()), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.verify(e, rs().subarray(1), P()), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.verify(e, concat(rs(), new Uint8Array(1)), P()), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.verify(e, rs(), P().subarray(0, 33)), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.multiply(P().subarray(1), d), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.multiply(P(), new Uint8Array(0)), 'GM_INVALID_ARGUMENT');
      });

      it('non-byte arguments → GM_INVALID_ARGUMENT, not a TypeError', () => {
        const eng = engine();
        const asBytes = (v: unknown): Uint8Array => v as Uint8Array;
        expectGmError(() => eng.publicKeyFromPrivate(asBytes(toHex(d))), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.publicKeyFromPrivate(asBytes(new Uint16Array(16))), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.publicKeyFromPrivate(asBytes(Array.from(d))), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.sign(e, d, asBytes(null)), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.verify(e, asBytes(undefined), P()), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.multiply(asBytes(d.buffer), d), 'GM_INVALID_ARGUMENT');
      });

      it('accepts Buffers and offset views', () => {
        const eng = engine();
        const big = concat(new Uint8Array(7), d, new Uint8Array(3));
        const view = big.subarray(7, 39);
        expect(toHex(eng.publicKeyFromPrivate(view))).toBe(toHex(P()));
        expect(toHex(eng.publicKeyFromPrivate(Buffer.from(d)))).toBe(toHex(P()));
        const sig = eng.sign(Buffer.from(e), view);
        expect(eng.verify(Buffer.from(e), Buffer.from(sig), Buffer.from(P()))).toBe(true);
        expect(sig).toBeInstanceOf(Uint8Array);
        expect(sig.length).toBe(64);
      });

      it('private keys outside [1, n-2] → GM_INVALID_KEY, and never a signature', () => {
        const eng = engine();
        for (const v of [0n, N - 1n, N, (1n << 256n) - 1n]) {
          expectGmError(() => eng.publicKeyFromPrivate(b32(v)), 'GM_INVALID_KEY');
          expectGmError(() => eng.sign(e, b32(v)), 'GM_INVALID_KEY');
          expectGmError(() => eng.sign(e, b32(v), b32(12345n)), 'GM_INVALID_KEY');
        }
        expect(eng.verify(e, eng.sign(e, b32(N - 2n)), eng.publicKeyFromPrivate(b32(N - 2n)))).toBe(true);
        expect(eng.verify(e, eng.sign(e, b32(1n)), point(GX, GY))).toBe(true);
      });

      it('a given k outside [1, n-1] → GM_INVALID_ARGUMENT', () => {
        expectGmError(() => engine().sign(e, d, new Uint8Array(32)), 'GM_INVALID_ARGUMENT');
        expectGmError(() => engine().sign(e, d, n), 'GM_INVALID_ARGUMENT');
      });

      it('e ≥ n is reduced, not rejected', () => {
        const big = b32((1n << 256n) - 1n);
        expect(engine().verify(big, engine().sign(big, d), P())).toBe(true);
      });

      it('multiply: infinity → GM_INVALID_ARGUMENT; a point off the curve → GM_INVALID_KEY', () => {
        const eng = engine();
        expectGmError(() => eng.multiply(P(), new Uint8Array(32)), 'GM_INVALID_ARGUMENT');
        expectGmError(() => eng.multiply(P(), n), 'GM_INVALID_ARGUMENT');
        const off = P().slice();
        off[64]! ^= 1;
        expectGmError(() => eng.multiply(off, d), 'GM_INVALID_KEY');
        // (n + 1)·Q = Q: scalars ≥ n are reduced.
        expect(toHex(eng.multiply(P(), b32(N + 1n)))).toBe(toHex(P()));
      });
    });

    describe('public-key cache', () => {
      it('more keys than the cache holds still verify (eviction), and hits are counted', () => {
        const small = load({ publicKeyCacheSize: 4 });
        if (!small.engine) throw new Error(small.reason);
        const eng = small.engine;
        const keys = Array.from({ length: 20 }, (_, i) => testKey('cache', i));
        const pubs = keys.map((k) => eng.publicKeyFromPrivate(k));
        const es = keys.map((_, i) => sm3(utf8(`cache message ${i}`)));
        const sigs = keys.map((k, i) => eng.sign(es[i]!, k));
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < keys.length; i++) {
            expect(eng.verify(es[i]!, sigs[i]!, pubs[i]!), `round ${round} key ${i}`).toBe(true);
            // the previous key's cached point must not answer for this one
            const j = (i + 1) % keys.length;
            expect(eng.verify(es[i]!, sigs[i]!, pubs[j]!)).toBe(false);
          }
        }
        const stats = eng.publicKeyCacheStats();
        expect(stats.capacity).toBe(4);
        expect(stats.size).toBe(4);
        expect(stats.misses).toBe(3 * 20 * 2 - stats.hits);
        // Key 0 was the last one looked up (as the wrong key for key 19): hits now; key 5 was evicted long ago.
        const before = eng.publicKeyCacheStats();
        expect(eng.verify(es[0]!, sigs[0]!, pubs[0]!)).toBe(true);
        expect(eng.verify(es[0]!, sigs[0]!, pubs[0]!)).toBe(true);
        expect(eng.verify(es[5]!, sigs[5]!, pubs[5]!)).toBe(true);
        const after = eng.publicKeyCacheStats();
        expect([after.hits - before.hits, after.misses - before.misses, after.size]).toEqual([2, 1, 4]);
      });

      it('size 0 disables the cache; a bad size makes the engine unavailable with a reason', () => {
        const off = load({ publicKeyCacheSize: 0 });
        if (!off.engine) throw new Error(off.reason);
        const d = testKey('nocache', 0);
        const e = sm3(utf8('x'));
        expect(off.engine.verify(e, off.engine.sign(e, d), off.engine.publicKeyFromPrivate(d))).toBe(true);
        expect(off.engine.publicKeyCacheStats()).toMatchObject({ size: 0, capacity: 0 });
        for (const bad of [-1, 1.5, Number.NaN, 2 ** 21]) {
          const r = load({ publicKeyCacheSize: bad });
          expect(r.engine).toBeUndefined();
          if (!r.engine) expect(r.reason).toMatch(/cache size/);
        }
      });
    });

    it('loads and works in a worker thread (per-environment instance data) and keeps working here after', async () => {
      const addonPath = fileURLToPath(new URL(`../../build/Release/${addon}`, import.meta.url));
      const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.addonPath);
      const cx = addon.createContext(2);
      const d = Buffer.from(workerData.d, 'hex');
      const e = Buffer.alloc(32, 7);
      const P = cx.publicKeyFromPrivate(d);
      parentPort.postMessage({ P: Buffer.from(P).toString('hex'), ok: cx.verify(e, cx.sign(e, d), P) });
    `;
      const d = testKey('worker', 0);
      const results = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<{ P: string; ok: boolean }>((resolve, reject) => {
              const w = new Worker(code, { eval: true, workerData: { addonPath, d: toHex(d) } });
              w.once('message', (m: { P: string; ok: boolean }) => {
                void w.terminate();
                resolve(m);
              });
              w.once('error', reject);
            }),
        ),
      );
      for (const r of results) {
        expect(r.ok).toBe(true);
        expect(r.P).toBe(toHex(engine().publicKeyFromPrivate(d)));
      }
      const e = sm3(utf8('after workers'));
      expect(engine().verify(e, engine().sign(e, d), engine().publicKeyFromPrivate(d))).toBe(true);
    });
  },
);

describe.skipIf(SKIP_NATIVE)("native sign: the context's prepared key of the last signer", () => {
  // RFC 6979 nonces make a signature a function of (d, e): a context that reused the wrong prepared key, or
  // a stale one, would give another signature than a fresh context does.
  const fresh = (): NonNullable<ReturnType<typeof loadNativeEngine>['engine']> => {
    const load = loadNativeEngine({ nonce: 'rfc6979' });
    if (!load.engine) throw new Error(load.reason);
    return load.engine;
  };
  const keyA = b32(0x1234567890abcdefn);
  const keyB = b32(N - 3n);
  const e = sm3(utf8('prepared signer'));

  it("signatures of alternating keys equal a fresh context's, and verify only under their own key", () => {
    const eng = fresh();
    const want = new Map([keyA, keyB].map((k) => [toHex(k), toHex(fresh().sign(e, k))]));
    for (const k of [keyA, keyB, keyA, keyA, keyB]) {
      const sig = eng.sign(e, k);
      expect(toHex(sig)).toBe(want.get(toHex(k)));
      const other = k === keyA ? keyB : keyA;
      expect(eng.verify(e, sig, eng.publicKeyFromPrivate(k))).toBe(true);
      expect(eng.verify(e, sig, eng.publicKeyFromPrivate(other))).toBe(false);
    }
  });

  it('a key rewritten in place (same array, other bytes) is prepared again', () => {
    const eng = fresh();
    const d = Uint8Array.from(keyA);
    expect(toHex(eng.sign(e, d))).toBe(toHex(fresh().sign(e, keyA)));
    d[31] = d[31]! ^ 0x01;
    const changed = Uint8Array.from(d);
    expect(toHex(eng.sign(e, d))).toBe(toHex(fresh().sign(e, changed)));
    expect(eng.verify(e, eng.sign(e, d), eng.publicKeyFromPrivate(changed))).toBe(true);
  });

  it('a key out of range between good ones → GM_INVALID_KEY, and the good key signs as before after it', () => {
    const eng = fresh();
    const before = toHex(eng.sign(e, keyA));
    expectGmError(() => eng.sign(e, b32(0n)), 'GM_INVALID_KEY');
    expectGmError(() => eng.sign(e, b32(N - 1n)), 'GM_INVALID_KEY');
    expect(toHex(eng.sign(e, keyA))).toBe(before);
    expectGmError(() => eng.sign(e, b32(N)), 'GM_INVALID_KEY');
    expect(toHex(eng.sign(e, keyB))).toBe(toHex(fresh().sign(e, keyB)));
  });

  it('a given k (published vectors) does not use or disturb the prepared key', () => {
    const eng = fresh();
    const before = toHex(eng.sign(e, keyA));
    const withK = eng.sign(e, keyB, b32(0x5eedn));
    expect(toHex(withK)).toBe(toHex(fresh().sign(e, keyB, b32(0x5eedn))));
    expect(toHex(eng.sign(e, keyA))).toBe(before);
  });
});

describe.skipIf(SKIP_NATIVE)('native signBatchAsync (signing on the libuv thread pool)', () => {
  const load = (nonce: 'random' | 'rfc6979'): NonNullable<ReturnType<typeof loadNativeEngine>['engine']> => {
    const r = loadNativeEngine({ nonce });
    if (!r.engine) throw new Error(r.reason);
    return r.engine;
  };
  const d = b32(0xfeedfacecafebeefn);
  const es = (n: number): Uint8Array => {
    const out = new Uint8Array(n * 32);
    for (let i = 0; i < n; i++) out.set(sm3(utf8(`digest ${i}`)), i * 32);
    return out;
  };

  it('with RFC 6979 nonces: exactly the signatures of sign, in order (0, 1 and 700 digests)', async () => {
    const eng = load('rfc6979');
    for (const n of [0, 1, 700]) {
      const e = es(n);
      const rs = await eng.signBatchAsync(e, d);
      expect(rs.length).toBe(n * 64);
      for (let i = 0; i < n; i += 97)
        expect(toHex(rs.subarray(i * 64, i * 64 + 64))).toBe(
          toHex(eng.sign(e.subarray(i * 32, i * 32 + 32), d)),
        );
    }
  });

  it('with random nonces: every signature verifies under d·G and no two are equal', async () => {
    const eng = load('random');
    const e = es(64);
    const rs = await eng.signBatchAsync(e, d);
    const pub = eng.publicKeyFromPrivate(d);
    const seen = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const sig = rs.subarray(i * 64, i * 64 + 64);
      expect(eng.verify(e.subarray(i * 32, i * 32 + 32), sig, pub)).toBe(true);
      seen.add(toHex(sig));
    }
    expect(seen.size).toBe(64);
  });

  it('copies its inputs: d and e rewritten right after the call do not change the result', async () => {
    const eng = load('rfc6979');
    const e = es(3);
    const key = Uint8Array.from(d);
    const want = toHex(eng.sign(e.subarray(0, 32), d));
    const pending = eng.signBatchAsync(e, key);
    key.fill(0x77);
    e.fill(0);
    expect(toHex((await pending).subarray(0, 64))).toBe(want);
  });

  it('d outside [1, n-2] rejects GM_INVALID_KEY; malformed arguments reject GM_INVALID_ARGUMENT', async () => {
    const eng = load('random');
    for (const bad of [0n, N - 1n, N]) {
      await expect(eng.signBatchAsync(es(2), b32(bad))).rejects.toMatchObject({ code: 'GM_INVALID_KEY' });
    }
    await expect(eng.signBatchAsync(new Uint8Array(33), d)).rejects.toMatchObject({
      code: 'GM_INVALID_ARGUMENT',
    });
    await expect(eng.signBatchAsync(es(1), new Uint8Array(31))).rejects.toMatchObject({
      code: 'GM_INVALID_ARGUMENT',
    });
    // The engine keeps working after the rejections.
    const rs = await eng.signBatchAsync(es(1), d);
    expect(eng.verify(es(1), rs, eng.publicKeyFromPrivate(d))).toBe(true);
  });
});

describe.skipIf(SKIP_NATIVE)('native computeZ (Z_A of GB/T 32918.2 clause 5.5 in C)', () => {
  const load = loadNativeEngine();
  const eng = (): NonNullable<typeof load.engine> => {
    if (!load.engine) throw new Error(load.reason);
    return load.engine;
  };

  it('the GB/T 32918.5 example Z', () => {
    const P = fromHex(
      '04' +
        '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020' +
        'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13',
    );
    expect(toHex(eng().computeZ(P, utf8('1234567812345678')))).toBe(
      'b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3',
    );
  });

  it('equals the hash of the encoded fields for random keys and IDs of 0, 1, 16, 63, 200 and 8191 bytes', () => {
    for (const [i, len] of [0, 1, 16, 63, 200, 8191].entries()) {
      const P = eng().publicKeyFromPrivate(testKey('z', i));
      const id = new Uint8Array(len).map((_, j) => (j * 31 + i) & 0xff);
      expect(toHex(eng().computeZ(P, id))).toBe(toHex(computeZ(P, id)));
    }
  });

  it('an ID over 8191 bytes or a point of the wrong length → GM_INVALID_ARGUMENT', () => {
    const P = eng().publicKeyFromPrivate(testKey('z', 9));
    expectGmError(() => eng().computeZ(P, new Uint8Array(8192)), 'GM_INVALID_ARGUMENT');
    expectGmError(() => eng().computeZ(P.subarray(1), utf8('id')), 'GM_INVALID_ARGUMENT');
    expectGmError(
      () => (eng().computeZ as (p: unknown, id: unknown) => Uint8Array)(P, 'id'),
      'GM_INVALID_ARGUMENT',
    );
  });
});
