import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bigIntToBytes, concat, fromHex, toHex } from '../bytes.js';
import { bitString, explicit, integer, octetString, oid, sequence, tlv } from '../der.js';
import { encodePem } from '../pem.js';
import { createSm3 } from '../node/sm3.js';
import { expectCode } from '../testing/expect-code.js';
import { N, OID, P } from './curve.js';
import { createJsEngine } from './js-engine.js';
import { parseEngineChoice, selectEngine } from './select.js';
import { rawToDer } from './signature.js';
import { createSm2 } from './sm2.js';

const sm2 = createSm2({ engine: createJsEngine(), hash: createSm3 });
const { privateKey, publicKey } = sm2.generateKeyPair();

describe('SM2 key formats', () => {
  it('round-trips compressed and uncompressed points', () => {
    for (let i = 0; i < 20; i++) {
      const k = sm2.generateKeyPair().publicKey;
      expect(sm2.importPublicKey(k.toRaw(true)).equals(k)).toBe(true);
      expect(sm2.importPublicKey(toHex(k.toRaw(true))).equals(k)).toBe(true);
      expect(sm2.importPublicKey(k.toRaw()).equals(k)).toBe(true);
      expect(sm2.importPublicKey(k.toHex().slice(2)).equals(k)).toBe(true); // 128 hex digits, no 04
    }
  });

  it('round-trips PKCS#8, SEC1, SPKI in DER and PEM, and hex', () => {
    for (const input of [
      privateKey.toPkcs8(),
      privateKey.toSec1(),
      privateKey.toPem(),
      privateKey.toPem('sec1'),
      privateKey.toHex(),
    ]) {
      expect(sm2.importPrivateKey(input).publicKey.equals(publicKey)).toBe(true);
    }
    expect(sm2.importPublicKey(publicKey.toSpki()).equals(publicKey)).toBe(true);
    expect(sm2.importPublicKey(publicKey.toPem()).equals(publicKey)).toBe(true);
  });

  it('accepts the SM2-algorithm-OID forms of SPKI and PKCS#8 some vendors write', () => {
    const spki = sequence(sequence(oid(OID.sm2), oid(OID.sm2)), bitString(publicKey.toRaw()));
    expect(sm2.importPublicKey(spki).equals(publicKey)).toBe(true);
    const spkiNoParams = sequence(sequence(oid(OID.sm2)), bitString(publicKey.toRaw()));
    expect(sm2.importPublicKey(spkiNoParams).equals(publicKey)).toBe(true);
    const sec1 = sequence(integer(1), octetString(fromHex(privateKey.toHex())));
    const p8 = sequence(integer(0), sequence(oid(OID.sm2), oid(OID.sm2)), octetString(sec1));
    expect(sm2.importPrivateKey(p8).publicKey.equals(publicKey)).toBe(true);
  });

  it('never reveals the private scalar through JSON or inspect', () => {
    expect(JSON.stringify(privateKey)).not.toContain(privateKey.toHex());
    expect(inspect(privateKey)).not.toContain(privateKey.toHex());
    expect(inspect(privateKey)).toContain('redacted');
  });
});

describe('keys from Node Buffers (pooled views)', () => {
  it("imports raw and PKCS#8 keys held in Buffer views, signs, and leaves the caller's bytes untouched", () => {
    const pair = sm2.generateKeyPair();
    for (const input of [
      Buffer.from(pair.privateKey.toHex(), 'hex'),
      Buffer.from(pair.privateKey.toPkcs8()),
    ]) {
      const before = Buffer.from(input);
      const key = sm2.importPrivateKey(input);
      expect(input.equals(before)).toBe(true);
      const sig = sm2.sign(key, '病历');
      expect(sm2.verify(pair.publicKey, '病历', sig)).toBe(true);
    }
  });
});

describe('error codes', () => {
  it('GM_INVALID_KEY: off-curve points, bad scalars, mismatched embedded public keys', () => {
    const off = publicKey.toRaw();
    off[64]! ^= 1;
    expectCode(() => sm2.importPublicKey(off), 'GM_INVALID_KEY');
    expectCode(
      () => sm2.importPublicKey(concat(Uint8Array.of(4), bigIntToBytes(P, 32), bigIntToBytes(1n, 32))),
      'GM_INVALID_KEY',
    );
    expectCode(
      () => sm2.importPublicKey(concat(Uint8Array.of(2), bigIntToBytes(P + 0n, 32))),
      'GM_INVALID_KEY',
    );
    expectCode(() => sm2.importPublicKey(Uint8Array.of(0)), 'GM_INVALID_KEY'); // infinity
    expectCode(() => sm2.importPublicKey(new Uint8Array(65)), 'GM_INVALID_KEY');
    expectCode(() => sm2.importPublicKey('zz'), 'GM_INVALID_KEY');
    for (const d of [0n, N - 1n, N, (1n << 256n) - 1n]) {
      expectCode(() => sm2.importPrivateKey(bigIntToBytes(d, 32)), 'GM_INVALID_KEY');
    }
    expectCode(() => sm2.importPrivateKey(new Uint8Array(31).fill(1)), 'GM_INVALID_KEY');
    const other = sm2.generateKeyPair().publicKey;
    const mismatched = sequence(
      integer(1),
      octetString(fromHex(privateKey.toHex())),
      explicit(0, oid(OID.sm2)),
      explicit(1, bitString(other.toRaw())),
    );
    expectCode(() => sm2.importPrivateKey(mismatched), 'GM_INVALID_KEY');
  });

  it('GM_UNSUPPORTED_KEY: RSA, P-256 and encrypted keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expectCode(
      () => sm2.importPublicKey(rsa.publicKey.export({ format: 'pem', type: 'spki' })),
      'GM_UNSUPPORTED_KEY',
    );
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expectCode(
      () => sm2.importPublicKey(p256.publicKey.export({ format: 'der', type: 'spki' })),
      'GM_UNSUPPORTED_KEY',
    );
    expectCode(
      () => sm2.importPrivateKey(p256.privateKey.export({ format: 'pem', type: 'pkcs8' })),
      'GM_UNSUPPORTED_KEY',
    );
    const enc = p256.privateKey.export({
      format: 'pem',
      type: 'pkcs8',
      cipher: 'aes-256-cbc',
      passphrase: 'x',
    });
    expectCode(() => sm2.importPrivateKey(enc), 'GM_UNSUPPORTED_KEY');
  });

  it('GM_INVALID_PEM: mismatched labels, bad base64, wrong label, RFC 1421 headers', () => {
    const pem = publicKey.toPem();
    expectCode(() => sm2.importPublicKey(pem.replace('END PUBLIC KEY', 'END PRIVATE KEY')), 'GM_INVALID_PEM');
    expectCode(() => sm2.importPublicKey(pem.replace(/\n[A-Za-z0-9]/, '\n*')), 'GM_INVALID_PEM');
    expectCode(() => sm2.importPublicKey(privateKey.toPem()), 'GM_INVALID_PEM');
    expectCode(() => sm2.importPrivateKey(encodePem('CERTIFICATE', privateKey.toPkcs8())), 'GM_INVALID_PEM');
    expectCode(
      () =>
        sm2.importPrivateKey(
          '-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END EC PRIVATE KEY-----',
        ),
      'GM_INVALID_PEM',
    );
  });

  it('GM_INVALID_DER: truncated, trailing bytes, indefinite and non-minimal lengths', () => {
    const spki = publicKey.toSpki();
    expectCode(() => sm2.importPublicKey(spki.subarray(0, spki.length - 1)), 'GM_INVALID_DER');
    expectCode(() => sm2.importPublicKey(concat(spki, Uint8Array.of(0))), 'GM_INVALID_DER');
    const indefinite = concat(Uint8Array.of(0x30, 0x80), spki.subarray(2), Uint8Array.of(0, 0));
    expectCode(() => sm2.importPublicKey(indefinite), 'GM_INVALID_DER');
    const nonMinimal = concat(Uint8Array.of(0x30, 0x81, spki[1]!), spki.subarray(2));
    expectCode(() => sm2.importPublicKey(nonMinimal), 'GM_INVALID_DER');
    expectCode(() => sm2.importPublicKey(Uint8Array.of(0x30, 0x84, 0x04, 0, 0, 0)), 'GM_INVALID_DER'); // 64 MiB length
  });

  it('GM_INVALID_SIGNATURE_ENCODING: non-minimal DER, trailing bytes, r or s out of range, wrong raw length', () => {
    const sig = sm2.sign(privateKey, 'm', { format: 'raw' });
    const r = sig.subarray(0, 32);
    const s = sig.subarray(32);
    const int = (b: Uint8Array): Uint8Array => tlv(0x02, b);
    const cases = [
      sequence(int(concat(Uint8Array.of(0, 0), r)), int(concat(Uint8Array.of(0), s))), // non-minimal
      concat(rawToDer(sig), Uint8Array.of(0)), // trailing
      sequence(integer(0n), int(concat(Uint8Array.of(0), s))), // r = 0
      sequence(int(concat(Uint8Array.of(0), r)), integer(N)), // s = n
      sequence(int(Uint8Array.of(0xff)), int(concat(Uint8Array.of(0), s))), // negative
      sequence(integer(1n), integer(1n), integer(1n)),
      Uint8Array.of(0x30, 0x00),
      new Uint8Array(0),
    ];
    for (const c of cases) expectCode(() => sm2.verify(publicKey, 'm', c), 'GM_INVALID_SIGNATURE_ENCODING');
    expectCode(
      () => sm2.verify(publicKey, 'm', sig.subarray(1), { format: 'raw' }),
      'GM_INVALID_SIGNATURE_ENCODING',
    );
    expectCode(
      () => sm2.verify(publicKey, 'm', new Uint8Array(64), { format: 'raw' }),
      'GM_INVALID_SIGNATURE_ENCODING',
    );
  });

  it('GM_INVALID_CIPHERTEXT: too short, bad C1, C1 off the curve, malformed ASN.1', () => {
    const c = sm2.encrypt(publicKey, 'hello');
    expectCode(() => sm2.decrypt(privateKey, c.subarray(0, 97)), 'GM_INVALID_CIPHERTEXT');
    const badPrefix = c.slice();
    badPrefix[0] = 5;
    expectCode(() => sm2.decrypt(privateKey, badPrefix), 'GM_INVALID_CIPHERTEXT');
    const offCurve = c.slice();
    offCurve[64]! ^= 1;
    expectCode(() => sm2.decrypt(privateKey, offCurve), 'GM_INVALID_CIPHERTEXT');
    expectCode(
      () => sm2.decrypt(privateKey, Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01), { format: 'asn1' }),
      'GM_INVALID_CIPHERTEXT',
    );
    expectCode(() => sm2.decrypt(privateKey, fromHex('3000'), { format: 'asn1' }), 'GM_INVALID_CIPHERTEXT');
    const hugeX = sequence(
      integer(P),
      integer(1n),
      octetString(new Uint8Array(32)),
      octetString(Uint8Array.of(1)),
    );
    expectCode(() => sm2.decrypt(privateKey, hugeX, { format: 'asn1' }), 'GM_INVALID_CIPHERTEXT');
  });

  it('GM_INVALID_ARGUMENT: digest length, ID length, empty plaintext, bad hex, unknown engine', () => {
    expectCode(
      () => sm2.verifyDigest(publicKey, new Uint8Array(31), new Uint8Array(64), { format: 'raw' }),
      'GM_INVALID_ARGUMENT',
    );
    expectCode(() => sm2.signDigest(privateKey, new Uint8Array(33)), 'GM_INVALID_ARGUMENT');
    expectCode(() => sm2.sign(privateKey, 'm', { id: new Uint8Array(8192) }), 'GM_INVALID_ARGUMENT');
    expect(
      sm2.verify(publicKey, 'm', sm2.sign(privateKey, 'm', { id: new Uint8Array(8191) }), {
        id: new Uint8Array(8191),
      }),
    ).toBe(true);
    expectCode(() => sm2.encrypt(publicKey, new Uint8Array(0)), 'GM_INVALID_ARGUMENT');
    expectCode(() => fromHex('abc'), 'GM_INVALID_ARGUMENT');
    expectCode(() => parseEngineChoice('fast'), 'GM_INVALID_ARGUMENT');
  });

  it('GM_ENGINE_UNAVAILABLE: native requested but not loadable; auto falls back to js', () => {
    const missing = () => ({ engine: undefined, reason: 'not built' }) as const;
    expectCode(() => selectEngine('native', { native: missing }), 'GM_ENGINE_UNAVAILABLE');
    const auto = selectEngine('auto', { native: missing });
    expect(auto.engine.name).toBe('js');
    expect(auto.reason).toContain('not built');
    expect(selectEngine('js').engine.name).toBe('js');
  });
});
