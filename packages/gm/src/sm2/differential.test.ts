/**
 * Differential test: the native and TypeScript engines must agree bit for bit on public keys, and each must
 * accept exactly the signatures the other makes — on thousands of random keys and messages, plus negatives.
 */
import { describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt, concat, randomBytes, toHex } from '../bytes.js';
import { createSm3 } from '../node/sm3.js';
import { nativeEngine, skipNative } from '../testing/engines.js';
import { N } from './curve.js';
import { createJsEngine } from './js-engine.js';
import { createSm2 } from './sm2.js';

const COUNT = process.env.YIZHENG_SLOW === '1' ? 100_000 : 2_000;

describe.skipIf(skipNative)('native ⇄ js engines', () => {
  const native = createSm2({ engine: nativeEngine(), hash: createSm3 });
  const js = createSm2({ engine: createJsEngine(), hash: createSm3 });

  it(`agree on ${COUNT} random keys, signatures and negatives`, () => {
    for (let i = 0; i < COUNT; i++) {
      const signer = i % 2 === 0 ? native : js;
      const checker = signer === native ? js : native;
      const { privateKey } = signer.generateKeyPair();
      const same = checker.importPrivateKey(privateKey.toPkcs8());
      expect(toHex(same.publicKey.point)).toBe(toHex(privateKey.publicKey.point));

      const msg = randomBytes(i % 200);
      const id = i % 3 === 0 ? randomBytes(i % 20) : undefined;
      const sig = signer.sign(privateKey, msg, { format: 'raw', id });
      expect(checker.verify(same.publicKey, msg, sig, { format: 'raw', id })).toBe(true);
      expect(signer.verify(privateKey.publicKey, msg, sig, { format: 'raw', id })).toBe(true);

      // Negatives every 10th round: both engines must say false.
      if (i % 10 === 0) {
        const bad = sig.slice();
        bad[i % 64]! ^= 1 << (i % 8);
        const tampered = concat(msg, Uint8Array.of(1));
        for (const eng of [native, js]) {
          const pub = eng.importPublicKey(privateKey.publicKey.point);
          let okBad: boolean;
          try {
            okBad = eng.verify(pub, msg, bad, { format: 'raw', id });
          } catch {
            okBad = false; // a flip may push r or s out of range: rejected as encoding, also fine
          }
          expect(okBad).toBe(false);
          expect(eng.verify(pub, tampered, sig, { format: 'raw', id })).toBe(false);
          expect(eng.verify(pub, msg, sig, { format: 'raw', id: 'wrong-id' })).toBe(false);
        }
      }
    }
  });

  it('agree on edge signatures: s = n - r (t = 0), r + s = n, r = s = n - 1, wrong key', () => {
    const { privateKey, publicKey } = native.generateKeyPair();
    const other = native.generateKeyPair().publicKey;
    const e = native.computeDigest(publicKey, 'edge');
    const sig = native.signDigest(privateKey, e, { format: 'raw' });
    const r = bytesToBigInt(sig.subarray(0, 32));
    const cases = [
      concat(bigIntToBytes(r, 32), bigIntToBytes(N - r, 32)), // t = 0
      concat(bigIntToBytes(N - 1n, 32), bigIntToBytes(N - 1n, 32)),
      concat(bigIntToBytes(1n, 32), bigIntToBytes(1n, 32)),
    ];
    for (const c of cases) {
      expect(native.verifyDigest(publicKey, e, c, { format: 'raw' })).toBe(false);
      expect(js.verifyDigest(publicKey, e, c, { format: 'raw' })).toBe(false);
    }
    expect(native.verifyDigest(other, e, sig, { format: 'raw' })).toBe(false);
    expect(js.verifyDigest(js.importPublicKey(other.point), e, sig, { format: 'raw' })).toBe(false);
    expect(js.verifyDigest(js.importPublicKey(publicKey.point), e, sig, { format: 'raw' })).toBe(true);
  });

  it('agree on encryption across engines', () => {
    for (let i = 0; i < 100; i++) {
      const { privateKey } = native.generateKeyPair();
      const jsKey = js.importPrivateKey(privateKey.toPkcs8());
      const m = randomBytes(1 + (i % 300));
      expect(js.decrypt(jsKey, native.encrypt(privateKey.publicKey, m))).toEqual(m);
      expect(native.decrypt(privateKey, js.encrypt(jsKey.publicKey, m))).toEqual(m);
    }
  });
});
