import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCmsVerifier } from './cms-verifier.js';
import { childrenOf, scanDer, tlvBytes } from './der.js';
import { explicit, sequence, setOf } from './der-writer.js';
import { PkiError } from './errors.js';
import { Prng, mutate } from './fuzz/mutate.js';
import { buildSignedData } from './signed-data-builder.js';
import { parseSignedData, verifySignedData } from './signed-data.js';
import { TestPki } from './testing/index.js';
import { opensslWorkdir } from './testing/openssl.js';

/** SignedData carrying CRLs ([1] IMPLICIT RevocationInfoChoices): openssl crl2pkcs7, openssl cms -sign, ours. */
const w = opensslWorkdir('pki-cms-crls');
const p = w.path;
const openssl = w.run;

const pki = new TestPki({ seed: 'cms-crls', kind: 'p256' });
const root = pki.root({ subject: { CN: '吊销列表根CA' } });
const leaf = root.leaf({ subject: { CN: '医生李四' } });
const gone = root.leaf({ subject: { CN: '医生王五' } });
root.revoke(gone, { reason: 'keyCompromise' });
const crl = root.crl();
writeFileSync(p('root.pem'), root.pem);
writeFileSync(p('leaf.pem'), leaf.pem);
writeFileSync(p('leaf.key'), leaf.privateKeyPem);
writeFileSync(p('root.crl'), crl);
writeFileSync(p('data'), '出院小结');

describe('parseSignedData with CRLs', () => {
  it('reads openssl crl2pkcs7 (no signers) and exposes the CRL', () => {
    openssl('crl2pkcs7', '-inform', 'DER', '-in', p('root.crl'), '-certfile', p('root.pem'), '-outform', 'DER', '-out', p('c2p.der')); // prettier-ignore
    const sd = parseSignedData(readFileSync(p('c2p.der')));
    expect(sd.signers).toEqual([]);
    expect(sd.certificates.map((c) => c.subject)).toEqual(['CN=吊销列表根CA']);
    expect(sd.crls).toHaveLength(1);
    expect(Buffer.from(sd.crls[0]!.der).equals(Buffer.from(crl))).toBe(true);
    expect(sd.crls[0]?.entries.get(gone.cert.serialHex)?.reason).toBe('keyCompromise');
  });

  it('reads openssl cms -sign output with a CRL spliced in, which openssl still verifies and prints', () => {
    // OpenSSL 3.0's cms has no -crlfile: sign with openssl, then insert crls [1] before signerInfos.
    openssl('cms', '-sign', '-binary', '-in', p('data'), '-signer', p('leaf.pem'), '-inkey', p('leaf.key'),
      '-outform', 'DER', '-out', p('signed.der'), '-nodetach'); // prettier-ignore
    const signed = new Uint8Array(readFileSync(p('signed.der')));
    const ci = childrenOf(signed, scanDer(signed));
    const sdTlv = childrenOf(signed, ci[1]!)[0]!;
    const parts = childrenOf(signed, sdTlv).map((t) => tlvBytes(signed, t));
    const sdWithCrl = sequence(...parts.slice(0, -1), setOf([crl], 0xa1), parts[parts.length - 1]!);
    const der = sequence(tlvBytes(signed, ci[0]!), explicit(0, sdWithCrl));
    writeFileSync(p('signed-crl.der'), der);
    openssl('cms', '-verify', '-binary', '-inform', 'DER', '-in', p('signed-crl.der'), '-CAfile', p('root.pem'), '-purpose', 'any', '-out', p('out')); // prettier-ignore
    const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', p('signed-crl.der')]).toString(); // prettier-ignore
    expect(printed).toMatch(/crls:\s+d.crl:/);
    for (const sd of [parseSignedData(der), createCmsVerifier().parse(der)]) {
      expect(sd.signers).toHaveLength(1);
      expect(sd.crls.map((c) => c.issuer)).toEqual(['CN=吊销列表根CA']);
      expect(sd.crls[0]?.entries.has(gone.cert.serialHex)).toBe(true);
    }
    expect(verifySignedData(der, { trustAnchors: [root.cert], at: pki.now }).failures).toEqual([]);
  });

  it('reads buildSignedData({ crls }) with two CRLs, in order', () => {
    const other = new TestPki({ seed: 'cms-crls-2', kind: 'sm2' }).root({ subject: { CN: '另一CA' } });
    const cms = buildSignedData({
      content: new TextEncoder().encode('x'),
      signers: [{ signer: leaf.signer, certificate: leaf.der }],
      crls: [crl, other.crl()],
    });
    for (const sd of [parseSignedData(cms), createCmsVerifier().parse(cms)])
      expect(sd.crls.map((c) => c.issuer).sort()).toEqual(['CN=另一CA', 'CN=吊销列表根CA']); // DER SET OF order
  });

  it('an OtherRevocationInfoFormat is kept by parseSignedData, refused by the cached verifier', () => {
    const format = Uint8Array.from([0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02]); // 1.3.6.1.5.5.7.16.2
    const otherInfo = Uint8Array.from([0xa1, 0x0e, ...format, 0x04, 0x02, 0xca, 0xfe]);
    const cms = buildSignedData({
      content: new TextEncoder().encode('x'),
      signers: [{ signer: leaf.signer, certificate: leaf.der }],
      crls: [crl, otherInfo],
    });
    const sd = parseSignedData(cms);
    expect(sd.crls).toHaveLength(1);
    expect(sd.otherRevocationInfo.map((o) => [o.format, Buffer.from(o.value).toString('hex')])).toEqual([
      ['1.3.6.1.5.5.7.16.2', '0402cafe'],
    ]);
    expect(() => createCmsVerifier().parse(cms)).toThrow(
      expect.objectContaining({ code: 'PKI_ASN1_INVALID' }),
    );
  });

  it('a malformed CRL or RevocationInfoChoice is PKI_ASN1_INVALID, never a TypeError', () => {
    const broken = Uint8Array.from(crl);
    const tbs = childrenOf(crl, scanDer(crl))[0];
    broken[tbs?.start ?? 0] = 0x31; // tbsCertList as a SET: not a CertificateList
    const shortOther = Uint8Array.from([0xa1, 0x03, 0x02, 0x01, 0x01]); // [1] { INTEGER }: no OID, no value
    const wrongChoice = Uint8Array.from([0x04, 0x01, 0x00]);
    for (const inner of [broken, shortOther, wrongChoice]) {
      const cms = buildSignedData({
        content: new TextEncoder().encode('x'),
        signers: [{ signer: leaf.signer, certificate: leaf.der }],
        crls: [inner],
      });
      expect(() => parseSignedData(cms)).toThrow(expect.objectContaining({ code: 'PKI_ASN1_INVALID' }));
      expect(() => createCmsVerifier().parse(cms)).toThrow(
        expect.objectContaining({ code: 'PKI_ASN1_INVALID' }),
      );
    }
  });
});

describe('CRL-bearing SignedData under mutation', () => {
  it('1,000 mutations: both parsers throw only PkiErrors, verifySignedData never throws', () => {
    const seed = buildSignedData({
      content: new TextEncoder().encode('x'),
      signers: [{ signer: leaf.signer, certificate: leaf.der }],
      crls: [crl],
    });
    const rng = new Prng(20261201);
    const cached = createCmsVerifier();
    for (let i = 0; i < 1000; i++) {
      const m = mutate(seed, rng, [crl]);
      for (const parse of [parseSignedData, (b: Uint8Array) => cached.parse(b)]) {
        try {
          parse(m);
        } catch (e) {
          expect(e).toBeInstanceOf(PkiError);
        }
      }
      expect(() =>
        verifySignedData(m, { revocation: { sources: [], mode: 'prefer', embeddedCrls: true } }),
      ).not.toThrow();
    }
  });
});
