/**
 * PKCS#12 reading against files written by the openssl CLI: RSA and SM2 (OpenSSL 3 defaults: PBES2, PBKDF2-HMAC-
 * SHA-256, AES-256-CBC, SHA-256 MAC), AES-128 with a SHA-1 MAC, no MAC, legacy 3DES/RC2, wrong passwords,
 * garbage; encrypted PKCS#8. The keys that come out sign with WebCrypto / the SM2 engine and verify against the
 * certificate openssl made.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, createVerify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2 } from '@yizheng/gm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decryptPrivateKeyInfo,
  isPkcs12Error,
  parsePkcs12,
  privateKeyAlgorithm,
  type Pkcs12ErrorCode,
} from './pkcs12.js';

let dir: string;
const openssl = (...args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
};
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, name)));
const der = (pem: string): Uint8Array =>
  new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));

async function expectCode(p: Promise<unknown>, code: Pkcs12ErrorCode): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isPkcs12Error(e) ? e.code : e).toBe(code);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'yz-p12-'));
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'rsa.key',
    '-out',
    'rsa.crt',
    '-subj',
    '/CN=rsa',
    '-days',
    '2',
  );
  openssl(
    'pkcs12',
    '-export',
    '-inkey',
    'rsa.key',
    '-in',
    'rsa.crt',
    '-out',
    'rsa.p12',
    '-passout',
    'pass:秘密 secret',
  );
  openssl('ecparam', '-genkey', '-name', 'SM2', '-noout', '-out', 'sm2.ec');
  openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'sm2.ec', '-out', 'sm2.key');
  openssl(
    'req',
    '-new',
    '-x509',
    '-key',
    'sm2.key',
    '-subj',
    '/CN=sm2',
    '-days',
    '2',
    '-sm3',
    '-sigopt',
    'distid:1234567812345678',
    '-out',
    'sm2.crt',
  );
  openssl(
    'pkcs12',
    '-export',
    '-inkey',
    'sm2.key',
    '-in',
    'sm2.crt',
    '-out',
    'sm2.p12',
    '-passout',
    'pass:secret',
  );
  openssl(
    'pkcs12',
    '-export',
    '-inkey',
    'rsa.key',
    '-in',
    'rsa.crt',
    '-out',
    'aes128.p12',
    '-passout',
    'pass:pw',
    '-keypbe',
    'AES-128-CBC',
    '-certpbe',
    'AES-128-CBC',
    '-macalg',
    'sha1',
  );
  openssl(
    'pkcs12',
    '-export',
    '-inkey',
    'rsa.key',
    '-in',
    'rsa.crt',
    '-out',
    'nomac.p12',
    '-passout',
    'pass:pw',
    '-nomac',
  );
  openssl(
    'pkcs12',
    '-export',
    '-inkey',
    'rsa.key',
    '-in',
    'rsa.crt',
    '-out',
    '3des.p12',
    '-passout',
    'pass:pw',
    '-keypbe',
    'PBE-SHA1-3DES',
    '-certpbe',
    'PBE-SHA1-3DES',
    '-macalg',
    'sha1',
  );
  openssl(
    'pkcs12',
    '-export',
    '-legacy',
    '-inkey',
    'rsa.key',
    '-in',
    'rsa.crt',
    '-out',
    'legacy.p12',
    '-passout',
    'pass:pw',
  );
  openssl(
    'pkcs8',
    '-topk8',
    '-v2',
    'aes-256-cbc',
    '-in',
    'sm2.key',
    '-out',
    'sm2.enc.key',
    '-passout',
    'pass:pw',
  );
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parsePkcs12', () => {
  it('RSA (OpenSSL 3 defaults): the key and certificate, paired by localKeyId; the key signs with WebCrypto', async () => {
    const p12 = await parsePkcs12(file('rsa.p12'), '秘密 secret');
    expect(p12.keys).toHaveLength(1);
    expect(p12.certificates).toHaveLength(1);
    const key = p12.keys[0]!;
    expect(key.algorithm).toBe('rsa');
    expect(key.localKeyId).toEqual(p12.certificates[0]!.localKeyId);
    expect(key.localKeyId?.length).toBeGreaterThan(0);
    const cert = new X509Certificate(p12.certificates[0]!.der);
    expect(cert.subject).toBe('CN=rsa');
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const k = await crypto.subtle.importKey('pkcs8', new Uint8Array(key.pkcs8), alg, false, ['sign']);
    const sig = new Uint8Array(await crypto.subtle.sign(alg, k, new TextEncoder().encode('challenge')));
    const v = createVerify('sha256').update('challenge');
    expect(v.verify(createPublicKey(readFileSync(join(dir, 'rsa.crt'))), sig)).toBe(true);
  });

  it('SM2: the PKCS#8 key openssl wrote comes back and signs for the certificate', async () => {
    const p12 = await parsePkcs12(file('sm2.p12'), 'secret');
    const key = p12.keys[0]!;
    expect(key.algorithm).toBe('sm2');
    expect(Buffer.from(key.pkcs8)).toEqual(Buffer.from(der(readFileSync(join(dir, 'sm2.key'), 'utf8'))));
    const priv = sm2.importPrivateKey(key.pkcs8);
    const spki = new X509Certificate(p12.certificates[0]!.der).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    const pub = sm2.importPublicKey(new Uint8Array(spki));
    expect(sm2.verify(pub, 'challenge', sm2.sign(priv, 'challenge'))).toBe(true);
  });

  it('AES-128 with a SHA-1 MAC, and a file without MAC', async () => {
    expect((await parsePkcs12(file('aes128.p12'), 'pw')).keys[0]!.algorithm).toBe('rsa');
    expect((await parsePkcs12(file('nomac.p12'), 'pw')).keys[0]!.algorithm).toBe('rsa');
  });

  it('PKCS12_PASSWORD_INVALID: a wrong password (by the MAC, and by decryption when there is no MAC)', async () => {
    await expectCode(parsePkcs12(file('rsa.p12'), 'secret'), 'PKCS12_PASSWORD_INVALID');
    await expectCode(parsePkcs12(file('sm2.p12'), ''), 'PKCS12_PASSWORD_INVALID');
    await expectCode(parsePkcs12(file('nomac.p12'), 'wrong'), 'PKCS12_PASSWORD_INVALID');
  });

  it('PKCS12_LEGACY_ENCRYPTION: 3DES and -legacy (RC2) files', async () => {
    await expectCode(parsePkcs12(file('3des.p12'), 'pw'), 'PKCS12_LEGACY_ENCRYPTION');
    await expectCode(parsePkcs12(file('legacy.p12'), 'pw'), 'PKCS12_LEGACY_ENCRYPTION');
  });

  it('PKCS12_INVALID: not a PKCS#12 file, truncated, oversized', async () => {
    await expectCode(parsePkcs12(file('rsa.crt'), 'pw'), 'PKCS12_INVALID');
    await expectCode(parsePkcs12(der(readFileSync(join(dir, 'rsa.crt'), 'utf8')), 'pw'), 'PKCS12_INVALID');
    const p12 = file('rsa.p12');
    await expectCode(parsePkcs12(p12.subarray(0, p12.length - 10), 'pw'), 'PKCS12_INVALID');
    await expectCode(parsePkcs12(new Uint8Array(0), 'pw'), 'PKCS12_INVALID');
    await expectCode(parsePkcs12(p12, '秘密 secret', { maxSize: 100 }), 'PKCS12_INVALID');
  });

  it('PKCS12_UNSUPPORTED_ALGORITHM: iteration counts above the bound', async () => {
    await expectCode(
      parsePkcs12(file('rsa.p12'), '秘密 secret', { maxIterations: 1000 }),
      'PKCS12_UNSUPPORTED_ALGORITHM',
    );
  });

  it('flipped bytes anywhere never escape as anything but a Pkcs12Error', async () => {
    const p12 = file('rsa.p12');
    for (let i = 0; i < p12.length; i += 151) {
      const bad = new Uint8Array(p12);
      bad[i]! ^= 0x41;
      const e = await parsePkcs12(bad, '秘密 secret').then(
        () => undefined,
        (x: unknown) => x,
      );
      if (e !== undefined) expect(isPkcs12Error(e)).toBe(true);
    }
  });
});

describe('encrypted PKCS#8', () => {
  it('decrypts PBES2 keys; a wrong password is PKCS12_PASSWORD_INVALID', async () => {
    const enc = der(readFileSync(join(dir, 'sm2.enc.key'), 'utf8'));
    const plain = await decryptPrivateKeyInfo(enc, 'pw');
    expect(privateKeyAlgorithm(plain)).toBe('sm2');
    expect(Buffer.from(plain)).toEqual(Buffer.from(der(readFileSync(join(dir, 'sm2.key'), 'utf8'))));
    await expectCode(decryptPrivateKeyInfo(enc, 'nope'), 'PKCS12_PASSWORD_INVALID');
  });
});
