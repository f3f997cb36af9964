/**
 * GCM: the construction proven independently by instantiating gcm.ts with AES-128 and comparing with OpenSSL's
 * aes-128-gcm; then SM4-GCM against RFC 8998 Appendix A.1, across both layers, and under tampering.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from './bytes.js';
import { Gcm, type GcmBlockCipher } from './gcm.js';
import * as node from './node/sm4.js';
import * as pure from './sm4.js';
import { expectCode } from './testing/expect-code.js';
import { seeded } from './testing/seeded.js';

const layers = [
  { name: 'pure', ...pure },
  { name: 'node', ...node },
] as const;

/** AES-128 as a GCM block cipher: OpenSSL's aes-128-ecb, one block at a time (and aes-128-ctr in bulk if asked). */
function aes(key: Uint8Array, bulkCtr = false): GcmBlockCipher & { blocks: number } {
  const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const c: GcmBlockCipher & { blocks: number } = {
    blocks: 0,
    encryptBlock(src, srcOff, dst, dstOff) {
      c.blocks++;
      dst.set(ecb.update(src.subarray(srcOff, srcOff + 16)), dstOff);
    },
  };
  if (bulkCtr) c.ctr = (cb, data) => new Uint8Array(createCipheriv('aes-128-ctr', key, cb).update(data));
  return c;
}

function opensslAesGcm(key: Uint8Array, iv: Uint8Array, pt: Uint8Array, aad: Uint8Array, tagLength: number) {
  const c = createCipheriv('aes-128-gcm', key, iv, { authTagLength: tagLength });
  c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(pt), c.final()]);
  return { ciphertext: toHex(ciphertext), tag: toHex(c.getAuthTag()) };
}

describe('GCM construction with AES-128 against OpenSSL aes-128-gcm', () => {
  const rnd = seeded(38);
  const cases: { n: number; a: number; ivLen: number; tagLength: number }[] = [];
  for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 64, 100, 255, 256, 1000, 4103]) {
    for (const a of [0, 1, 16, 20, 33]) {
      for (const ivLen of [12, 16, 1, 8, 60]) {
        cases.push({ n, a, ivLen, tagLength: [16, 12, 13, 14, 15][rnd.int(5)]! });
      }
    }
  }

  it('encrypts like OpenSSL and decrypts what OpenSSL encrypted, for every length, AAD and IV length', () => {
    for (const { n, a, ivLen, tagLength } of cases) {
      const key = rnd.bytes(16);
      const iv = rnd.bytes(ivLen);
      const pt = rnd.bytes(n);
      const aad = rnd.bytes(a);
      const want = opensslAesGcm(key, iv, pt, aad, tagLength);
      const what = `n=${n} aad=${a} iv=${ivLen} tag=${tagLength}`;
      for (const bulk of [false, true]) {
        const gcm = new Gcm(aes(key, bulk));
        const got = gcm.encrypt(iv, pt, aad, tagLength);
        expect({ ciphertext: toHex(got.ciphertext), tag: toHex(got.tag) }, what).toEqual(want);
        expect(toHex(gcm.decrypt(iv, fromHex(want.ciphertext), fromHex(want.tag), aad)), what).toBe(
          toHex(pt),
        );
      }
    }
  });

  it('OpenSSL accepts what we encrypt', () => {
    const key = rnd.bytes(16);
    const iv = rnd.bytes(16);
    const pt = rnd.bytes(77);
    const aad = rnd.bytes(9);
    const { ciphertext, tag } = new Gcm(aes(key)).encrypt(iv, pt, aad);
    const d = createDecipheriv('aes-128-gcm', key, iv);
    d.setAAD(aad);
    d.setAuthTag(tag);
    expect(toHex(Buffer.concat([d.update(ciphertext), d.final()]))).toBe(toHex(pt));
  });

  it('keeps inc32 semantics when a full-width CTR backend is used across the 32-bit wrap', () => {
    const key = rnd.bytes(16);
    const icb = fromHex('00112233445566778899aabbfffffffe');
    // Expected: counter blocks …fffffffe, …ffffffff, …00000000, …00000001, … with the first 96 bits unchanged.
    const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    const ks = new Uint8Array(112);
    for (let i = 0; i < 7; i++) {
      const cb = icb.slice();
      new DataView(cb.buffer).setUint32(12, (0xfffffffe + i) % 2 ** 32);
      ks.set(ecb.update(cb), 16 * i);
    }
    type WithGctr = { gctr(icb: Uint8Array, data: Uint8Array): Uint8Array };
    const viaCtr = new Gcm(aes(key, true)) as unknown as WithGctr;
    const viaBlocks = new Gcm(aes(key)) as unknown as WithGctr;
    for (const n of [1, 16, 31, 32, 33, 48, 64, 65, 100]) {
      const data = rnd.bytes(n);
      const want = toHex(data.map((b, i) => b ^ ks[i]!));
      expect(toHex(viaCtr.gctr(icb, data)), `n=${n}`).toBe(want);
      expect(toHex(viaBlocks.gctr(icb, data)), `n=${n}`).toBe(want);
    }
  });

  it('computes no keystream when the tag does not match (no plaintext released)', () => {
    const key = rnd.bytes(16);
    const iv = rnd.bytes(12);
    const cipher = aes(key);
    const gcm = new Gcm(cipher);
    const { ciphertext, tag } = gcm.encrypt(iv, rnd.bytes(64));
    tag[0]! ^= 1;
    const before = cipher.blocks;
    expectCode(() => gcm.decrypt(iv, ciphertext, tag), 'GM_DECRYPT_FAILED');
    expect(cipher.blocks - before).toBe(1); // E(K, J0) for the tag, nothing more
  });

  it('checks IV and tag lengths (GM_INVALID_ARGUMENT)', () => {
    const gcm = new Gcm(aes(rnd.bytes(16)));
    expectCode(() => gcm.encrypt(new Uint8Array(0), new Uint8Array(1)), 'GM_INVALID_ARGUMENT');
    expectCode(
      () => gcm.encrypt(new Uint8Array(12), new Uint8Array(1), undefined, 11),
      'GM_INVALID_ARGUMENT',
    );
    expectCode(
      () => gcm.encrypt(new Uint8Array(12), new Uint8Array(1), undefined, 17),
      'GM_INVALID_ARGUMENT',
    );
    expectCode(
      () => gcm.decrypt(new Uint8Array(12), new Uint8Array(1), new Uint8Array(8)),
      'GM_INVALID_ARGUMENT',
    );
  });
});

/** RFC 8998 Appendix A.1 (the same digits are in nettle, Bouncy Castle, GmSSL and pyca/cryptography tests). */
const RFC8998 = {
  key: fromHex('0123456789ABCDEFFEDCBA9876543210'),
  iv: fromHex('00001234567800000000ABCD'),
  aad: fromHex('FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2'),
  pt: fromHex(
    'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA',
  ),
  ct: fromHex(
    '17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D',
  ),
  tag: fromHex('83DE3541E4C2B58177E065A9BF7B62EC'),
};

describe.each(layers)('SM4-GCM ($name)', (l) => {
  const { key, iv, aad, pt, ct, tag } = RFC8998;

  it('RFC 8998 Appendix A.1', () => {
    const got = l.sm4GcmEncrypt(key, iv, pt, aad);
    expect(toHex(got.ciphertext)).toBe(toHex(ct));
    expect(toHex(got.tag)).toBe(toHex(tag));
    expect(toHex(l.sm4GcmDecrypt(key, iv, ct, tag, aad))).toBe(toHex(pt));
    // A tag truncated to 12 … 16 bytes still verifies.
    expect(toHex(l.sm4GcmDecrypt(key, iv, ct, tag.subarray(0, 12), aad))).toBe(toHex(pt));
  });

  it('tampered ciphertext, tag, AAD or IV → GM_DECRYPT_FAILED', () => {
    for (let i = 0; i < ct.length; i++) {
      const bad = ct.slice();
      bad[i]! ^= 0x80;
      expectCode(() => l.sm4GcmDecrypt(key, iv, bad, tag, aad), 'GM_DECRYPT_FAILED');
    }
    for (let i = 0; i < tag.length; i++) {
      const bad = tag.slice();
      bad[i]! ^= 0x01;
      expectCode(() => l.sm4GcmDecrypt(key, iv, ct, bad, aad), 'GM_DECRYPT_FAILED');
    }
    for (let i = 0; i < aad.length; i++) {
      const bad = aad.slice();
      bad[i]! ^= 0x01;
      expectCode(() => l.sm4GcmDecrypt(key, iv, ct, tag, bad), 'GM_DECRYPT_FAILED');
    }
    expectCode(() => l.sm4GcmDecrypt(key, iv, ct, tag), 'GM_DECRYPT_FAILED');
    expectCode(() => l.sm4GcmDecrypt(key, iv, ct.subarray(0, 63), tag, aad), 'GM_DECRYPT_FAILED');
    expectCode(() => l.sm4GcmDecrypt(key, concat(iv, new Uint8Array(1)), ct, tag, aad), 'GM_DECRYPT_FAILED');
    expectCode(() => l.sm4GcmDecrypt(new Uint8Array(16), iv, ct, tag, aad), 'GM_DECRYPT_FAILED');
  });

  it('wrong key, IV or tag sizes → GM_INVALID_ARGUMENT', () => {
    expectCode(() => l.sm4GcmEncrypt(new Uint8Array(15), iv, pt), 'GM_INVALID_ARGUMENT');
    expectCode(() => l.sm4GcmEncrypt(key, new Uint8Array(0), pt), 'GM_INVALID_ARGUMENT');
    expectCode(() => l.sm4GcmDecrypt(key, iv, ct, tag.subarray(0, 11), aad), 'GM_INVALID_ARGUMENT');
    expectCode(
      () => l.sm4GcmDecrypt(key, iv, ct, concat(tag, new Uint8Array(1)), aad),
      'GM_INVALID_ARGUMENT',
    );
    expectCode(() => l.sm4GcmDecrypt(key, iv, 'x' as unknown as Uint8Array, tag), 'GM_INVALID_ARGUMENT');
  });
});

describe('SM4-GCM: pure and node layers agree', () => {
  it('on random messages around the OpenSSL-CTR threshold, with 12- and 16-byte IVs', () => {
    const rnd = seeded(8998);
    for (const n of [0, 1, 16, 100, 1023, 1024, 1025, 5000, 70000]) {
      for (const ivLen of [12, 16]) {
        const key = rnd.bytes(16);
        const iv = rnd.bytes(ivLen);
        const pt = rnd.bytes(n);
        const aad = rnd.bytes(rnd.int(40));
        const a = pure.sm4GcmEncrypt(key, iv, pt, aad);
        const b = node.sm4GcmEncrypt(key, iv, pt, aad);
        expect(toHex(b.ciphertext), `n=${n}`).toBe(toHex(a.ciphertext));
        expect(toHex(b.tag), `n=${n}`).toBe(toHex(a.tag));
        expect(toHex(node.sm4GcmDecrypt(key, iv, a.ciphertext, a.tag, aad))).toBe(toHex(pt));
        expect(toHex(pure.sm4GcmDecrypt(key, iv, b.ciphertext, b.tag, aad))).toBe(toHex(pt));
      }
    }
  });
});
