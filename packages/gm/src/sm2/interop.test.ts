/**
 * Interoperability with independent implementations: the OpenSSL 3 CLI (keys, signatures with default and
 * custom IDs, GM/T 0009 ciphertexts) and the `sm-crypto` npm library, in both directions.
 */
import { smCryptoSm2 } from '../testing/sm-crypto.js';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { OpensslDir, hasOpenssl } from '../testing/openssl.js';
import { sm2Instances } from '../testing/engines.js';

const IDS = [undefined, 'ALICE123@YAHOO.COM'];

describe.skipIf(!hasOpenssl())('SM2 ⇄ openssl CLI', () => {
  const o = new OpensslDir();
  afterAll(() => o.cleanup());
  o.run('genpkey', '-algorithm', 'SM2', '-out', 'key.pem');
  o.run('pkey', '-in', 'key.pem', '-pubout', '-out', 'pub.pem');
  o.run('pkey', '-in', 'key.pem', '-outform', 'DER', '-out', 'key.der');
  o.run('pkey', '-in', 'key.pem', '-pubout', '-outform', 'DER', '-out', 'pub.der');
  const msg = o.write('msg.txt', '电子病历签名原文 — interop test\n'.repeat(50));

  describe.each(sm2Instances())('%s', (_label, sm2) => {
    const priv = sm2.importPrivateKey(o.readText('key.pem'));
    const pub = sm2.importPublicKey(o.readText('pub.pem'));

    it('imports openssl keys in PEM and DER consistently', () => {
      expect(priv.publicKey.equals(pub)).toBe(true);
      expect(sm2.importPrivateKey(o.read('key.der')).publicKey.equals(pub)).toBe(true);
      expect(sm2.importPublicKey(o.read('pub.der')).equals(pub)).toBe(true);
      // Our encodings are byte-identical to OpenSSL's.
      expect(toHex(pub.toSpki())).toBe(toHex(o.read('pub.der')));
    });

    it.each(IDS)('verifies openssl signatures (id %s)', (id) => {
      const idArgs = ['-pkeyopt', `distid:${id ?? '1234567812345678'}`];
      o.run(
        'pkeyutl',
        '-sign',
        '-rawin',
        '-digest',
        'sm3',
        ...idArgs,
        '-inkey',
        'key.pem',
        '-in',
        msg,
        '-out',
        'sig.der',
      );
      const sig = o.read('sig.der');
      expect(sm2.verify(pub, o.read('msg.txt'), sig, id === undefined ? {} : { id })).toBe(true);
      expect(sm2.verify(pub, o.read('msg.txt'), sig, { id: 'wrong' })).toBe(false);
    });

    it.each(IDS)('produces signatures openssl verifies (id %s)', (id) => {
      const sig = sm2.sign(priv, o.read('msg.txt'), id === undefined ? {} : { id });
      o.write('ours.sig', sig);
      const idArgs = ['-pkeyopt', `distid:${id ?? '1234567812345678'}`];
      const ok = o.try(
        'pkeyutl',
        '-verify',
        '-rawin',
        '-digest',
        'sm3',
        ...idArgs,
        '-pubin',
        '-inkey',
        'pub.pem',
        '-in',
        msg,
        '-sigfile',
        'ours.sig',
      );
      expect(ok.stdout).toContain('Signature Verified Successfully');
      const bad = o.try(
        'pkeyutl',
        '-verify',
        '-rawin',
        '-digest',
        'sm3',
        '-pkeyopt',
        'distid:other',
        '-pubin',
        '-inkey',
        'pub.pem',
        '-in',
        msg,
        '-sigfile',
        'ours.sig',
      );
      expect(bad.status).not.toBe(0);
    });

    it('decrypts openssl ciphertexts and openssl decrypts ours (GM/T 0009 ASN.1)', () => {
      const plain = o.write('plain.bin', crypto.getRandomValues(new Uint8Array(333)));
      o.run('pkeyutl', '-encrypt', '-pubin', '-inkey', 'pub.pem', '-in', plain, '-out', 'ct.bin');
      expect(sm2.decrypt(priv, o.read('ct.bin'), { format: 'asn1' })).toEqual(o.read('plain.bin'));
      o.write('ours.ct', sm2.encrypt(pub, o.read('plain.bin'), { format: 'asn1' }));
      o.run('pkeyutl', '-decrypt', '-inkey', 'key.pem', '-in', 'ours.ct', '-out', 'back.bin');
      expect(o.read('back.bin')).toEqual(o.read('plain.bin'));
    });

    it('openssl reads the keys we write (PKCS#8, SEC1, SPKI)', () => {
      const { privateKey } = sm2.generateKeyPair();
      o.write('ours-p8.pem', privateKey.toPem('pkcs8'));
      o.write('ours-sec1.pem', privateKey.toPem('sec1'));
      o.write('ours-pub.pem', privateKey.publicKey.toPem());
      const fromP8 = o.run('pkey', '-in', 'ours-p8.pem', '-pubout');
      const fromSec1 = o.run('pkey', '-in', 'ours-sec1.pem', '-pubout');
      const pubOut = o.run('pkey', '-pubin', '-in', 'ours-pub.pem', '-pubout');
      expect(fromP8).toBe(privateKey.publicKey.toPem());
      expect(fromSec1).toBe(privateKey.publicKey.toPem());
      expect(pubOut).toBe(privateKey.publicKey.toPem());
      // And sign with the key openssl parsed: we verify.
      o.run(
        'pkeyutl',
        '-sign',
        '-rawin',
        '-digest',
        'sm3',
        '-pkeyopt',
        'distid:1234567812345678',
        '-inkey',
        'ours-p8.pem',
        '-in',
        msg,
        '-out',
        's2.der',
      );
      expect(sm2.verify(privateKey.publicKey, o.read('msg.txt'), o.read('s2.der'))).toBe(true);
    });
  });
});

describe.each(sm2Instances())('SM2 ⇄ sm-crypto (%s)', (_label, sm2) => {
  const kp = smCryptoSm2.generateKeyPairHex();
  const priv = sm2.importPrivateKey(kp.privateKey);
  const pub = sm2.importPublicKey(kp.publicKey);
  const msg = '住院病历 signature';

  it('imports sm-crypto hex keys', () => {
    expect(priv.publicKey.equals(pub)).toBe(true);
    expect(pub.toHex()).toBe(kp.publicKey.toLowerCase());
    expect(priv.toHex()).toBe(kp.privateKey.toLowerCase().padStart(64, '0'));
  });

  it('verifies sm-crypto signatures and sm-crypto verifies ours (DER and raw)', () => {
    const der = smCryptoSm2.doSignature(msg, kp.privateKey, { hash: true, der: true });
    expect(sm2.verify(pub, msg, fromHex(der))).toBe(true);
    const raw = smCryptoSm2.doSignature(msg, kp.privateKey, { hash: true });
    expect(sm2.verify(pub, msg, fromHex(raw), { format: 'raw' })).toBe(true);
    const custom = smCryptoSm2.doSignature(msg, kp.privateKey, {
      hash: true,
      der: true,
      userId: 'doctor-007',
    });
    expect(sm2.verify(pub, msg, fromHex(custom), { id: 'doctor-007' })).toBe(true);

    expect(
      smCryptoSm2.doVerifySignature(msg, toHex(sm2.sign(priv, msg)), kp.publicKey, { hash: true, der: true }),
    ).toBe(true);
    expect(
      smCryptoSm2.doVerifySignature(msg, toHex(sm2.sign(priv, msg, { format: 'raw' })), kp.publicKey, {
        hash: true,
      }),
    ).toBe(true);
  });

  it('decrypts sm-crypto ciphertexts (C1C3C2 and C1C2C3) and sm-crypto decrypts ours', () => {
    // sm-crypto writes C1 without the 04 prefix; the standard encoding has it.
    const c13 = smCryptoSm2.doEncrypt(msg, kp.publicKey, 1);
    expect(new TextDecoder().decode(sm2.decrypt(priv, fromHex('04' + c13)))).toBe(msg);
    const c12 = smCryptoSm2.doEncrypt(msg, kp.publicKey, 0);
    expect(new TextDecoder().decode(sm2.decrypt(priv, fromHex('04' + c12), { format: 'c1c2c3' }))).toBe(msg);
    const ours = toHex(sm2.encrypt(pub, msg)).slice(2);
    expect(smCryptoSm2.doDecrypt(ours, kp.privateKey, 1)).toBe(msg);
  });
});
