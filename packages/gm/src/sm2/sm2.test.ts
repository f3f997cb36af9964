import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { sm2Instances } from '../testing/engines.js';
import { expectCode } from '../testing/expect-code.js';

// GB/T 32918.5-2017 Annex A (= GM/T 0003.5-2012), examples on the recommended curve.
const D = '3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8';
const PX = '09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020';
const PY = 'ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13';
const K = '59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21';
const SIG_R = 'f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3';
const SIG_S = 'b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa';
const ENC_C1 =
  '0404ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0';
const ENC_C3 = '59983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766';
const ENC_C2 = '21886ca989ca9c7d58087307ca93092d651efa';

describe.each(sm2Instances())('SM2 (%s)', (_label, sm2) => {
  const key = sm2.importPrivateKey(D);

  it('derives the Annex A public key', () => {
    expect(toHex(key.publicKey.x)).toBe(PX);
    expect(toHex(key.publicKey.y)).toBe(PY);
  });

  it('reproduces the Annex A signature with its fixed k', () => {
    const e = sm2.computeDigest(key.publicKey, 'message digest');
    const rs = sm2.testing.signDigestWithK(key, e, fromHex(K));
    expect(toHex(rs)).toBe(SIG_R + SIG_S);
    expect(sm2.verify(key.publicKey, 'message digest', rs, { format: 'raw' })).toBe(true);
    expect(sm2.verify(key.publicKey, 'message digesT', rs, { format: 'raw' })).toBe(false);
  });

  it('signMany: each signature verifies for its own message only, in order, across chunks, DER or raw', async () => {
    const messages = Array.from({ length: 300 }, (_, i) =>
      i % 2 === 0 ? `message ${i}` : Uint8Array.of(i, 1, 2),
    );
    const sigs = await sm2.signMany(key, messages);
    expect(sigs).toHaveLength(300);
    sigs.forEach((sig, i) => {
      expect(sig[0]).toBe(0x30);
      expect(sm2.verify(key.publicKey, messages[i]!, sig)).toBe(true);
      expect(sm2.verify(key.publicKey, messages[(i + 1) % 300]!, sig)).toBe(false);
    });
    const raw = await sm2.signMany(key, ['a', 'b'], { format: 'raw', id: 'another id' });
    expect(raw.map((r) => r.length)).toEqual([64, 64]);
    expect(raw[0]!.buffer).not.toBe(raw[1]!.buffer);
    expect(sm2.verify(key.publicKey, 'b', raw[1]!, { format: 'raw', id: 'another id' })).toBe(true);
    expect(sm2.verify(key.publicKey, 'b', raw[1]!, { format: 'raw' })).toBe(false);
    expect(await sm2.signMany(key, [])).toEqual([]);
  });

  it('e = SM3(Z ‖ M) and Z agree with the pure-TypeScript instance on both sides of the one-shot limit', () => {
    const reference = sm2Instances().find(([label]) => label === 'js+pure-sm3')![1];
    const refKey = reference.importPublicKey(key.publicKey.point);
    for (const len of [0, 1, 4095, 4096, 4097, 10_000]) {
      const m = new Uint8Array(len).map((_, i) => (i * 7 + len) & 0xff);
      expect(toHex(sm2.computeDigest(key.publicKey, m))).toBe(toHex(reference.computeDigest(refKey, m)));
      expect(toHex(sm2.computeDigest(key.publicKey, m, 'another id'))).toBe(
        toHex(reference.computeDigest(refKey, m, 'another id')),
      );
    }
    expect(toHex(sm2.computeZ(key.publicKey, new Uint8Array(8191)))).toBe(
      toHex(reference.computeZ(refKey, new Uint8Array(8191))),
    );
  });

  it('reproduces the Annex A encryption with its fixed k, in all three layouts', () => {
    const msg = new TextEncoder().encode('encryption standard');
    const c = sm2.testing.encryptWithK(key.publicKey, msg, fromHex(K), 'c1c3c2');
    expect(toHex(c)).toBe(ENC_C1 + ENC_C3 + ENC_C2);
    const legacy = sm2.testing.encryptWithK(key.publicKey, msg, fromHex(K), 'c1c2c3');
    expect(toHex(legacy)).toBe(ENC_C1 + ENC_C2 + ENC_C3);
    expect(new TextDecoder().decode(sm2.decrypt(key, c))).toBe('encryption standard');
    expect(new TextDecoder().decode(sm2.decrypt(key, legacy, { format: 'c1c2c3' }))).toBe(
      'encryption standard',
    );
    const asn1 = sm2.testing.encryptWithK(key.publicKey, msg, fromHex(K), 'asn1');
    expect(new TextDecoder().decode(sm2.decrypt(key, asn1, { format: 'asn1' }))).toBe('encryption standard');
  });

  it('signs and verifies in DER and raw, with default and custom IDs, on messages and digests', () => {
    const { privateKey, publicKey } = sm2.generateKeyPair();
    for (const format of ['der', 'raw'] as const) {
      for (const id of [undefined, 'ALICE123@YAHOO.COM', new Uint8Array(0), '医证']) {
        const sig = sm2.sign(privateKey, '病历文书', { format, id });
        expect(sm2.verify(publicKey, '病历文书', sig, { format, id })).toBe(true);
        expect(sm2.verify(publicKey, '病历文书', sig, { format, id: 'other-id' })).toBe(false);
      }
      const e = sm2.computeDigest(publicKey, 'x');
      expect(sm2.verifyDigest(publicKey, e, sm2.signDigest(privateKey, e, { format }), { format })).toBe(
        true,
      );
    }
  });

  it('rejects tampered messages, signatures and keys', () => {
    const { privateKey, publicKey } = sm2.generateKeyPair();
    const other = sm2.generateKeyPair().publicKey;
    const sig = sm2.sign(privateKey, 'abc', { format: 'raw' });
    expect(sm2.verify(publicKey, 'abd', sig, { format: 'raw' })).toBe(false);
    expect(sm2.verify(other, 'abc', sig, { format: 'raw' })).toBe(false);
    for (const i of [0, 31, 32, 63]) {
      const t = sig.slice();
      t[i]! ^= 1;
      expect(sm2.verify(publicKey, 'abc', t, { format: 'raw' })).toBe(false);
    }
  });

  it('encrypts and decrypts round trip in every layout and rejects tampering', () => {
    const { privateKey, publicKey } = sm2.generateKeyPair();
    for (const format of ['c1c3c2', 'c1c2c3', 'asn1'] as const) {
      for (const len of [1, 31, 32, 33, 100, 1000]) {
        const m = crypto.getRandomValues(new Uint8Array(len));
        const c = sm2.encrypt(publicKey, m, { format });
        expect(sm2.decrypt(privateKey, c, { format })).toEqual(m);
      }
    }
    const c = sm2.encrypt(publicKey, 'secret');
    const t = c.slice();
    t[t.length - 1]! ^= 1;
    expectCode(() => sm2.decrypt(privateKey, t), 'GM_DECRYPT_FAILED');
    const t3 = c.slice();
    t3[70]! ^= 1;
    expectCode(() => sm2.decrypt(privateKey, t3), 'GM_DECRYPT_FAILED');
    expectCode(() => sm2.decrypt(sm2.generateKeyPair().privateKey, c), 'GM_DECRYPT_FAILED');
  });
});
