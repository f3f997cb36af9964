/**
 * Gcm keeps its GHASH state and J0 / tag / counter blocks between calls, and the opener keeps one Gcm per key.
 * Differential checks on seeded random inputs: one long-lived instance against a fresh instance per message
 * (the construction before the state was reused), against OpenSSL's aes-128-gcm, and against a digest of the
 * outputs recorded with the previous implementation (one Gcm per call, new blocks on every call).
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import { Gcm } from './gcm.js';
import * as node from './node/sm4.js';
import { sm3 } from './sm3-js.js';
import * as pure from './sm4.js';
import { Sm4 } from './sm4-js.js';
import { expectCode } from './testing/expect-code.js';
import { seeded } from './testing/seeded.js';

const layers = [
  { name: 'pure', ...pure },
  { name: 'node', ...node },
] as const;

interface Case {
  iv: Uint8Array;
  pt: Uint8Array;
  aad: Uint8Array;
  tagLength: number;
}

/** IVs of 1 … 40 bytes (12 half the time), plaintexts 0 … 99 bytes, AAD 0 … 69 bytes, tags 12 … 16 bytes. */
function cases(seed: number, n: number): Case[] {
  const r = seeded(seed);
  return Array.from({ length: n }, () => ({
    iv: r.bytes(r.int(2) === 0 ? 12 : 1 + r.int(40)),
    pt: r.bytes(r.int(100)),
    aad: r.bytes(r.int(70)),
    tagLength: 12 + r.int(5),
  }));
}

describe('Gcm with state reused across calls', () => {
  it('matches a fresh instance per message, and decrypts after failed decryptions (SM4)', () => {
    const key = seeded(7).bytes(16);
    const shared = new Gcm(new Sm4(key));
    for (const c of cases(11, 400)) {
      const got = shared.encrypt(c.iv, c.pt, c.aad, c.tagLength);
      const want = new Gcm(new Sm4(key)).encrypt(c.iv, c.pt, c.aad, c.tagLength);
      expect(toHex(got.ciphertext)).toBe(toHex(want.ciphertext));
      expect(toHex(got.tag)).toBe(toHex(want.tag));
      const bad = got.tag.slice();
      bad[bad.length - 1]! ^= 0x80;
      expectCode(() => shared.decrypt(c.iv, got.ciphertext, bad, c.aad), 'GM_DECRYPT_FAILED');
      expect(toHex(shared.decrypt(c.iv, got.ciphertext, got.tag, c.aad))).toBe(toHex(c.pt));
    }
  });

  it('returns fresh arrays: later calls do not change earlier results', () => {
    const gcm = new Gcm(new Sm4(seeded(3).bytes(16)));
    const [a, b] = cases(5, 2) as [Case, Case];
    const first = gcm.encrypt(a.iv, a.pt, a.aad);
    const snapshot = toHex(first.ciphertext) + toHex(first.tag);
    gcm.encrypt(b.iv, b.pt, b.aad);
    gcm.decrypt(a.iv, first.ciphertext, first.tag, a.aad);
    expect(toHex(first.ciphertext) + toHex(first.tag)).toBe(snapshot);
  });

  it('matches OpenSSL aes-128-gcm with one long-lived instance', () => {
    const key = seeded(13).bytes(16);
    const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    const gcm = new Gcm({
      encryptBlock: (src, so, dst, d) => dst.set(ecb.update(src.subarray(so, so + 16)), d),
    });
    for (const c of cases(17, 300)) {
      const o = createCipheriv('aes-128-gcm', key, c.iv, { authTagLength: c.tagLength });
      o.setAAD(c.aad);
      const ct = Buffer.concat([o.update(c.pt), o.final()]);
      const got = gcm.encrypt(c.iv, c.pt, c.aad, c.tagLength);
      expect(toHex(got.ciphertext)).toBe(toHex(ct));
      expect(toHex(got.tag)).toBe(toHex(o.getAuthTag()));
    }
  });

  it('gives the outputs of the previous implementation (SM3 over 500 seeded messages)', () => {
    const gcm = new Gcm(new Sm4(seeded(19).bytes(16)));
    const parts: Uint8Array[] = [];
    for (const c of cases(23, 500)) {
      const { ciphertext, tag } = gcm.encrypt(c.iv, c.pt, c.aad, c.tagLength);
      parts.push(ciphertext, tag);
    }
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    expect(toHex(sm3(all))).toBe(PREVIOUS_DIGEST);
  });
});

/** Recorded by running this test against gcm.ts as of aa22bb9 (a new Ghash, J0, tag and counter block on every call). */
const PREVIOUS_DIGEST = 'a6df6042106f2e6ebbe6045412f6bbec5593ec404307483c188488bd844f9745';

describe.each(layers)('createSm4Opener ($name)', (l) => {
  const key = seeded(29).bytes(16);
  const opener = l.createSm4Opener(key);

  it('opens what sm4Seal and the sealer seal, as sm4Open does, across both layers', () => {
    const other = l.name === 'pure' ? node : pure;
    const sealer = other.createSm4Sealer(key);
    for (const c of cases(31, 200)) {
      for (const sealed of [l.sm4Seal(key, c.pt, c.aad), sealer.seal(c.pt, c.aad)]) {
        expect(toHex(opener.open(sealed, c.aad))).toBe(toHex(l.sm4Open(key, sealed, c.aad)));
        expect(toHex(opener.open(sealed, c.aad))).toBe(toHex(c.pt));
      }
    }
  });

  it('fails as sm4Open fails: wrong aad, tampering, truncation, version, other key', () => {
    const pt = seeded(37).bytes(33);
    const aad = Uint8Array.of(1, 2, 3);
    const sealed = l.sm4Seal(key, pt, aad);
    expectCode(() => opener.open(sealed, Uint8Array.of(1, 2)), 'GM_DECRYPT_FAILED');
    expectCode(() => opener.open(sealed), 'GM_DECRYPT_FAILED');
    for (const at of [1, 13, sealed.length - 1]) {
      const t = sealed.slice();
      t[at]! ^= 1;
      expectCode(() => opener.open(t, aad), 'GM_DECRYPT_FAILED');
    }
    expectCode(() => opener.open(sealed.subarray(0, 28), aad), 'GM_INVALID_CIPHERTEXT');
    const v2 = sealed.slice();
    v2[0] = 2;
    expectCode(() => opener.open(v2, aad), 'GM_INVALID_CIPHERTEXT');
    expectCode(() => opener.open(l.sm4Seal(seeded(41).bytes(16), pt, aad), aad), 'GM_DECRYPT_FAILED');
    expect(toHex(opener.open(sealed, aad))).toBe(toHex(pt));
  });

  it('copies the key and checks its length', () => {
    const k = key.slice();
    const o = l.createSm4Opener(k);
    const sealed = l.sm4Seal(key, Uint8Array.of(9), undefined);
    k.fill(0);
    expect(toHex(o.open(sealed))).toBe('09');
    expectCode(() => l.createSm4Opener(new Uint8Array(15)), 'GM_INVALID_ARGUMENT');
  });
});
