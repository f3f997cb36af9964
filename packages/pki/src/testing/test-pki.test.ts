import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestPki as TestPkiFromSubpath } from '@yizheng/pki/testing';
import { EKU, crlRevocationSource, verifyChain } from '../chain.js';
import { parseCrl, verifyCrl } from '../crl.js';
import { toPem } from '../der.js';
import { buildSignedData } from '../signed-data-builder.js';
import { verifySignedData } from '../signed-data.js';
import { gmSm2Provider } from '../sm2.js';
import { seededRsaKey } from './rsa-seeded.js';
import { TestPki } from './test-pki.js';

const dir = mkdtempSync(join(tmpdir(), 'pki-testing-'));
const p = (f: string): string => join(dir, f);
const run = (...args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });
const policy = { sm2: gmSm2Provider };
const NOW = new Date('2026-01-01T00:00:00Z');
const ATTIME = String(NOW.getTime() / 1000 + 3600);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('determinism', () => {
  it('the same seed gives the same keys, serials and to-be-signed bytes; RSA certificates byte for byte', () => {
    for (const kind of ['sm2', 'p256', 'rsa'] as const) {
      const make = (seed: string) => {
        const root = new TestPki({ seed, kind }).root();
        const leaf = root.intermediate().leaf({ subject: { CN: '李四' } });
        return { root, leaf };
      };
      const a = make('seed-A');
      const b = make('seed-A');
      const c = make('seed-B');
      expect(hex(a.leaf.cert.spki)).toBe(hex(b.leaf.cert.spki));
      expect(a.leaf.cert.serialHex).toBe(b.leaf.cert.serialHex);
      expect(hex(a.root.cert.tbs)).toBe(hex(b.root.cert.tbs));
      expect(hex(a.leaf.cert.tbs)).toBe(hex(b.leaf.cert.tbs));
      expect(a.leaf.privateKeyPem).toBe(b.leaf.privateKeyPem);
      expect(hex(a.leaf.cert.spki)).not.toBe(hex(c.leaf.cert.spki));
      expect(a.leaf.cert.serialHex).not.toBe(c.leaf.cert.serialHex);
      // RSA PKCS#1 v1.5 is deterministic; ECDSA/SM2 signatures use a random k.
      if (kind === 'rsa') expect(hex(a.leaf.der)).toBe(hex(b.leaf.der));
      else expect(hex(a.leaf.der)).not.toBe(hex(b.leaf.der));
    }
  });

  it('seededRsaKey is cached and reproducible; the public subpath exports the same class', () => {
    const k = seededRsaKey('s', 'x', 1024);
    expect(seededRsaKey('s', 'x', 1024)).toBe(k);
    expect(k.asymmetricKeyDetails?.modulusLength).toBe(1024);
    expect(TestPkiFromSubpath).toBe(TestPki);
  });
});

describe.each(['sm2', 'rsa', 'p256'] as const)('a %s test PKI', (kind) => {
  const pki = new TestPki({ seed: `pki-${kind}`, kind, now: NOW });
  const root = pki.root();
  const ca = root.intermediate({ crlUrl: 'http://ca.test/ca.crl', ocspUrl: 'http://ocsp.test' });
  const doctor = ca.leaf({ subject: { C: 'CN', O: '北京协和医院', OU: '内科', CN: '王医生' } });
  const nurse = ca.leaf({ subject: { C: 'CN', O: '北京协和医院', CN: '赵护士' } });
  const tsa = ca.tsa();
  const ocsp = ca.ocspResponder();
  for (const [n, c] of Object.entries({ root, ca, doctor, nurse, tsa, ocsp })) {
    writeFileSync(p(`${kind}-${n}.pem`), c.pem);
    writeFileSync(p(`${kind}-${n}.key`), c.privateKeyPem);
  }
  const anchors = { trustAnchors: [root.cert], intermediates: [ca.cert], policy };

  it('certificates have Chinese names, the profiles and the CA URLs', () => {
    expect(doctor.cert.subject).toBe('CN=王医生,OU=内科,O=北京协和医院,C=CN');
    expect(ca.cert.subject).toContain('医证测试二级CA');
    expect(doctor.cert.crlDistributionPoints).toEqual([{ type: 'uri', value: 'http://ca.test/ca.crl' }]);
    expect(doctor.cert.authorityInfoAccess?.ocsp).toEqual(['http://ocsp.test']);
    expect(tsa.cert.extKeyUsage).toEqual([EKU.timeStamping]);
    expect(tsa.cert.extensions.find((e) => e.oid === '2.5.29.37')?.critical).toBe(true);
    expect(ocsp.cert.extKeyUsage).toEqual([EKU.ocspSigning]);
    expect(ocsp.cert.ocspNoCheck).toBe(true);
    for (const c of [doctor, tsa, ocsp])
      expect(verifyChain(c.cert, { ...anchors, at: NOW }).failures).toEqual([]);
    expect(verifyChain(tsa.cert, { ...anchors, at: NOW, extKeyUsage: EKU.timeStamping }).valid).toBe(true);
    expect(
      verifyChain(doctor.cert, { ...anchors, at: NOW, extKeyUsage: EKU.timeStamping }).failures.map(
        (f) => f.code,
      ),
    ).toEqual(['PKI_EKU']);
  });

  it('openssl accepts the chain and the TSA / OCSP purposes', () => {
    if (kind === 'sm2') {
      // OpenSSL 3.0 needs the GM/T 0009 ID for SM2 and applies -vfyopt to the target only: link by link.
      const vfy = ['-vfyopt', 'distid:1234567812345678'];
      expect(
        run('verify', '-attime', ATTIME, ...vfy, '-CAfile', p('sm2-root.pem'), p('sm2-ca.pem')).stdout,
      ).toContain(': OK');
      for (const n of ['doctor', 'tsa', 'ocsp'])
        expect(run('verify', '-attime', ATTIME, ...vfy, '-partial_chain', '-CAfile', p('sm2-ca.pem'), p(`sm2-${n}.pem`)).stdout).toContain(': OK'); // prettier-ignore
      return;
    }
    const chain = ['-attime', ATTIME, '-CAfile', p(`${kind}-root.pem`), '-untrusted', p(`${kind}-ca.pem`)];
    expect(run('verify', ...chain, p(`${kind}-doctor.pem`)).stdout).toContain(': OK');
    expect(run('verify', ...chain, '-purpose', 'timestampsign', p(`${kind}-tsa.pem`)).stdout).toContain(
      ': OK',
    );
    expect(run('verify', ...chain, '-purpose', 'timestampsign', p(`${kind}-doctor.pem`)).status).not.toBe(0);
    expect(run('verify', ...chain, '-purpose', 'ocsphelper', p(`${kind}-ocsp.pem`)).stdout).toContain(': OK');
  });

  it('revoking the doctor: the CRL lists it, openssl -crl_check and ours reject it, the nurse stays good', () => {
    const revokedAt = new Date(NOW.getTime() + 1000);
    ca.revoke(doctor, { at: revokedAt, reason: 'keyCompromise' });
    expect(ca.revocationOf(doctor)).toEqual({ revokedAt, reason: 'keyCompromise' });
    expect(ca.revocationOf(nurse)).toBeUndefined();
    const first = parseCrl(ca.crl({ thisUpdate: new Date(NOW.getTime() + 2000) }));
    const crlDer = ca.crl({ thisUpdate: new Date(NOW.getTime() + 2000) });
    const crl = parseCrl(crlDer);
    expect(crl.crlNumber).toBe((first.crlNumber ?? 0n) + 1n);
    expect(crl.entries.get(doctor.cert.serialHex)).toMatchObject({
      reason: 'keyCompromise',
      revocationDate: revokedAt,
    });
    verifyCrl(crl, ca.cert, { at: new Date(NOW.getTime() + 3000), policy });
    const rootCrl = root.crl({ thisUpdate: new Date(NOW.getTime() + 2000) });
    const revocation = {
      sources: [crlRevocationSource([crlDer, rootCrl], { policy })],
      mode: 'require' as const,
    };
    const at = new Date(NOW.getTime() + 5000);
    const bad = verifyChain(doctor.cert, { ...anchors, at, revocation });
    expect(bad.failures.map((f) => [f.code, f.chainIndex])).toEqual([['PKI_REVOKED', 0]]);
    expect(bad.revocation[0]?.explanation).toContain('keyCompromise');
    expect(verifyChain(nurse.cert, { ...anchors, at, revocation }).failures).toEqual([]);
    // Before the revocation date the doctor was still good: the later CRL says so.
    const early = verifyChain(doctor.cert, { ...anchors, at: new Date(NOW.getTime() + 500), revocation });
    expect(early.failures).toEqual([]);
    expect(early.revocation[0]?.explanation).toContain('was not yet revoked');
    // After the CRL's nextUpdate it says nothing: unknown.
    const stale = verifyChain(doctor.cert, {
      ...anchors,
      at: new Date(NOW.getTime() + 8 * 86_400_000),
      revocation,
    });
    expect(stale.failures.map((f) => f.code)).toEqual(['PKI_REVOCATION_UNKNOWN', 'PKI_REVOCATION_UNKNOWN']);
    if (kind !== 'sm2') {
      writeFileSync(p(`${kind}-ca.crl`), toPem(crlDer, 'X509 CRL'));
      writeFileSync(p(`${kind}-root.crl`), toPem(rootCrl, 'X509 CRL'));
      const check = ['-attime', String(at.getTime() / 1000 + 1), '-crl_check_all', '-CAfile', p(`${kind}-root.pem`),
        '-untrusted', p(`${kind}-ca.pem`), '-CRLfile', p(`${kind}-ca.crl`), '-CRLfile', p(`${kind}-root.crl`)]; // prettier-ignore
      const r = run('verify', ...check, p(`${kind}-doctor.pem`));
      expect(r.stdout + r.stderr).toContain('certificate revoked');
      expect(run('verify', ...check, p(`${kind}-nurse.pem`)).stdout).toContain(': OK');
    }
  });

  it('signs CMS with a leaf key that verifies under the test root', () => {
    const content = new TextEncoder().encode('检验报告');
    const cms = buildSignedData({
      content,
      signers: [{ signer: nurse.signer, certificate: nurse.der, signingTime: NOW }],
      certificates: [ca.der],
    });
    expect(verifySignedData(cms, { trustAnchors: [root.cert], policy }).failures).toEqual([]);
  });

  it('refuses to revoke a certificate of another CA', () => {
    expect(() => root.revoke(doctor)).toThrow(expect.objectContaining({ code: 'PKI_INVALID_ARGUMENT' }));
  });
});
