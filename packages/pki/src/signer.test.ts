import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2 } from '@yizheng/gm';
import { describe, expect, it } from 'vitest';
import { OID, keyKind, verifySignature } from './algorithms.js';
import { isPkiError } from './errors.js';
import { signerFromKeyObject, signerFromPrivateKey, signerFromSm2Key, type Signer } from './signer.js';
import { gmSm2Provider } from './sm2.js';

const dir = mkdtempSync(join(tmpdir(), 'pki-signer-'));
const p = (f: string): string => join(dir, f);
const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });
const data = new TextEncoder().encode('处方：阿莫西林 0.25g × 24');
writeFileSync(p('data'), data);

const KEYGEN: Record<string, string[]> = {
  rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  sm2: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'],
};
const EXPECT: Record<string, { kind: Signer['keyKind']; sig: string; md: string; dgst: string }> = {
  rsa: { kind: 'rsa', sig: OID.sha256WithRSA, md: OID.sha256, dgst: '-sha256' },
  p256: { kind: 'ecdsa', sig: OID.ecdsaWithSHA256, md: OID.sha256, dgst: '-sha256' },
  p384: { kind: 'ecdsa', sig: OID.ecdsaWithSHA384, md: OID.sha384, dgst: '-sha384' },
  sm2: { kind: 'sm2', sig: OID.sm3WithSm2, md: OID.sm3, dgst: '-sm3' },
};

describe('signerFromPrivateKey', () => {
  for (const [name, args] of Object.entries(KEYGEN)) {
    it(`signs with an openssl ${name} PKCS#8 key; openssl dgst -verify accepts it`, () => {
      openssl('genpkey', ...args, '-out', p(`${name}.key`));
      openssl('pkey', '-in', p(`${name}.key`), '-pubout', '-out', p(`${name}.pub`));
      const e = EXPECT[name]!;
      const signer = signerFromPrivateKey(readFileSync(p(`${name}.key`), 'utf8'));
      expect(signer.keyKind).toBe(e.kind);
      expect(signer.signatureAlgorithm).toBe(e.sig);
      expect(signer.digestAlgorithm).toBe(e.md);
      const pubDer = execFileSync('openssl', ['pkey', '-pubin', '-in', p(`${name}.pub`), '-outform', 'DER']);
      expect(Buffer.from(signer.publicKeyInfo).equals(pubDer)).toBe(true);
      if (name === 'sm2') expect(keyKind(signer.publicKeyInfo)).toBe('sm2');
      const sig = signer.sign(data);
      writeFileSync(p(`${name}.sig`), sig);
      const sigopt = name === 'sm2' ? ['-sigopt', 'distid:1234567812345678'] : [];
      const out = openssl(
        'dgst',
        e.dgst,
        '-verify',
        p(`${name}.pub`),
        ...sigopt,
        '-signature',
        p(`${name}.sig`),
        p('data'),
      );
      expect(out).toContain('Verified OK');
      expect(
        verifySignature(
          { algorithm: signer.signatureAlgorithm, spki: signer.publicKeyInfo, data, signature: sig },
          { sm2: gmSm2Provider },
        ),
      ).toBe(true);
    });
  }

  it('reads DER PKCS#8 and PEM bytes alike', () => {
    const der = new Uint8Array(execFileSync('openssl', ['pkey', '-in', p('p256.key'), '-outform', 'DER']));
    const a = signerFromPrivateKey(der);
    const b = signerFromPrivateKey(readFileSync(p('p256.key')));
    expect(Buffer.from(a.publicKeyInfo).equals(Buffer.from(b.publicKeyInfo))).toBe(true);
  });

  it('honours the hash option for RSA', () => {
    const signer = signerFromPrivateKey(readFileSync(p('rsa.key'), 'utf8'), { hash: 'sha384' });
    expect(signer.signatureAlgorithm).toBe(OID.sha384WithRSA);
    const sig = signer.sign(data);
    expect(
      verifySignature({ algorithm: OID.sha384WithRSA, spki: signer.publicKeyInfo, data, signature: sig }),
    ).toBe(true);
  });

  it('rejects unreadable keys with PKI_INVALID_ARGUMENT and Ed25519 with PKI_UNSUPPORTED_ALGORITHM', () => {
    expect(() =>
      signerFromPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    ).toThrow(expect.objectContaining({ code: 'PKI_INVALID_ARGUMENT' }));
    expect(() => signerFromPrivateKey(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00))).toThrow(
      expect.objectContaining({ code: 'PKI_INVALID_ARGUMENT' }),
    );
    const ed = generateKeyPairSync('ed25519');
    try {
      signerFromKeyObject(ed.privateKey);
      expect.unreachable();
    } catch (e) {
      expect(isPkiError(e, 'PKI_UNSUPPORTED_ALGORITHM')).toBe(true);
    }
    expect(() => signerFromKeyObject(ed.publicKey)).toThrow(
      expect.objectContaining({ code: 'PKI_INVALID_ARGUMENT' }),
    );
  });
});

describe('signerFromSm2Key / signerFromKeyObject', () => {
  it('an Sm2PrivateKey signs with the default ID; a custom ID does not verify under the default', () => {
    // A fresh Uint8Array: a pooled Buffer view trips @yizheng/gm's native engine (reported).
    const key = sm2.importPrivateKey(
      Uint8Array.from(Buffer.from('3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8', 'hex')),
    );
    const signer = signerFromSm2Key(key);
    const sig = signer.sign(data);
    const input = { algorithm: OID.sm3WithSm2, spki: signer.publicKeyInfo, data, signature: sig };
    expect(verifySignature(input, { sm2: gmSm2Provider })).toBe(true);
    const other = signerFromSm2Key(key, { sm2Id: 'ALICE123@YAHOO.COM' }).sign(data);
    expect(verifySignature({ ...input, signature: other }, { sm2: gmSm2Provider })).toBe(false);
    expect(
      verifySignature({ ...input, signature: other }, { sm2: gmSm2Provider, sm2Id: 'ALICE123@YAHOO.COM' }),
    ).toBe(true);
  });

  it('an SM2 KeyObject goes through @yizheng/gm (not node crypto.sign)', () => {
    const kp = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const signer = signerFromKeyObject(kp.privateKey);
    expect(signer.keyKind).toBe('sm2');
    const sig = signer.sign(data);
    expect(
      verifySignature(
        { algorithm: OID.sm3WithSm2, spki: signer.publicKeyInfo, data, signature: sig },
        { sm2: gmSm2Provider },
      ),
    ).toBe(true);
  });
});
