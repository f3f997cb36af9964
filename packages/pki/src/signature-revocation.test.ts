import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crlRevocationSource } from './chain.js';
import { createCmsVerifier } from './cms-verifier.js';
import { ocspRevocationSource } from './ocsp-source.js';
import { verifyRawSignature } from './raw-signature.js';
import { buildSignedData } from './signed-data-builder.js';
import { verifySignedData } from './signed-data.js';
import { TestPki, ocspResponse, type TestCertificate } from './testing/index.js';
import { opensslWorkdir } from './testing/openssl.js';

/**
 * Revocation through the signature verifiers: a CMS (openssl cms -sign and buildSignedData) and a raw signature
 * (openssl dgst -sign) by a revoked and by a good leaf, checked against a CRL, an OCSP response, the CRLs
 * carried in the CMS, and nothing.
 */
const w = opensslWorkdir('pki-sig-rev');
const p = w.path;
const openssl = w.run;
const HOUR = 3_600_000;
const pki = new TestPki({ seed: 'signature-revocation', kind: 'p256' });
const root = pki.root({ subject: { CN: '签名吊销根CA' } });
const good = root.leaf({ subject: { CN: '医生甲' } });
const bad = root.leaf({ subject: { CN: '医生乙' } });
root.revoke(bad, { at: new Date(pki.now.getTime() - HOUR), reason: 'keyCompromise' });
const crl = root.crl();
const ocsp = ocspResponse(root, { certificates: [good, bad] });
const at = new Date(pki.now.getTime() + HOUR);
const content = new TextEncoder().encode('处方：阿莫西林 0.5g tid');
writeFileSync(p('data'), content);

function opensslCms(leaf: TestCertificate, name: string): Uint8Array {
  writeFileSync(p(`${name}.pem`), leaf.pem);
  writeFileSync(p(`${name}.key`), leaf.privateKeyPem);
  openssl('cms', '-sign', '-binary', '-nodetach', '-in', p('data'), '-signer', p(`${name}.pem`),
    '-inkey', p(`${name}.key`), '-outform', 'DER', '-out', p(`${name}.p7s`)); // prettier-ignore
  return new Uint8Array(readFileSync(p(`${name}.p7s`)));
}
function opensslRaw(leaf: TestCertificate, name: string): Uint8Array {
  writeFileSync(p(`${name}.key`), leaf.privateKeyPem);
  openssl('dgst', '-sha256', '-sign', p(`${name}.key`), '-out', p(`${name}.sig`), p('data'));
  return new Uint8Array(readFileSync(p(`${name}.sig`)));
}
const cmsGood = opensslCms(good, 'good');
const cmsBad = opensslCms(bad, 'bad');
const base = { trustAnchors: [root.cert], at };
const codes = (r: { failures: readonly { code: string }[] }): string[] => r.failures.map((f) => f.code);

describe('verifySignedData with revocation', () => {
  for (const [label, source] of [
    ['CRL', () => crlRevocationSource([crl])],
    ['OCSP', () => ocspRevocationSource([ocsp])],
  ] as const) {
    it(`${label}: a CMS by a revoked leaf fails with PKI_REVOKED in 'require' mode, per signer`, () => {
      const r = verifySignedData(cmsBad, { ...base, revocation: { sources: [source()], mode: 'require' } });
      expect(r.valid).toBe(false);
      expect(r.failures.map((f) => [f.code, f.signerIndex, f.chainIndex, f.check])).toEqual([
        ['PKI_REVOKED', 0, 0, 'revocation'],
      ]);
      const check = r.signers[0]?.revocation[0];
      expect(check?.status).toMatchObject({
        status: 'revoked',
        source: label.toLowerCase(),
        reason: 'keyCompromise',
      });
      expect(check?.certificate).toBe(bad.cert.subject);
    });

    it(`${label}: a CMS by a good leaf passes, with the answer reported`, () => {
      const r = verifySignedData(cmsGood, { ...base, revocation: { sources: [source()], mode: 'require' } });
      expect(r.failures).toEqual([]);
      expect(r.signers[0]?.revocation.map((c) => c.status?.status)).toEqual(['good']);
    });
  }

  it("no revocation data: 'require' → PKI_REVOCATION_UNKNOWN, 'prefer' passes and says so", () => {
    const req = verifySignedData(cmsGood, { ...base, revocation: { sources: [], mode: 'require' } });
    expect(codes(req)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    expect(req.failures[0]?.signerIndex).toBe(0);
    expect(req.signers[0]?.revocation[0]?.status).toBeUndefined();
    const pref = verifySignedData(cmsGood, { ...base, revocation: { sources: [], mode: 'prefer' } });
    expect(pref.failures).toEqual([]);
    expect(pref.signers[0]?.revocation[0]?.explanation).toContain('prefer');
  });

  it('without revocation nothing is checked and nothing reported', () => {
    const r = verifySignedData(cmsBad, base);
    expect(r.failures).toEqual([]);
    expect(r.signers[0]?.revocation).toEqual([]);
  });

  it('embeddedCrls: the CRL carried in the CMS is a source only when asked for', () => {
    const withCrl = (leaf: TestCertificate) =>
      buildSignedData({ content, signers: [{ signer: leaf.signer, certificate: leaf.der }], crls: [crl] });
    const mode = 'require' as const;
    const bad1 = verifySignedData(withCrl(bad), {
      ...base,
      revocation: { sources: [], mode, embeddedCrls: true },
    });
    expect(codes(bad1)).toEqual(['PKI_REVOKED']);
    const good1 = verifySignedData(withCrl(good), {
      ...base,
      revocation: { sources: [], mode, embeddedCrls: true },
    });
    expect(good1.failures).toEqual([]);
    expect(good1.signers[0]?.revocation[0]?.status?.source).toBe('crl');
    const off = verifySignedData(withCrl(bad), { ...base, revocation: { sources: [], mode } });
    expect(codes(off)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    // The cached verifier passes the same options through.
    const cached = createCmsVerifier({
      trustAnchors: [root.cert],
      revocation: { sources: [], mode, embeddedCrls: true },
    });
    expect(codes(cached.verify(withCrl(bad), { at }))).toEqual(['PKI_REVOKED']);
    expect(cached.verify(withCrl(good), { at }).failures).toEqual([]);
  });

  it('an embedded CRL not signed by the issuer is not used', () => {
    // Another key under the same issuer name: its CRL does not verify under the real issuer.
    const other = new TestPki({ seed: 'other-key', kind: 'p256' }).root({ subject: { CN: '签名吊销根CA' } });
    const forged = other.crl();
    const cms = buildSignedData({
      content,
      signers: [{ signer: bad.signer, certificate: bad.der }],
      crls: [forged],
    });
    const r = verifySignedData(cms, {
      ...base,
      revocation: { sources: [], mode: 'require', embeddedCrls: true },
    });
    expect(codes(r)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    expect(r.signers[0]?.revocation[0]?.explanation).toContain('PKI_CRL_SIGNATURE_INVALID');
  });

  it('revocation without trustAnchors is PKI_INVALID_ARGUMENT', () => {
    const r = verifySignedData(cmsGood, {
      at,
      revocation: { sources: [crlRevocationSource([crl])], mode: 'require' },
    });
    expect(r.failures.map((f) => [f.code, f.check])).toEqual([['PKI_INVALID_ARGUMENT', 'revocation']]);
  });
});

describe('verifyRawSignature with revocation', () => {
  const sigGood = opensslRaw(good, 'good');
  const sigBad = opensslRaw(bad, 'bad');
  const raw = (leaf: TestCertificate, signature: Uint8Array) => ({
    certificate: leaf.der,
    data: content,
    signature,
  });

  it("a revoked leaf fails with PKI_REVOKED in 'require' mode (CRL and OCSP)", () => {
    for (const sources of [[crlRevocationSource([crl])], [ocspRevocationSource([ocsp])]]) {
      const r = verifyRawSignature({
        ...raw(bad, sigBad),
        chain: base,
        revocation: { sources, mode: 'require' },
      });
      expect(r.failures.map((f) => [f.code, f.chainIndex])).toEqual([['PKI_REVOKED', 0]]);
      expect(r.revocation[0]?.status?.status).toBe('revoked');
    }
  });

  it('a good leaf passes; the base64 form too', () => {
    const sources = [ocspRevocationSource([ocsp]), crlRevocationSource([crl])];
    const r = verifyRawSignature({
      ...raw(good, sigGood),
      signature: Buffer.from(sigGood).toString('base64'),
      chain: base,
      revocation: { sources, mode: 'require' },
    });
    expect(r.failures).toEqual([]);
    expect(r.revocation.map((c) => c.status?.source)).toEqual(['ocsp']);
  });

  it("missing data in 'require' mode → PKI_REVOCATION_UNKNOWN; chain.revocation is honoured as well", () => {
    const none = { sources: [], mode: 'require' as const };
    expect(codes(verifyRawSignature({ ...raw(good, sigGood), chain: base, revocation: none }))).toEqual([
      'PKI_REVOCATION_UNKNOWN',
    ]);
    expect(
      codes(verifyRawSignature({ ...raw(good, sigGood), chain: { ...base, revocation: none } })),
    ).toEqual(['PKI_REVOCATION_UNKNOWN']);
  });

  it('revocation without chain is PKI_INVALID_ARGUMENT', () => {
    const r = verifyRawSignature({ ...raw(good, sigGood), revocation: { sources: [], mode: 'require' } });
    expect(r.failures.map((f) => [f.code, f.check])).toEqual([['PKI_INVALID_ARGUMENT', 'revocation']]);
  });
});
