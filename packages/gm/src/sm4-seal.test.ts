/** Sealed envelopes (version ‖ nonce ‖ ciphertext ‖ tag) and the deterministic-nonce sealer, both layers. */
import { describe, expect, it } from 'vitest';
import { concat, toHex, utf8 } from './bytes.js';
import * as node from './node/sm4.js';
import * as pure from './sm4.js';
import { NonceSequence, SEAL_OVERHEAD, sealerFrom } from './sm4-seal.js';
import { expectCode } from './testing/expect-code.js';
import { seeded } from './testing/seeded.js';

const layers = [
  { name: 'pure', ...pure },
  { name: 'node', ...node },
] as const;

describe.each(layers)('sm4Seal / sm4Open ($name)', (l) => {
  const rnd = seeded(0x5ea1);
  const key = rnd.bytes(16);

  it('opens what it sealed, with and without AAD, for empty and long plaintexts', () => {
    for (const n of [0, 1, 16, 1000, 5000]) {
      const pt = rnd.bytes(n);
      const aad = utf8('platform-key');
      const sealed = l.sm4Seal(key, pt, aad);
      expect(sealed.length).toBe(n + SEAL_OVERHEAD);
      expect(sealed[0]).toBe(1);
      expect(toHex(l.sm4Open(key, sealed, aad))).toBe(toHex(pt));
      expect(toHex(l.sm4Open(key, l.sm4Seal(key, pt)))).toBe(toHex(pt));
    }
  });

  it('is SM4-GCM with the version byte prepended to the AAD', () => {
    const pt = rnd.bytes(40);
    const aad = rnd.bytes(7);
    const sealed = l.sm4Seal(key, pt, aad);
    const nonce = sealed.subarray(1, 13);
    const { ciphertext, tag } = pure.sm4GcmEncrypt(key, nonce, pt, concat(Uint8Array.of(1), aad));
    expect(toHex(sealed)).toBe(toHex(concat(Uint8Array.of(1), nonce, ciphertext, tag)));
  });

  it('uses a fresh random nonce each time', () => {
    const pt = utf8('same');
    expect(toHex(l.sm4Seal(key, pt))).not.toBe(toHex(l.sm4Seal(key, pt)));
  });

  it('wrong key, wrong AAD, tampering → GM_DECRYPT_FAILED', () => {
    const sealed = l.sm4Seal(key, rnd.bytes(30), utf8('a'));
    expectCode(() => l.sm4Open(rnd.bytes(16), sealed, utf8('a')), 'GM_DECRYPT_FAILED');
    expectCode(() => l.sm4Open(key, sealed, utf8('b')), 'GM_DECRYPT_FAILED');
    expectCode(() => l.sm4Open(key, sealed), 'GM_DECRYPT_FAILED');
    for (let i = 1; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i]! ^= 0x04;
      expectCode(() => l.sm4Open(key, bad, utf8('a')), 'GM_DECRYPT_FAILED');
    }
  });

  it('truncated, unknown-version or garbage input → typed errors, never a RangeError', () => {
    const sealed = l.sm4Seal(key, rnd.bytes(20));
    for (let n = 0; n < SEAL_OVERHEAD; n++) {
      expectCode(() => l.sm4Open(key, sealed.subarray(0, n)), 'GM_INVALID_CIPHERTEXT');
    }
    // Cut anywhere past the header: still a well-formed envelope, so it is the tag that fails.
    for (let n = SEAL_OVERHEAD; n < sealed.length; n++) {
      expectCode(() => l.sm4Open(key, sealed.subarray(0, n)), 'GM_DECRYPT_FAILED');
    }
    for (const v of [0, 2, 0xff]) {
      const other = sealed.slice();
      other[0] = v;
      expectCode(() => l.sm4Open(key, other), 'GM_INVALID_CIPHERTEXT');
    }
    const g = seeded(404);
    for (let i = 0; i < 200; i++) {
      const junk = g.bytes(g.int(120));
      if (junk.length > 0 && g.int(2) === 0) junk[0] = 1;
      const code =
        junk.length < SEAL_OVERHEAD || junk[0] !== 1 ? 'GM_INVALID_CIPHERTEXT' : 'GM_DECRYPT_FAILED';
      expectCode(() => l.sm4Open(key, junk), code);
    }
    for (const v of [undefined, null, 'sealed', 42, [1, 2, 3], new ArrayBuffer(40)]) {
      expectCode(() => l.sm4Open(key, v as unknown as Uint8Array), 'GM_INVALID_ARGUMENT');
    }
    expectCode(() => l.sm4Open(key, sealed, 'aad' as unknown as Uint8Array), 'GM_INVALID_ARGUMENT');
  });

  it('refuses keys that are not 16 bytes (GM_INVALID_ARGUMENT)', () => {
    for (const k of [new Uint8Array(0), new Uint8Array(15), new Uint8Array(32)]) {
      expectCode(() => l.sm4Seal(k, new Uint8Array(1)), 'GM_INVALID_ARGUMENT');
      expectCode(() => l.sm4Open(k, new Uint8Array(40)), 'GM_INVALID_ARGUMENT');
      expectCode(() => l.createSm4Sealer(k), 'GM_INVALID_ARGUMENT');
    }
  });
});

describe('sealed envelopes cross the layers', () => {
  it('node seals, pure opens, and the reverse', () => {
    const rnd = seeded(2);
    const key = rnd.bytes(16);
    for (const n of [0, 100, 3000]) {
      const pt = rnd.bytes(n);
      expect(toHex(pure.sm4Open(key, node.sm4Seal(key, pt, utf8('x')), utf8('x')))).toBe(toHex(pt));
      expect(toHex(node.sm4Open(key, pure.sm4Seal(key, pt, utf8('x')), utf8('x')))).toBe(toHex(pt));
      expect(toHex(pure.sm4Open(key, node.createSm4Sealer(key).seal(pt)))).toBe(toHex(pt));
      expect(toHex(node.sm4Open(key, pure.createSm4Sealer(key).seal(pt)))).toBe(toHex(pt));
    }
  });
});

describe.each(layers)('createSm4Sealer ($name)', (l) => {
  it('never repeats a nonce across 10,000 seals: one fixed field, consecutive counters, all open', () => {
    const key = seeded(10).bytes(16);
    const sealer = l.createSm4Sealer(key);
    const nonces = new Set<string>();
    let fixed: string | undefined;
    let prev: bigint | undefined;
    for (let i = 0; i < 10_000; i++) {
      const pt = utf8(`record ${i}`);
      const sealed = sealer.seal(pt, utf8('t'));
      const nonce = toHex(sealed.subarray(1, 13));
      nonces.add(nonce);
      fixed ??= nonce.slice(0, 8);
      expect(nonce.slice(0, 8)).toBe(fixed);
      const counter = BigInt('0x' + nonce.slice(8));
      if (prev !== undefined) expect(counter).toBe((prev + 1n) % 2n ** 64n);
      prev = counter;
      if (i % 97 === 0) expect(toHex(l.sm4Open(key, sealed, utf8('t')))).toBe(toHex(pt));
    }
    expect(nonces.size).toBe(10_000);
  });

  it('is not affected by later changes to the caller’s key buffer', () => {
    const key = seeded(11).bytes(16);
    const sealer = l.createSm4Sealer(key);
    const original = key.slice();
    key.fill(0);
    expect(toHex(l.sm4Open(original, sealer.seal(utf8('x'))))).toBe(toHex(utf8('x')));
  });
});

describe('nonce sequence (SP 800-38D §8.2.1)', () => {
  it('wraps the 64-bit counter and refuses after its last nonce (GM_NONCE_REUSE)', () => {
    const key = seeded(12).bytes(16);
    const fixed = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
    const sealer = sealerFrom(pure.jsSm4Backend.gcm(key), new NonceSequence(fixed, 2n ** 64n - 2n, 3n));
    const nonces = [0, 1, 2].map(() => toHex(sealer.seal(utf8('x')).subarray(1, 13)));
    expect(nonces).toEqual([
      'deadbeeffffffffffffffffe',
      'deadbeefffffffffffffffff',
      'deadbeef0000000000000000',
    ]);
    expectCode(() => sealer.seal(utf8('x')), 'GM_NONCE_REUSE');
    expectCode(() => sealer.seal(utf8('x')), 'GM_NONCE_REUSE');
  });

  it('a random sequence offers all 2^64 counter values', () => {
    const s = NonceSequence.random();
    const a = toHex(s.next());
    const b = toHex(s.next());
    expect(a.slice(0, 8)).toBe(b.slice(0, 8));
    expect((BigInt('0x' + b.slice(8)) - BigInt('0x' + a.slice(8)) + 2n ** 64n) % 2n ** 64n).toBe(1n);
    expect((s as unknown as { left: bigint }).left).toBe(2n ** 64n - 2n);
  });

  it('rejects malformed parameters', () => {
    expectCode(() => new NonceSequence(new Uint8Array(3), 0n), 'GM_INVALID_ARGUMENT');
    expectCode(() => new NonceSequence(new Uint8Array(4), 2n ** 64n), 'GM_INVALID_ARGUMENT');
    expectCode(() => new NonceSequence(new Uint8Array(4), -1n), 'GM_INVALID_ARGUMENT');
  });
});
