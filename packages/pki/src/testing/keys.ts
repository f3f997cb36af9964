/**
 * Deterministic test keys: the same (seed, label) gives the same key on every run and machine.
 *   - SM2: d uniform in [1, n-2] (GB/T 32918.1 / 32918.5 curve order n) from the seeded stream;
 *   - P-256: d uniform in [1, n-1] (FIPS 186-4 D.1.2.3), public point from node's ECDH;
 *   - RSA: a seeded prime search ({@link seededRsaKey}).
 * Signatures are another matter: RSA PKCS#1 v1.5 is deterministic, ECDSA and SM2 signatures use a fresh random
 * k each time, so certificates and CRLs signed with EC/SM2 keys differ between runs in their signature value
 * only (their to-be-signed bytes are identical).
 */
import { createECDH, createPrivateKey, type KeyObject } from 'node:crypto';
import { sm2 } from '@yizheng/gm';
import { signerFromKeyObject, signerFromSm2Key, type Signer } from '../signer.js';
import { drbg, scalarBelow, toBytes } from './drbg.js';
import { seededRsaKey } from './rsa-seeded.js';

export type TestKeyKind = 'sm2' | 'rsa' | 'p256';

/** GB/T 32918.5 SM2 curve order n. */
const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
/** FIPS 186-4 D.1.2.3 P-256 order n. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

export interface TestKey {
  readonly kind: TestKeyKind;
  readonly signer: Signer;
  /** The private key as unencrypted PKCS#8 PEM (for openssl, the CLI, demos). */
  readonly privateKeyPem: string;
}

function p256Key(seed: string, label: string): KeyObject {
  const d = toBytes(scalarBelow(drbg(seed, `p256:${label}`), P256_N - 1n), 32);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey();
  return createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: Buffer.from(d).toString('base64url'),
      x: pub.subarray(1, 33).toString('base64url'),
      y: pub.subarray(33, 65).toString('base64url'),
    },
  });
}

/** The deterministic key of `kind` for (seed, label). RSA keys are `rsaBits` long (default 2048). */
export function testKey(seed: string, label: string, kind: TestKeyKind, rsaBits = 2048): TestKey {
  if (kind === 'sm2') {
    const d = toBytes(scalarBelow(drbg(seed, `sm2:${label}`), SM2_N - 2n), 32);
    const key = sm2.importPrivateKey(d);
    return { kind, signer: signerFromSm2Key(key), privateKeyPem: key.toPem() };
  }
  const obj = kind === 'rsa' ? seededRsaKey(seed, label, rsaBits) : p256Key(seed, label);
  return {
    kind,
    signer: signerFromKeyObject(obj),
    privateKeyPem: obj.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}
