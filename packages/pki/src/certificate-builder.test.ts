import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2 } from '@yizheng/gm';
import { describe, expect, it } from 'vitest';
import { OID } from './algorithms.js';
import { buildCertificate } from './certificate-builder.js';
import { isSignedBy, parseCertificate, type ParsedCertificate } from './certificate.js';
import { EKU, KEY_USAGE, crlRevocationSource, verifyChain } from './chain.js';
import { buildCrl } from './crl-builder.js';
import { parseCrl, verifyCrl } from './crl.js';
import { toPem } from './der.js';
import { utf8String } from './der-writer.js';
import { isPkiError } from './errors.js';
import { keyUsageNames, type ExtensionsInput } from './extensions.js';
import { encodeName } from './name.js';
import { signerFromKeyObject, signerFromSm2Key, type Signer } from './signer.js';
import { gmSm2Provider } from './sm2.js';

const dir = mkdtempSync(join(tmpdir(), 'pki-build-'));
const p = (f: string): string => join(dir, f);
const openssl = (...args: string[]): string => execFileSync('openssl', args, { encoding: 'utf8' });
const run = (...args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });
const policy = { sm2: gmSm2Provider };

type Kind = 'rsa' | 'p256' | 'sm2';
function newSigner(kind: Kind): Signer {
  if (kind === 'sm2') return signerFromSm2Key(sm2.generateKeyPair().privateKey);
  const kp =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return signerFromKeyObject(kp.privateKey);
}

const T0 = new Date('2026-01-01T00:00:00Z');
const YEAR = 365 * 86_400_000;
const at = (ms: number): Date => new Date(T0.getTime() + ms);

const CA_EXT: ExtensionsInput = {
  basicConstraints: { ca: true },
  keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
};

interface Pki {
  root: ParsedCertificate;
  inter: ParsedCertificate;
  leaf: ParsedCertificate;
  interSigner: Signer;
  rootSigner: Signer;
}

function makePki(kind: Kind): Pki {
  const rootSigner = newSigner(kind);
  const interSigner = newSigner(kind);
  const leafSigner = newSigner(kind);
  const root = parseCertificate(
    buildCertificate({
      subject: { C: 'CN', ST: '北京市', O: '医证测试', CN: `医证根CA ${kind}` },
      serial: 1n,
      notBefore: T0,
      notAfter: at(20 * YEAR),
      extensions: CA_EXT,
      signer: rootSigner,
    }),
  );
  const inter = parseCertificate(
    buildCertificate({
      subject: { C: 'CN', O: '医证测试', OU: '信息中心', CN: `医证中级CA ${kind}` },
      issuer: root,
      subjectPublicKeyInfo: interSigner.publicKeyInfo,
      serial: 0x1000n,
      notBefore: T0,
      notAfter: at(10 * YEAR),
      extensions: { ...CA_EXT, basicConstraints: { ca: true, pathLength: 0 } },
      signer: rootSigner,
    }),
  );
  const leaf = parseCertificate(
    buildCertificate({
      subject: {
        C: 'CN',
        L: '海淀区',
        O: '北京某某医院',
        OU: '心内科',
        CN: `张医生 ${kind}`,
        emailAddress: 'zhang@example.cn',
      },
      issuer: inter,
      subjectPublicKeyInfo: leafSigner.publicKeyInfo,
      serial: Uint8Array.from([0x8f, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      notBefore: T0,
      notAfter: at(2 * YEAR),
      extensions: {
        basicConstraints: { ca: false, critical: false },
        keyUsage: { usages: ['digitalSignature', 'nonRepudiation'] },
        extKeyUsage: { purposes: ['clientAuth', 'emailProtection'] },
        subjectAltName: [
          { email: 'zhang@example.cn' },
          { dns: 'his.example.cn' },
          { ip: '10.0.0.8' },
          { ip: 'fd00::1' },
        ],
        crlDistributionPoints: ['http://ca.example.cn/inter.crl'],
        authorityInfoAccess: {
          ocsp: ['http://ocsp.example.cn'],
          caIssuers: ['http://ca.example.cn/inter.cer'],
        },
        certificatePolicies: [
          {
            oid: '1.2.156.112562.2.1.1.1',
            cps: 'http://ca.example.cn/cps',
            userNotice: '仅用于医疗文书签名',
          },
        ],
        extra: [{ oid: '1.2.156.10260.4.1.1', value: utf8String('110101199001011234') }],
      },
      signer: interSigner,
    }),
  );
  return { root, inter, leaf, interSigner, rootSigner };
}

const pkis: Record<Kind, Pki> = { rsa: makePki('rsa'), p256: makePki('p256'), sm2: makePki('sm2') };
for (const [kind, k] of Object.entries(pkis)) {
  writeFileSync(p(`${kind}-root.pem`), toPem(k.root.der, 'CERTIFICATE'));
  writeFileSync(p(`${kind}-inter.pem`), toPem(k.inter.der, 'CERTIFICATE'));
  writeFileSync(p(`${kind}-leaf.pem`), toPem(k.leaf.der, 'CERTIFICATE'));
}
// The certificates are valid from 2026-01-01: openssl checks at an explicit time inside every validity window.
const ATTIME = String(Math.floor(at(YEAR / 2).getTime() / 1000));

describe.each(['rsa', 'p256', 'sm2'] as const)('buildCertificate (%s)', (kind) => {
  const { root, inter, leaf } = pkis[kind];

  it('openssl verify -CAfile accepts the chain', () => {
    if (kind === 'sm2') {
      // OpenSSL 3.0 checks SM2 certificate signatures with an empty ID unless -vfyopt gives the GM/T 0009
      // default, and applies -vfyopt to the target certificate only: check each link on its own.
      const vfy = ['-vfyopt', 'distid:1234567812345678'];
      const i = run('verify', '-attime', ATTIME, ...vfy, '-CAfile', p('sm2-root.pem'), p('sm2-inter.pem'));
      expect(i.stdout).toContain(': OK');
      const l = run('verify', '-attime', ATTIME, ...vfy, '-partial_chain', '-CAfile', p('sm2-inter.pem'), p('sm2-leaf.pem')); // prettier-ignore
      expect(l.stdout).toContain(': OK');
      const noId = run('verify', '-attime', ATTIME, '-CAfile', p('sm2-root.pem'), p('sm2-inter.pem'));
      expect(noId.status).not.toBe(0);
      return;
    }
    const r = run(
      'verify', '-attime', ATTIME, '-CAfile', p(`${kind}-root.pem`), '-untrusted', p(`${kind}-inter.pem`),
      p(`${kind}-leaf.pem`),
    ); // prettier-ignore
    expect(r.stdout + r.stderr).toContain(': OK');
    expect(r.status).toBe(0);
    // And rejects it against another root.
    const other = kind === 'rsa' ? 'p256' : 'rsa';
    const bad = run('verify', '-attime', ATTIME, '-CAfile', p(`${other}-root.pem`), '-untrusted', p(`${kind}-inter.pem`), p(`${kind}-leaf.pem`)); // prettier-ignore
    expect(bad.status).not.toBe(0);
  });

  it('openssl x509 -text shows every extension with its value', () => {
    const text = openssl('x509', '-in', p(`${kind}-leaf.pem`), '-noout', '-text', '-nameopt', 'utf8');
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain('8f:01:02:03:04:05:06:07:08:09');
    expect(text).toContain('CN=张医生');
    expect(text).toContain('OU=心内科');
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Client Authentication, E-mail Protection/);
    expect(text).toMatch(/X509v3 Basic Constraints:\s+CA:FALSE/);
    expect(text).toMatch(
      /X509v3 Subject Alternative Name:\s+email:zhang@example.cn, DNS:his.example.cn, IP Address:10.0.0.8, IP Address:FD00:0:0:0:0:0:0:1/,
    );
    expect(text).toMatch(
      /X509v3 CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/ca.example.cn\/inter.crl/,
    );
    expect(text).toMatch(/OCSP - URI:http:\/\/ocsp.example.cn/);
    expect(text).toMatch(/CA Issuers - URI:http:\/\/ca.example.cn\/inter.cer/);
    expect(text).toMatch(
      /Policy: 1.2.156.112562.2.1.1.1\s+CPS: http:\/\/ca.example.cn\/cps\s+User Notice:\s+Explicit Text: 仅用于医疗文书签名/,
    );
    expect(text).toContain('1.2.156.10260.4.1.1:');
    const ski = (c: string) =>
      /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(openssl('x509', '-in', p(c), '-noout', '-text'))?.[1];
    expect(text).toMatch(
      new RegExp(`Authority Key Identifier:\\s+(keyid:)?${ski(`${kind}-inter.pem`) ?? 'none'}`),
    );
    if (kind === 'sm2') {
      expect(text).toContain('Signature Algorithm: SM2-with-SM3');
      expect(text).toMatch(/ASN1 OID: SM2/);
    }
  });

  it('our parser reads every field back', () => {
    expect(leaf.version).toBe(3);
    expect(leaf.subject).toBe(
      `emailAddress=zhang@example.cn,CN=张医生 ${kind},OU=心内科,O=北京某某医院,L=海淀区,C=CN`,
    );
    expect(leaf.issuer).toBe(inter.subject);
    expect(leaf.serialHex).toBe('8f010203040506070809');
    expect(leaf.notAfter.toISOString()).toBe(at(2 * YEAR).toISOString());
    expect(keyUsageNames(leaf.keyUsage ?? 0)).toEqual(['digitalSignature', 'nonRepudiation']);
    expect(leaf.extKeyUsage).toEqual([EKU.clientAuth, EKU.emailProtection]);
    expect(leaf.basicConstraints).toEqual({ ca: false, pathLength: undefined });
    expect(inter.basicConstraints).toEqual({ ca: true, pathLength: 0 });
    expect(leaf.subjectAltName).toEqual([
      { type: 'email', value: 'zhang@example.cn' },
      { type: 'dns', value: 'his.example.cn' },
      { type: 'ip', value: '10.0.0.8' },
      { type: 'ip', value: 'fd00::1' },
    ]);
    expect(leaf.crlDistributionPoints).toEqual([{ type: 'uri', value: 'http://ca.example.cn/inter.crl' }]);
    expect(leaf.authorityInfoAccess).toEqual({
      ocsp: ['http://ocsp.example.cn'],
      caIssuers: ['http://ca.example.cn/inter.cer'],
    });
    expect(leaf.certificatePolicies).toEqual([
      { oid: '1.2.156.112562.2.1.1.1', cps: 'http://ca.example.cn/cps', userNotice: '仅用于医疗文书签名' },
    ]);
    expect(
      Buffer.from(leaf.authorityKeyIdentifier?.keyIdentifier ?? []).equals(
        Buffer.from(inter.subjectKeyIdentifier ?? [1]),
      ),
    ).toBe(true);
    expect(
      Buffer.from(root.authorityKeyIdentifier?.keyIdentifier ?? []).equals(
        Buffer.from(root.subjectKeyIdentifier ?? [1]),
      ),
    ).toBe(true);
    const extra = leaf.extensions.find((e) => e.oid === '1.2.156.10260.4.1.1');
    expect(extra?.critical).toBe(false);
    expect(Buffer.from(extra?.value ?? []).equals(Buffer.from(utf8String('110101199001011234')))).toBe(true);
    if (kind === 'sm2') expect(leaf.signatureAlgorithm).toBe(OID.sm3WithSm2);
  });

  it('our chain validation accepts it at a time inside the windows, not after', () => {
    const opts = {
      trustAnchors: [root],
      intermediates: [inter],
      policy,
      keyUsage: KEY_USAGE.digitalSignature,
    };
    expect(verifyChain(leaf, { ...opts, at: at(YEAR) }).failures).toEqual([]);
    expect(verifyChain(leaf, { ...opts, at: at(3 * YEAR) }).failures.map((f) => f.code)).toEqual([
      'PKI_CERT_EXPIRED',
    ]);
  });

  it('a CRL we build: openssl crl -verify accepts it, the revoked leaf fails our chain with PKI_REVOKED', () => {
    const crl = buildCrl({
      issuer: inter,
      signer: pkis[kind].interSigner,
      thisUpdate: at(YEAR),
      nextUpdate: at(YEAR + 7 * 86_400_000),
      crlNumber: 42n,
      entries: [
        {
          serial: leaf,
          revocationDate: at(YEAR - 86_400_000),
          reason: 'keyCompromise',
          invalidityDate: at(YEAR - 2 * 86_400_000),
        },
        { serial: 0x77n, revocationDate: at(YEAR - 86_400_000), reason: 'unspecified' },
      ],
    });
    writeFileSync(p(`${kind}.crl`), toPem(crl, 'X509 CRL'));
    if (kind === 'sm2') {
      // `openssl crl -verify` (3.0) has no -vfyopt and checks SM2 with an empty ID: check the signature over
      // tbsCertList with openssl dgst and the GM/T 0009 default ID instead.
      const parsed = parseCrl(crl);
      writeFileSync(p('sm2crl.tbs'), parsed.tbs);
      writeFileSync(p('sm2crl.sig'), parsed.signature);
      writeFileSync(p('sm2inter.pub'), toPem(inter.spki, 'PUBLIC KEY'));
      const d = run('dgst', '-sm3', '-verify', p('sm2inter.pub'), '-sigopt', 'distid:1234567812345678', '-signature', p('sm2crl.sig'), p('sm2crl.tbs')); // prettier-ignore
      expect(d.stdout).toContain('Verified OK');
    } else {
      const v = run('crl', '-in', p(`${kind}.crl`), '-noout', '-verify', '-CAfile', p(`${kind}-inter.pem`));
      expect(v.stdout + v.stderr).toContain('verify OK');
      // A flipped bit in tbsCertList: openssl rejects it.
      const bad = Uint8Array.from(crl);
      bad[bad.length - 300] = (bad[bad.length - 300] ?? 0) ^ 0x01;
      writeFileSync(p(`${kind}-bad.crl`), bad);
      const vb = run('crl', '-inform', 'DER', '-in', p(`${kind}-bad.crl`), '-noout', '-verify', '-CAfile', p(`${kind}-inter.pem`)); // prettier-ignore
      expect(vb.stdout + vb.stderr).not.toContain('verify OK');
    }
    const text = openssl('crl', '-in', p(`${kind}.crl`), '-noout', '-text');
    expect(text).toMatch(/X509v3 CRL Number:\s+42/);
    expect(text).toMatch(
      /Serial Number: 8F010203040506070809\s+Revocation Date: Dec 31 00:00:00 2026 GMT\s+CRL entry extensions:\s+X509v3 CRL Reason Code:\s+Key Compromise/,
    );
    expect(text).toContain('Invalidity Date');
    expect(text).toMatch(/Serial Number: 77\s+Revocation Date/);
    const parsed = parseCrl(crl);
    verifyCrl(parsed, inter, { at: at(YEAR + 1000), policy });
    expect(parsed.crlNumber).toBe(42n);
    expect(parsed.entries.get('77')?.reason).toBeUndefined();
    const r = verifyChain(leaf, {
      trustAnchors: [root],
      intermediates: [inter],
      policy,
      at: at(YEAR + 1000),
      revocation: { sources: [crlRevocationSource([crl], { policy })], mode: 'require' },
    });
    expect(r.failures.map((f) => [f.code, f.chainIndex])).toEqual([
      ['PKI_REVOKED', 0],
      ['PKI_REVOCATION_UNKNOWN', 1], // no CRL of the root for the intermediate
    ]);
    expect(r.revocation[0]?.explanation).toContain('keyCompromise');
  });
});

describe('openssl-made certificates with every extension, read by ours', () => {
  it('RSA and SM2 (openssl req -x509 -sm3 -sigopt distid:1234567812345678)', () => {
    writeFileSync(
      p('all.cnf'),
      `[req]\ndistinguished_name=dn\nstring_mask=utf8only\n[dn]\n[all]\nbasicConstraints=critical,CA:TRUE,pathlen:2\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nextendedKeyUsage=critical,timeStamping,OCSPSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=DNS:tsa.example.cn,URI:http://tsa.example.cn,email:tsa@example.cn\ncrlDistributionPoints=URI:http://crl.example.cn/a.crl,URI:ldap://crl.example.cn/a\nauthorityInfoAccess=OCSP;URI:http://ocsp.example.cn,caIssuers;URI:http://ca.example.cn/ca.cer\ncertificatePolicies=1.2.3.4,@pol\n1.2.3.5.6=critical,ASN1:UTF8String:unknown-ext\n[pol]\npolicyIdentifier=1.2.156.1\nCPS.1=http://ca.example.cn/cps\n`,
    );
    for (const [kind, gen, sig] of [
      ['rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ['-sha256']],
      [
        'sm2',
        ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'],
        ['-sm3', '-sigopt', 'distid:1234567812345678'],
      ],
    ] as const) {
      openssl('genpkey', ...gen, '-out', p(`o-${kind}.key`));
      openssl('req', '-x509', '-key', p(`o-${kind}.key`), ...sig, '-out', p(`o-${kind}.pem`), '-subj', '/C=CN/O=时间戳中心/CN=测试TSA',
        '-utf8', '-days', '30', '-config', p('all.cnf'), '-extensions', 'all'); // prettier-ignore
      const c = parseCertificate(readFileSync(p(`o-${kind}.pem`), 'utf8'));
      expect(c.subject).toBe('CN=测试TSA,O=时间戳中心,C=CN');
      expect(c.basicConstraints).toEqual({ ca: true, pathLength: 2 });
      expect(keyUsageNames(c.keyUsage ?? 0)).toEqual(['digitalSignature', 'keyCertSign', 'cRLSign']);
      expect(c.extKeyUsage).toEqual([EKU.timeStamping, EKU.ocspSigning]);
      expect(c.extensions.find((e) => e.oid === '2.5.29.37')?.critical).toBe(true);
      expect(c.subjectKeyIdentifier?.length).toBe(20);
      // OpenSSL 3.0 leaves the AKI out of self-signed certificates unless asked with keyid:always.
      expect(c.authorityKeyIdentifier).toBeUndefined();
      expect(c.subjectAltName).toEqual([
        { type: 'dns', value: 'tsa.example.cn' },
        { type: 'uri', value: 'http://tsa.example.cn' },
        { type: 'email', value: 'tsa@example.cn' },
      ]);
      expect(c.crlDistributionPoints?.map((g) => g.value)).toEqual([
        'http://crl.example.cn/a.crl',
        'ldap://crl.example.cn/a',
      ]);
      expect(c.authorityInfoAccess).toEqual({
        ocsp: ['http://ocsp.example.cn'],
        caIssuers: ['http://ca.example.cn/ca.cer'],
      });
      expect(c.certificatePolicies).toEqual([
        { oid: '1.2.3.4' },
        { oid: '1.2.156.1', cps: 'http://ca.example.cn/cps' },
      ]);
      const unknown = c.extensions.find((e) => e.oid === '1.2.3.5.6');
      expect(unknown?.critical).toBe(true);
      expect(Buffer.from(unknown?.value ?? []).equals(Buffer.from(utf8String('unknown-ext')))).toBe(true);
      // Self-signed, verified with ours (SM2 with the default ID); the unknown critical extension fails.
      expect(isSignedBy(c, c, policy)).toBe(true);
      const r = verifyChain(c, { trustAnchors: [c], at: new Date(), policy });
      expect(r.failures.map((f) => f.code)).toEqual(['PKI_UNKNOWN_CRITICAL_EXTENSION']);
      expect(
        verifyChain(c, { trustAnchors: [c], at: new Date(), policy, processedExtensions: ['1.2.3.5.6'] })
          .valid,
      ).toBe(true);
      if (kind === 'sm2') expect(c.signatureAlgorithm).toBe(OID.sm3WithSm2);
    }
  });

  it('an unknown critical extension fails validation with PKI_UNKNOWN_CRITICAL_EXTENSION; processedExtensions lifts it', () => {
    const rootSigner = newSigner('p256');
    const leafSigner = newSigner('p256');
    const root = parseCertificate(
      buildCertificate({
        subject: { CN: '根' },
        serial: 1n,
        notBefore: T0,
        notAfter: at(YEAR),
        extensions: CA_EXT,
        signer: rootSigner,
      }),
    );
    const leaf = parseCertificate(
      buildCertificate({
        subject: { CN: '叶' },
        issuer: root,
        subjectPublicKeyInfo: leafSigner.publicKeyInfo,
        serial: 2n,
        notBefore: T0,
        notAfter: at(YEAR),
        extensions: { extra: [{ oid: '1.2.3.4.5', critical: true, value: Uint8Array.of(5, 0) }] },
        signer: rootSigner,
      }),
    );
    const r = verifyChain(leaf, { trustAnchors: [root], at: at(1000) });
    expect(r.failures.map((f) => [f.code, f.chainIndex, f.check])).toEqual([
      ['PKI_UNKNOWN_CRITICAL_EXTENSION', 0, 'criticalExtension'],
    ]);
    expect(
      verifyChain(leaf, { trustAnchors: [root], at: at(1000), processedExtensions: ['1.2.3.4.5'] }).valid,
    ).toBe(true);
    // openssl agrees.
    writeFileSync(p('crit-root.pem'), toPem(root.der, 'CERTIFICATE'));
    writeFileSync(p('crit-leaf.pem'), toPem(leaf.der, 'CERTIFICATE'));
    const o = run('verify', '-attime', String(Math.floor(at(1000).getTime() / 1000)), '-CAfile', p('crit-root.pem'), p('crit-leaf.pem')); // prettier-ignore
    expect(o.stdout + o.stderr).toContain('unhandled critical extension');
  });
});

describe('SM2 across tools: an openssl CA chain read by ours, our CA issuing from an openssl request', () => {
  it('openssl req/x509 -sm3 -sigopt distid SM2 CA → leaf verifies in our chain validation', () => {
    writeFileSync(
      p('sm2ca.cnf'),
      '[req]\ndistinguished_name=dn\nstring_mask=utf8only\n[dn]\n[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n[ee]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nauthorityKeyIdentifier=keyid\n',
    );
    const sig = ['-sm3', '-sigopt', 'distid:1234567812345678'];
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', p('osm2ca.key'));
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', p('osm2ee.key'));
    openssl('req', '-x509', '-key', p('osm2ca.key'), ...sig, '-subj', '/C=CN/CN=国密根CA', '-utf8', '-days', '30',
      '-config', p('sm2ca.cnf'), '-extensions', 'ca', '-out', p('osm2ca.pem')); // prettier-ignore
    openssl('req', '-new', '-key', p('osm2ee.key'), ...sig, '-subj', '/C=CN/CN=国密用户', '-utf8',
      '-config', p('sm2ca.cnf'), '-out', p('osm2ee.csr')); // prettier-ignore
    // openssl x509 -req checks the request's SM2 self-signature with an empty ID unless -vfyopt says otherwise.
    openssl('x509', '-req', '-in', p('osm2ee.csr'), '-vfyopt', 'distid:1234567812345678', '-CA', p('osm2ca.pem'), '-CAkey', p('osm2ca.key'), ...sig,
      '-set_serial', '4660', '-days', '10', '-extfile', p('sm2ca.cnf'), '-extensions', 'ee', '-out', p('osm2ee.pem')); // prettier-ignore
    const ca = parseCertificate(readFileSync(p('osm2ca.pem'), 'utf8'));
    const ee = parseCertificate(readFileSync(p('osm2ee.pem'), 'utf8'));
    expect(ee.signatureAlgorithm).toBe(OID.sm3WithSm2);
    expect(ee.serialHex).toBe('1234');
    expect(verifyChain(ee, { trustAnchors: [ca], at: new Date(), policy }).failures).toEqual([]);
    // Our SM2 CA issues a certificate for the openssl key; openssl verifies it (with the GM/T 0009 ID).
    const ourCa = newSigner('sm2');
    const ourRoot = parseCertificate(
      buildCertificate({ subject: { C: 'CN', CN: '我们的国密CA' }, serial: 7n, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + YEAR), extensions: CA_EXT, signer: ourCa }),
    ); // prettier-ignore
    const issued = buildCertificate({
      subject: { C: 'CN', CN: '国密用户' },
      issuer: ourRoot,
      subjectPublicKeyInfo: ee.spki,
      serial: 8n,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + YEAR),
      extensions: { keyUsage: { usages: ['digitalSignature'] } },
      signer: ourCa,
    });
    writeFileSync(p('our-sm2-ca.pem'), toPem(ourRoot.der, 'CERTIFICATE'));
    writeFileSync(p('our-sm2-ee.pem'), toPem(issued, 'CERTIFICATE'));
    const r = run(
      'verify',
      '-vfyopt',
      'distid:1234567812345678',
      '-CAfile',
      p('our-sm2-ca.pem'),
      p('our-sm2-ee.pem'),
    );
    expect(r.stdout).toContain(': OK');
  });
});

describe('buildCertificate / buildCrl arguments', () => {
  const s = newSigner('p256');
  const root = parseCertificate(
    buildCertificate({
      subject: { CN: '根' },
      serial: 1n,
      notBefore: T0,
      notAfter: at(YEAR),
      extensions: CA_EXT,
      signer: s,
    }),
  );
  const code = (f: () => unknown): string => {
    try {
      f();
      return 'no error';
    } catch (e) {
      return isPkiError(e) ? e.code : String(e);
    }
  };
  const base = { subject: { CN: 'x' }, serial: 5n, notBefore: T0, notAfter: at(YEAR), signer: s };

  it('rejects inconsistent input with PKI_INVALID_ARGUMENT', () => {
    const other = newSigner('p256');
    expect(
      code(() => buildCertificate({ ...base, signer: other, subjectPublicKeyInfo: s.publicKeyInfo })),
    ).toBe('PKI_INVALID_ARGUMENT');
    expect(
      code(() =>
        buildCertificate({ ...base, issuer: root, signer: other, subjectPublicKeyInfo: other.publicKeyInfo }),
      ),
    ).toBe('PKI_INVALID_ARGUMENT');
    expect(code(() => buildCertificate({ ...base, serial: 0n }))).toBe('PKI_INVALID_ARGUMENT');
    expect(code(() => buildCertificate({ ...base, serial: new Uint8Array(21).fill(1) }))).toBe(
      'PKI_INVALID_ARGUMENT',
    );
    expect(code(() => buildCertificate({ ...base, notAfter: at(-1) }))).toBe('PKI_INVALID_ARGUMENT');
    expect(code(() => buildCertificate({ ...base, subject: { C: '中国' } }))).toBe('PKI_INVALID_ARGUMENT');
    expect(
      code(() =>
        buildCertificate({ ...base, extensions: { basicConstraints: { ca: false, pathLength: 1 } } }),
      ),
    ).toBe('PKI_INVALID_ARGUMENT');
    expect(
      code(() =>
        buildCertificate({
          ...base,
          extensions: {
            extra: [{ oid: '2.5.29.19', value: Uint8Array.of(0x30, 0) }],
            basicConstraints: { ca: true },
          },
        }),
      ),
    ).toBe('PKI_INVALID_ARGUMENT');
    expect(code(() => buildCrl({ issuer: root, signer: other, thisUpdate: T0 }))).toBe(
      'PKI_INVALID_ARGUMENT',
    );
    expect(code(() => buildCrl({ issuer: root, signer: s, thisUpdate: T0, nextUpdate: at(-1) }))).toBe(
      'PKI_INVALID_ARGUMENT',
    );
    expect(code(() => buildCrl({ issuer: root, signer: s, thisUpdate: T0, crlNumber: -1n }))).toBe(
      'PKI_INVALID_ARGUMENT',
    );
  });

  it('writes GeneralizedTime from 2050 (RFC 5280 §4.1.2.5) and a Name from pairs', () => {
    const c = parseCertificate(
      buildCertificate({
        ...base,
        subject: [
          ['O', '医院'],
          ['CN', '甲'],
          ['2.5.4.5', 'ID-1'],
        ],
        notAfter: new Date('2060-01-01T00:00:00Z'),
      }),
    );
    expect(c.notAfter.toISOString()).toBe('2060-01-01T00:00:00.000Z');
    expect(c.subject).toBe('serialNumber=ID-1,CN=甲,O=医院');
    expect(
      Buffer.from(c.subjectDer).equals(
        Buffer.from(
          encodeName([
            ['O', '医院'],
            ['CN', '甲'],
            ['serialNumber', 'ID-1'],
          ]),
        ),
      ),
    ).toBe(true);
    writeFileSync(p('g.pem'), toPem(c.der, 'CERTIFICATE'));
    expect(openssl('x509', '-in', p('g.pem'), '-noout', '-enddate')).toContain('Jan  1 00:00:00 2060 GMT');
  });
});
