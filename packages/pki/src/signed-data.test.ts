import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from './certificate.js';
import type { PkiErrorCode } from './errors.js';
import { parseSignedData, verifySignedData } from './signed-data.js';
import { opensslWorkdir } from './testing/openssl.js';

const w = opensslWorkdir('pki-cms');
const p = w.path;
const openssl = w.run;
const content = new TextEncoder().encode('门诊病历：患者张三，诊断……');
writeFileSync(p('data'), content);
writeFileSync(
  p('ext.cnf'),
  '[req]\ndistinguished_name=dn\n[dn]\n[ee]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\n',
);

const KEYS: Record<string, string[]> = {
  rsa: ['-newkey', 'rsa:2048'],
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
};
for (const [name, key] of Object.entries(KEYS)) {
  openssl(
    'req',
    '-x509',
    ...key,
    '-nodes',
    '-keyout',
    p(`${name}.key`),
    '-out',
    p(`${name}.pem`),
    '-subj',
    `/CN=签名人${name}`,
    '-utf8',
    '-days',
    '30',
    '-config',
    p('ext.cnf'),
    '-extensions',
    'ee',
  );
}
const certOf = (n: string) => parseCertificate(readFileSync(p(`${n}.pem`), 'utf8'));

let counter = 0;
function cmsSign(signers: string[], flags: string[]): Uint8Array {
  const out = p(`sig${counter++}.der`);
  const signerArgs = signers.flatMap((s) => ['-signer', p(`${s}.pem`), '-inkey', p(`${s}.key`)]);
  openssl(
    'cms',
    '-sign',
    '-binary',
    '-in',
    p('data'),
    ...signerArgs,
    '-md',
    'sha256',
    '-outform',
    'DER',
    '-out',
    out,
    ...flags,
  );
  return new Uint8Array(readFileSync(out));
}

const codes = (r: { failures: readonly { code: PkiErrorCode }[] }): PkiErrorCode[] =>
  r.failures.map((f) => f.code);

describe.each(['rsa', 'p256'])('openssl cms -sign (%s) verified by ours', (name) => {
  const cert = certOf(name);
  const anchors = [cert];

  it('attached, with signed attributes, chain at signingTime', () => {
    const r = verifySignedData(cmsSign([name], ['-nodetach']), { trustAnchors: anchors });
    expect(r.failures).toEqual([]);
    expect(r.valid).toBe(true);
    expect(Buffer.from(r.content ?? []).toString()).toBe(Buffer.from(content).toString());
    expect(r.signers[0]?.signingTime).toBeInstanceOf(Date);
    expect(r.signers[0]?.certificate?.subject).toBe(`CN=签名人${name}`);
  });

  it('detached, with and without signed attributes', () => {
    const det = cmsSign([name], []);
    expect(verifySignedData(det, { content }).valid).toBe(true);
    expect(codes(verifySignedData(det))).toEqual(['PKI_CMS_CONTENT_MISSING']);
    expect(codes(verifySignedData(det, { content: content.subarray(1) }))).toEqual([
      'PKI_CMS_DIGEST_MISMATCH',
    ]);
    const noattr = cmsSign([name], ['-noattr']);
    expect(parseSignedData(noattr).signers[0]?.signedAttrs).toBeUndefined();
    expect(verifySignedData(noattr, { content }).valid).toBe(true);
    expect(codes(verifySignedData(noattr, { content: content.subarray(1) }))).toEqual([
      'PKI_CMS_SIGNATURE_INVALID',
    ]);
  });

  it('attached without signed attributes, and streamed BER (indefinite lengths)', () => {
    expect(verifySignedData(cmsSign([name], ['-nodetach', '-noattr'])).valid).toBe(true);
    const ber = cmsSign([name], ['-nodetach', '-stream']);
    expect(verifySignedData(ber).valid).toBe(true);
  });

  it('certificates supplied separately, and the SKI signer identifier', () => {
    const nocerts = cmsSign([name], ['-nodetach', '-nocerts']);
    expect(codes(verifySignedData(nocerts))).toEqual(['PKI_CMS_NO_SIGNER_CERT']);
    expect(verifySignedData(nocerts, { certificates: [cert] }).valid).toBe(true);
    expect(verifySignedData(cmsSign([name], ['-nodetach', '-keyid'])).valid).toBe(true);
  });

  it('expired at the validation time, untrusted, trailing garbage', () => {
    const sig = cmsSign([name], ['-nodetach']);
    expect(
      codes(verifySignedData(sig, { trustAnchors: anchors, at: new Date(cert.notAfter.getTime() + 1) })),
    ).toEqual(['PKI_CERT_EXPIRED']);
    expect(codes(verifySignedData(sig, { trustAnchors: [certOf(name === 'rsa' ? 'p256' : 'rsa')] }))).toEqual(
      ['PKI_UNTRUSTED_ROOT'],
    );
    const g = new Uint8Array(sig.length + 2);
    g.set(sig);
    expect(codes(verifySignedData(g))).toEqual(['PKI_ASN1_INVALID']);
  });
});

describe('multiple signers', () => {
  it('RSA and P-256 in one SignedData; a failure names the signer', () => {
    const sig = cmsSign(['rsa', 'p256'], ['-nodetach']);
    const r = verifySignedData(sig);
    expect(r.valid).toBe(true);
    expect(r.signers.map((s) => s.certificate?.subject).sort()).toEqual(['CN=签名人p256', 'CN=签名人rsa']);
    // Flip a byte of the second signer's signature value (at the end of the message).
    const t = Uint8Array.from(sig);
    const sd = parseSignedData(sig);
    const s1 = sd.signers[1]?.signature ?? new Uint8Array();
    const off = s1.byteOffset - sd.der.byteOffset + s1.length - 2;
    t[off] = (t[off] ?? 0) ^ 1;
    const bad = verifySignedData(t);
    expect(bad.failures.map((f) => [f.code, f.signerIndex])).toEqual([['PKI_CMS_SIGNATURE_INVALID', 1]]);
  });
});
