// `yizheng cert|cms|ts` against artefacts made here by the openssl CLI (RSA, P-256, SM2 with distid).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-pki-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string): string => join(dir, name);
const openssl = (...args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
};

function cli(...argv: string[]): Promise<CliResult> {
  return runCli(argv, () => new Uint8Array(readFileSync(p('rsa-sig.der'))));
}

writeFileSync(
  p('ext.cnf'),
  `[req]
distinguished_name=dn
[dn]
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[ee]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
subjectKeyIdentifier=hash
[tsa]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
`,
);

type Kind = 'rsa' | 'p256' | 'sm2';
const KINDS: readonly Kind[] = ['rsa', 'p256', 'sm2'];
const KEYGEN: Record<Kind, string[]> = {
  rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  sm2: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'],
};
const SIGN: Record<Kind, string[]> = {
  rsa: ['-sha256'],
  p256: ['-sha256'],
  sm2: ['-sm3', '-sigopt', 'distid:1234567812345678'],
};
const VFY: Record<Kind, string[]> = { rsa: [], p256: [], sm2: ['-vfyopt', 'distid:1234567812345678'] };

/** Root → intermediate CA → end entities, all of one key kind, with Chinese names. */
function makePki(kind: Kind): void {
  const k = (n: string): string => p(`${kind}-${n}`);
  openssl('genpkey', ...KEYGEN[kind], '-out', k('root.key'));
  openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    k('root.key'),
    ...SIGN[kind],
    '-subj',
    `/C=CN/O=医证测试/CN=${kind} 根CA`,
    '-utf8',
    '-days',
    '3650',
    '-config',
    p('ext.cnf'),
    '-extensions',
    'ca',
    '-out',
    k('root.pem'),
  );
  const issue = (name: string, issuer: string, ext: string, subj: string, days: number): void => {
    openssl('genpkey', ...KEYGEN[kind], '-out', k(`${name}.key`));
    openssl(
      'req',
      '-new',
      '-key',
      k(`${name}.key`),
      ...SIGN[kind],
      '-subj',
      subj,
      '-utf8',
      '-config',
      p('ext.cnf'),
      '-out',
      k(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      k(`${name}.csr`),
      ...VFY[kind],
      '-CA',
      k(`${issuer}.pem`),
      '-CAkey',
      k(`${issuer}.key`),
      '-CAcreateserial',
      ...SIGN[kind],
      '-extfile',
      p('ext.cnf'),
      '-extensions',
      ext,
      '-days',
      String(days),
      '-out',
      k(`${name}.pem`),
    );
  };
  issue('inter', 'root', 'ca', `/C=CN/O=医证测试/CN=${kind} 中级CA`, 1825);
  issue('leaf', 'inter', 'ee', `/C=CN/O=某某医院/CN=${kind} 医生张三`, 365);
  issue('leaf2', 'inter', 'ee', `/C=CN/O=某某医院/CN=${kind} 医生李四`, 365);
  issue('tsa', 'inter', 'tsa', `/C=CN/O=某某医院/CN=${kind} 时间戳服务`, 365);
}
for (const kind of KINDS) makePki(kind);
openssl('x509', '-in', p('rsa-leaf.pem'), '-outform', 'DER', '-out', p('rsa-leaf.der'));
openssl('x509', '-in', p('rsa-root.pem'), '-outform', 'DER', '-out', p('rsa-root.der'));
writeFileSync(p('garbage.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
writeFileSync(
  p('bundle.pem'),
  readFileSync(p('rsa-inter.pem'), 'utf8') + readFileSync(p('p256-root.pem'), 'utf8'),
);

// A CRL from the RSA intermediate (openssl ca) revoking leaf2.
writeFileSync(
  p('ca.cnf'),
  `[ca]
default_ca=d
[d]
database=${p('index.txt')}
crlnumber=${p('crlnumber')}
default_md=sha256
default_crl_days=30
`,
);
writeFileSync(p('index.txt'), '');
writeFileSync(p('crlnumber'), '01\n');
const caArgs = ['-config', p('ca.cnf'), '-keyfile', p('rsa-inter.key'), '-cert', p('rsa-inter.pem')];
openssl('ca', ...caArgs, '-revoke', p('rsa-leaf2.pem'));
openssl('ca', ...caArgs, '-gencrl', '-out', p('rsa.crl.pem'));
openssl('crl', '-in', p('rsa.crl.pem'), '-outform', 'DER', '-out', p('rsa.crl.der'));

const data = '门诊病历：患者王五，诊断：上呼吸道感染。\n';
writeFileSync(p('data.txt'), data);
writeFileSync(p('other.txt'), `${data}（已篡改）`);

function cmsSign(kind: 'rsa' | 'p256', out: string, ...flags: string[]): void {
  openssl(
    'cms',
    '-sign',
    '-binary',
    '-in',
    p('data.txt'),
    '-signer',
    p(`${kind}-leaf.pem`),
    '-inkey',
    p(`${kind}-leaf.key`),
    '-certfile',
    p(`${kind}-inter.pem`),
    '-md',
    'sha256',
    '-outform',
    'DER',
    '-out',
    p(out),
    ...flags,
  );
}
for (const kind of ['rsa', 'p256'] as const) {
  cmsSign(kind, `${kind}-sig.der`, '-nodetach');
  cmsSign(kind, `${kind}-detached.der`);
  cmsSign(kind, `${kind}-noattr.der`, '-nodetach', '-noattr');
}
openssl(
  'cms',
  '-cmsout',
  '-in',
  p('rsa-sig.der'),
  '-inform',
  'DER',
  '-outform',
  'PEM',
  '-out',
  p('rsa-sig.pem'),
);
writeFileSync(p('garbage.p7s'), 'not a CMS message');

const FAR_FUTURE = '2099-01-01T00:00:00Z';

describe('yizheng cert show', () => {
  it.each(KINDS)('prints the fields of an openssl %s certificate', async (kind) => {
    const r = await cli('cert', 'show', '--cert', p(`${kind}-leaf.pem`));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`subject:          CN=${kind} 医生张三,O=某某医院,C=CN\n`);
    expect(r.out).toContain(`issuer:           CN=${kind} 中级CA,O=医证测试,C=CN\n`);
    expect(r.out).toContain(`key:              ${{ rsa: 'RSA', p256: 'EC P-256', sm2: 'SM2' }[kind]}\n`);
    expect(r.out).toContain('keyUsage:         digitalSignature, nonRepudiation\n');
    expect(r.out).toContain('basicConstraints: CA:FALSE\n');
    const fp = execFileSync(
      'openssl',
      ['x509', '-in', p(`${kind}-leaf.pem`), '-noout', '-fingerprint', '-sha256'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.out).toContain(
      `sha256:           ${fp.split('=')[1]?.trim().replaceAll(':', '').toLowerCase()}\n`,
    );
    if (kind === 'sm2') expect(r.out).toContain('SM3withSM2 (1.2.156.10197.1.501)');
  });

  it('reads DER, shows the timeStamping EKU, exit 2 on unreadable input', async () => {
    expect((await cli('cert', 'show', '--cert', p('rsa-leaf.der'))).out).toContain('医生张三');
    expect((await cli('cert', 'show', '--cert', p('rsa-tsa.pem'))).out).toContain(
      'extKeyUsage:      timeStamping\n',
    );
    expect((await cli('cert', 'show', '--cert', p('nope.pem'))).code).toBe(2);
    const bad = await cli('cert', 'show', '--cert', p('garbage.pem'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('PKI_ASN1_INVALID');
  });
});

describe('yizheng cert verify', () => {
  it.each(KINDS)('%s: root → intermediate → leaf is valid; the path is printed', async (kind) => {
    const r = await cli(
      'cert',
      'verify',
      '--cert',
      p(`${kind}-leaf.pem`),
      '--ca',
      p(`${kind}-root.pem`),
      '--untrusted',
      p(`${kind}-inter.pem`),
    );
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out.split('\n')).toEqual([
      'valid',
      `  0: CN=${kind} 医生张三,O=某某医院,C=CN`,
      `  1: CN=${kind} 中级CA,O=医证测试,C=CN`,
      `  2: CN=${kind} 根CA,O=医证测试,C=CN`,
      '',
    ]);
  });

  it.each(KINDS)(
    '%s: invalid without the intermediate, under another root, outside validity',
    async (kind) => {
      const base = ['cert', 'verify', '--cert', p(`${kind}-leaf.pem`), '--ca', p(`${kind}-root.pem`)];
      const noInter = await cli(...base);
      expect(noInter.code).toBe(1);
      expect(noInter.out).toMatch(/^invalid: PKI_CHAIN_INCOMPLETE: /);
      const other = kind === 'rsa' ? 'p256' : 'rsa';
      const wrongRoot = await cli(
        'cert',
        'verify',
        '--cert',
        p(`${kind}-leaf.pem`),
        '--ca',
        p(`${other}-root.pem`),
        '--untrusted',
        p(`${kind}-inter.pem`),
      );
      expect(wrongRoot.code).toBe(1);
      expect(wrongRoot.out).toMatch(
        /^invalid: PKI_CHAIN_INCOMPLETE: no issuer found for CN=.*中级CA.*chain\[1\]/,
      );
      const expired = await cli(...base, '--untrusted', p(`${kind}-inter.pem`), '--at', FAR_FUTURE);
      expect(expired.code).toBe(1);
      expect(expired.out).toMatch(
        /^invalid: PKI_CERT_EXPIRED: .*\(chain\[0\], CN=.*医生张三.*, validity\)\n/,
      );
      const early = await cli(...base, '--untrusted', p(`${kind}-inter.pem`), '--at', '2001-01-01');
      expect(early.code).toBe(1);
      expect(early.out).toContain('invalid: PKI_CERT_NOT_YET_VALID: ');
    },
  );

  it('a tampered signature is PKI_CERT_SIGNATURE_INVALID', async () => {
    const der = new Uint8Array(readFileSync(p('rsa-leaf.der')));
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0x01;
    writeFileSync(p('tampered.der'), der);
    const r = await cli(
      'cert',
      'verify',
      '--cert',
      p('tampered.der'),
      '--ca',
      p('rsa-root.pem'),
      '--untrusted',
      p('rsa-inter.pem'),
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^invalid: PKI_CERT_SIGNATURE_INVALID: /);
  });

  it('DER inputs, a PEM bundle of trust anchors and intermediates', async () => {
    const r = await cli(
      'cert',
      'verify',
      '--cert',
      p('rsa-leaf.der'),
      '--ca',
      p('p256-root.pem'),
      '--ca',
      p('rsa-root.der'),
      '--untrusted',
      p('bundle.pem'),
    );
    expect(r.code).toBe(0);
  });

  it('--purpose: the timeStamping EKU is required when asked for', async () => {
    const args = (c: string): string[] => [
      'cert',
      'verify',
      '--cert',
      p(c),
      '--ca',
      p('sm2-root.pem'),
      '--untrusted',
      p('sm2-inter.pem'),
      '--purpose',
      'timeStamping',
    ];
    expect((await cli(...args('sm2-tsa.pem'))).code).toBe(0);
    const r = await cli(...args('sm2-leaf.pem'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^invalid: PKI_EKU: /);
    expect((await cli(...args('sm2-leaf.pem'), '--purpose', 'flying')).code).toBe(2);
  });

  it('--crl: a revoked certificate is PKI_REVOKED, another one from the same CA is valid', async () => {
    const args = (c: string, crl: string): string[] => [
      'cert',
      'verify',
      '--cert',
      p(c),
      '--ca',
      p('rsa-root.pem'),
      '--untrusted',
      p('rsa-inter.pem'),
      '--crl',
      p(crl),
    ];
    const revoked = await cli(...args('rsa-leaf2.pem', 'rsa.crl.pem'));
    expect(revoked.code).toBe(1);
    expect(revoked.out).toMatch(/^invalid: PKI_REVOKED: .*李四/);
    expect((await cli(...args('rsa-leaf2.pem', 'rsa.crl.der'))).code).toBe(1);
    expect((await cli(...args('rsa-leaf.pem', 'rsa.crl.der'))).code).toBe(0);
    // Past its nextUpdate the CRL no longer tells: PKI_CRL_EXPIRED.
    const late = await cli(
      ...args('rsa-leaf.pem', 'rsa.crl.der'),
      '--at',
      new Date(Date.now() + 60 * 86_400_000).toISOString(),
    );
    expect(late.code).toBe(1);
    expect(late.out).toMatch(/^invalid: PKI_CRL_EXPIRED: /);
    // A CRL that is not a CRL is unreadable input.
    expect((await cli(...args('rsa-leaf.pem', 'rsa-leaf.pem'))).code).toBe(2);
  });

  it('exit 2: no --ca, a missing or malformed file, a bad --at', async () => {
    expect((await cli('cert', 'verify', '--cert', p('rsa-leaf.pem'))).code).toBe(2);
    expect((await cli('cert', 'verify', '--cert', p('nope.pem'), '--ca', p('rsa-root.pem'))).code).toBe(2);
    expect((await cli('cert', 'verify', '--cert', p('rsa-leaf.pem'), '--ca', p('garbage.pem'))).code).toBe(2);
    expect((await cli('cert', 'verify', '--cert', p('garbage.pem'), '--ca', p('rsa-root.pem'))).code).toBe(2);
    const at = await cli(
      'cert',
      'verify',
      '--cert',
      p('rsa-leaf.pem'),
      '--ca',
      p('rsa-root.pem'),
      '--at',
      'yesterday',
    );
    expect(at.code).toBe(2);
    expect(at.err).toContain('--at');
  });
});

describe('yizheng cms verify (openssl cms -sign)', () => {
  describe.each(['rsa', 'p256'] as const)('%s', (kind) => {
    const ca = p(`${kind}-root.pem`);

    it('attached with signed attributes: valid, signer and signing time printed, content written', async () => {
      const r = await cli(
        'cms',
        'verify',
        '--in',
        p(`${kind}-sig.der`),
        '--ca',
        ca,
        '--out',
        p(`${kind}-content.txt`),
      );
      expect(r.code).toBe(0);
      expect(r.out).toMatch(
        new RegExp(`^valid\\n  signer 0: CN=${kind} 医生张三,O=某某医院,C=CN, signed \\d{4}-`),
      );
      expect(readFileSync(p(`${kind}-content.txt`), 'utf8')).toBe(data);
    });

    it('detached: valid with --content, PKI_CMS_CONTENT_MISSING without, PKI_CMS_DIGEST_MISMATCH on other content', async () => {
      const base = ['cms', 'verify', '--in', p(`${kind}-detached.der`), '--ca', ca];
      expect((await cli(...base, '--content', p('data.txt'))).code).toBe(0);
      const missing = await cli(...base);
      expect(missing.code).toBe(1);
      expect(missing.out).toMatch(/^invalid: PKI_CMS_CONTENT_MISSING: /);
      const other = await cli(...base, '--content', p('other.txt'));
      expect(other.code).toBe(1);
      expect(other.out).toMatch(/^invalid: PKI_CMS_DIGEST_MISMATCH: .*\(signer 0, /);
    });

    it('without signed attributes: the path is validated now', async () => {
      expect((await cli('cms', 'verify', '--in', p(`${kind}-noattr.der`), '--ca', ca)).code).toBe(0);
      const late = await cli(
        'cms',
        'verify',
        '--in',
        p(`${kind}-noattr.der`),
        '--ca',
        ca,
        '--at',
        FAR_FUTURE,
      );
      expect(late.code).toBe(1);
      expect(late.out).toMatch(/^invalid: PKI_CERT_EXPIRED: /m);
    });

    it('under another trust anchor: invalid; without --ca: signatures only, with a note', async () => {
      const other = kind === 'rsa' ? 'p256' : 'rsa';
      const r = await cli('cms', 'verify', '--in', p(`${kind}-sig.der`), '--ca', p(`${other}-root.pem`));
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^invalid: PKI_CHAIN_INCOMPLETE: /);
      const noCa = await cli('cms', 'verify', '--in', p(`${kind}-sig.der`));
      expect(noCa.code).toBe(0);
      expect(noCa.err).toContain('no --ca');
    });
  });

  it('PEM input and stdin', async () => {
    expect((await cli('cms', 'verify', '--in', p('rsa-sig.pem'), '--ca', p('rsa-root.pem'))).code).toBe(0);
    expect((await cli('cms', 'verify', '--in', '-', '--ca', p('rsa-root.pem'))).code).toBe(0);
  });

  it('a tampered signature value is PKI_CMS_SIGNATURE_INVALID; garbage is PKI_ASN1_INVALID (exit 1)', async () => {
    const der = new Uint8Array(readFileSync(p('rsa-sig.der')));
    der[der.length - 3] = (der[der.length - 3] ?? 0) ^ 0x01;
    writeFileSync(p('rsa-tampered.der'), der);
    const r = await cli('cms', 'verify', '--in', p('rsa-tampered.der'), '--ca', p('rsa-root.pem'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^invalid: PKI_CMS_SIGNATURE_INVALID: /);
    const g = await cli('cms', 'verify', '--in', p('garbage.p7s'));
    expect(g.code).toBe(1);
    expect(g.out).toMatch(/^invalid: PKI_ASN1_INVALID: /);
  });

  it('exit 2: a missing message, content or trust anchor file', async () => {
    expect((await cli('cms', 'verify', '--in', p('nope.p7s'))).code).toBe(2);
    expect((await cli('cms', 'verify', '--in', p('rsa-detached.der'), '--content', p('nope'))).code).toBe(2);
    expect((await cli('cms', 'verify', '--in', p('rsa-sig.der'), '--ca', p('garbage.pem'))).code).toBe(2);
    expect((await cli('cms', 'verify')).code).toBe(2);
  });
});

describe('yizheng cms sign', () => {
  const opensslVerify = (kind: string, sig: string, extra: string[] = []): string =>
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        p(sig),
        '-CAfile',
        p(`${kind}-root.pem`),
        '-purpose',
        'any',
        ...extra,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );

  it.each(['rsa', 'p256'] as const)(
    '%s: attached and detached output passes openssl cms -verify',
    async (kind) => {
      const sign = (out: string, ...flags: string[]) =>
        cli(
          'cms',
          'sign',
          '--key',
          p(`${kind}-leaf.key`),
          '--cert',
          p(`${kind}-leaf.pem`),
          '--certs',
          p(`${kind}-inter.pem`),
          '--in',
          p('data.txt'),
          '--out',
          p(out),
          ...flags,
        );
      expect((await sign(`${kind}-ours.p7s`)).code).toBe(0);
      expect(opensslVerify(kind, `${kind}-ours.p7s`)).toBe(data);
      expect((await sign(`${kind}-ours-detached.p7s`, '--detached')).code).toBe(0);
      expect(opensslVerify(kind, `${kind}-ours-detached.p7s`, ['-content', p('data.txt')])).toBe(data);
      expect((await sign(`${kind}-ours-noattr.p7s`, '--no-attrs')).code).toBe(0);
      expect(opensslVerify(kind, `${kind}-ours-noattr.p7s`)).toBe(data);
      // … and by ours.
      expect(
        (
          await cli(
            'cms',
            'verify',
            '--in',
            p(`${kind}-ours-detached.p7s`),
            '--content',
            p('data.txt'),
            '--ca',
            p(`${kind}-root.pem`),
          )
        ).code,
      ).toBe(0);
    },
  );

  it.each(['rfc5652', 'gmt0010'])(
    'sm2 with %s OIDs: signed and verified, attached and detached, PEM output',
    async (oids) => {
      const base = [
        'cms',
        'sign',
        '--key',
        p('sm2-leaf.key'),
        '--cert',
        p('sm2-leaf.pem'),
        '--certs',
        p('sm2-inter.pem'),
        '--in',
        p('data.txt'),
        '--oids',
        oids,
      ];
      expect((await cli(...base, '--out', p(`sm2-${oids}.p7s`))).code).toBe(0);
      const der = readFileSync(p(`sm2-${oids}.p7s`));
      // ContentInfo contentType: id-signedData (RFC 5652) or the GM/T 0010 signedData OID.
      const ct = oids === 'gmt0010' ? '060a2a811ccf550601040202' : '06092a864886f70d010702';
      expect(der.toString('hex')).toContain(ct);
      const v = await cli(
        'cms',
        'verify',
        '--in',
        p(`sm2-${oids}.p7s`),
        '--ca',
        p('sm2-root.pem'),
        '--out',
        p(`sm2-${oids}.txt`),
      );
      expect(v).toMatchObject({ code: 0 });
      expect(v.out).toContain('sm2 医生张三');
      expect(readFileSync(p(`sm2-${oids}.txt`), 'utf8')).toBe(data);
      expect(await cli(...base, '--out', p(`sm2-${oids}-d.pem`), '--detached', '--pem')).toMatchObject({
        code: 0,
      });
      expect(readFileSync(p(`sm2-${oids}-d.pem`), 'utf8')).toMatch(/^-----BEGIN CMS-----\n/);
      expect(
        (
          await cli(
            'cms',
            'verify',
            '--in',
            p(`sm2-${oids}-d.pem`),
            '--content',
            p('data.txt'),
            '--ca',
            p('sm2-root.pem'),
          )
        ).code,
      ).toBe(0);
      const other = await cli(
        'cms',
        'verify',
        '--in',
        p(`sm2-${oids}-d.pem`),
        '--content',
        p('other.txt'),
        '--ca',
        p('sm2-root.pem'),
      );
      expect(other.code).toBe(1);
      expect(other.out).toMatch(/^invalid: PKI_CMS_DIGEST_MISMATCH: /);
    },
  );

  it('the SM2 signer ID: verifies under the same ID only', async () => {
    const r = await cli(
      'cms',
      'sign',
      '--key',
      p('sm2-leaf.key'),
      '--cert',
      p('sm2-leaf.pem'),
      '--in',
      p('data.txt'),
      '--out',
      p('sm2-id.p7s'),
      '--sm2-id',
      'doctor-9',
    );
    expect(r.code).toBe(0);
    expect((await cli('cms', 'verify', '--in', p('sm2-id.p7s'), '--sm2-id', 'doctor-9')).code).toBe(0);
    const wrong = await cli('cms', 'verify', '--in', p('sm2-id.p7s'));
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/^invalid: PKI_CMS_SIGNATURE_INVALID: /);
  });

  it('exit 2: a key that is not the certificate’s, an unreadable key, bad --oids, a missing input', async () => {
    const args = (key: string, ...more: string[]) => [
      'cms',
      'sign',
      '--key',
      p(key),
      '--cert',
      p('rsa-leaf.pem'),
      '--in',
      p('data.txt'),
      '--out',
      p('x.p7s'),
      ...more,
    ];
    const mismatch = await cli(...args('rsa-leaf2.key'));
    expect(mismatch.code).toBe(2);
    expect(mismatch.err).toContain('does not belong');
    expect((await cli(...args('data.txt'))).code).toBe(2);
    expect((await cli(...args('rsa-leaf.key', '--oids', 'x'))).code).toBe(2);
    expect(
      (
        await cli(
          'cms',
          'sign',
          '--key',
          p('rsa-leaf.key'),
          '--cert',
          p('rsa-leaf.pem'),
          '--in',
          p('nope'),
          '--out',
          p('x.p7s'),
        )
      ).code,
    ).toBe(2);
  });
});

describe('yizheng ts', () => {
  const tsCnf = (kind: 'rsa' | 'p256'): string => {
    writeFileSync(p(`${kind}-tsserial`), '2a\n');
    writeFileSync(
      p(`${kind}-ts.cnf`),
      `[tsa]\ndefault_tsa=t\n[t]\nserial=${p(`${kind}-tsserial`)}\ncrypto_device=builtin\nsigner_cert=${p(`${kind}-tsa.pem`)}\ncerts=${p(`${kind}-inter.pem`)}\nsigner_key=${p(`${kind}-tsa.key`)}\nsigner_digest=sha256\ndefault_policy=1.2.3.4.1\nother_policies=1.2.156.112.1\ndigests=sha256,sha384,sha512\naccuracy=secs:1\nordering=no\ntsa_name=yes\ness_cert_id_alg=sha256\n`,
    );
    return p(`${kind}-ts.cnf`);
  };

  it.each(['rsa', 'p256'] as const)(
    '%s: our query → openssl ts -reply → our verify (response and bare token)',
    async (kind) => {
      const q = await cli('ts', 'query', '--data', p('data.txt'), '--out', p(`${kind}.tsq`));
      expect(q.code).toBe(0);
      expect(q.out).toMatch(/^imprint: sha256 [0-9a-f]{64}\nnonce: [0-9a-f]+\n$/);
      const text = execFileSync('openssl', ['ts', '-query', '-in', p(`${kind}.tsq`), '-text'], {
        encoding: 'utf8',
      });
      expect(text).toContain('Certificate required: yes');
      const cnf = tsCnf(kind);
      openssl('ts', '-reply', '-config', cnf, '-queryfile', p(`${kind}.tsq`), '-out', p(`${kind}.tsr`));
      openssl(
        'ts',
        '-reply',
        '-config',
        cnf,
        '-queryfile',
        p(`${kind}.tsq`),
        '-token_out',
        '-out',
        p(`${kind}.tst`),
      );
      const args = ['--data', p('data.txt'), '--ca', p(`${kind}-root.pem`), '--query', p(`${kind}.tsq`)];
      const v = await cli('ts', 'verify', '--in', p(`${kind}.tsr`), ...args);
      expect(v.code).toBe(0);
      expect(v.out).toMatch(
        /^valid\n {2}genTime: \d{4}-.*\n {2}serial: 2b\n {2}policy: 1\.2\.3\.4\.1\n {2}TSA: CN=.* 时间戳服务/,
      );
      expect((await cli('ts', 'verify', '--in', p(`${kind}.tst`), ...args)).code).toBe(0);
      // Wrong data, a nonce from another request, another trust anchor.
      const wrong = await cli(
        'ts',
        'verify',
        '--in',
        p(`${kind}.tsr`),
        '--data',
        p('other.txt'),
        '--ca',
        p(`${kind}-root.pem`),
      );
      expect(wrong.code).toBe(1);
      expect(wrong.out).toMatch(/^invalid: PKI_TSP_IMPRINT_MISMATCH: /);
      await cli('ts', 'query', '--data', p('data.txt'), '--out', p(`${kind}-2.tsq`));
      const nonce = await cli(
        'ts',
        'verify',
        '--in',
        p(`${kind}.tsr`),
        '--data',
        p('data.txt'),
        '--query',
        p(`${kind}-2.tsq`),
      );
      expect(nonce.code).toBe(1);
      expect(nonce.out).toMatch(/^invalid: PKI_TSP_NONCE_MISMATCH: /m);
      const other = await cli(
        'ts',
        'verify',
        '--in',
        p(`${kind}.tsr`),
        '--data',
        p('data.txt'),
        '--ca',
        p('sm2-root.pem'),
      );
      expect(other.code).toBe(1);
      expect(other.out).toMatch(/^invalid: PKI_CHAIN_INCOMPLETE: /m);
    },
  );

  it.each(['rsa', 'p256'] as const)('%s: our reply passes openssl ts -verify', async (kind) => {
    openssl('ts', '-query', '-data', p('data.txt'), '-sha256', '-cert', '-out', p(`${kind}-o.tsq`));
    const r = await cli(
      'ts',
      'reply',
      '--query',
      p(`${kind}-o.tsq`),
      '--key',
      p(`${kind}-tsa.key`),
      '--cert',
      p(`${kind}-tsa.pem`),
      '--chain',
      p(`${kind}-inter.pem`),
      '--out',
      p(`${kind}-o.tsr`),
      '--serial',
      '4660',
    );
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/^status: granted\nserial: 1234\n/);
    const out = execFileSync(
      'openssl',
      [
        'ts',
        '-verify',
        '-queryfile',
        p(`${kind}-o.tsq`),
        '-in',
        p(`${kind}-o.tsr`),
        '-CAfile',
        p(`${kind}-root.pem`),
        '-untrusted',
        p(`${kind}-inter.pem`),
      ],
      { encoding: 'utf8' },
    );
    expect(out).toContain('Verification: OK');
  });

  it('SM2/SM3: query, reply and verify with our tools; the digest instead of the data', async () => {
    const q = await cli(
      'ts',
      'query',
      '--data',
      p('data.txt'),
      '--hash',
      'sm3',
      '--out',
      p('sm2.tsq'),
      '--policy',
      '1.2.156.112.1',
    );
    expect(q.code).toBe(0);
    // genTime an hour from now, within the certificates' validity (which starts now).
    const later = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000).toISOString();
    const sm3 = execFileSync('openssl', ['dgst', '-sm3', '-r', p('data.txt')], { encoding: 'utf8' }).split(
      ' ',
    )[0];
    expect(q.out).toContain(`imprint: sm3 ${sm3}\n`);
    const r = await cli(
      'ts',
      'reply',
      '--query',
      p('sm2.tsq'),
      '--key',
      p('sm2-tsa.key'),
      '--cert',
      p('sm2-tsa.pem'),
      '--chain',
      p('sm2-inter.pem'),
      '--out',
      p('sm2.tsr'),
      '--time',
      later,
    );
    expect(r.code).toBe(0);
    const v = await cli(
      'ts',
      'verify',
      '--in',
      p('sm2.tsr'),
      '--data',
      p('data.txt'),
      '--ca',
      p('sm2-root.pem'),
      '--query',
      p('sm2.tsq'),
    );
    expect(v).toMatchObject({ code: 0, out: expect.stringMatching(/^valid\n/) as string });
    expect(v.out).toContain(`  genTime: ${later}\n  serial: `);
    expect(v.out).toContain('  policy: 1.2.156.112.1\n');
    expect(
      (await cli('ts', 'verify', '--in', p('sm2.tsr'), '--digest', sm3 ?? '', '--ca', p('sm2-root.pem')))
        .code,
    ).toBe(0);
  });

  it('the TSA certificate is validated at genTime: a token dated before it was issued is invalid', async () => {
    await cli('ts', 'query', '--data', p('data.txt'), '--hash', 'sm3', '--out', p('early.tsq'));
    const r = await cli(
      'ts',
      'reply',
      '--query',
      p('early.tsq'),
      '--key',
      p('sm2-tsa.key'),
      '--cert',
      p('sm2-tsa.pem'),
      '--out',
      p('early.tsr'),
      '--time',
      '2020-06-01T08:00:00Z',
    );
    expect(r.code).toBe(0);
    const v = await cli(
      'ts',
      'verify',
      '--in',
      p('early.tsr'),
      '--data',
      p('data.txt'),
      '--ca',
      p('sm2-root.pem'),
      '--untrusted',
      p('sm2-inter.pem'),
    );
    expect(v.code).toBe(1);
    expect(v.out).toMatch(/^invalid: PKI_CERT_NOT_YET_VALID: CN=sm2 时间戳服务/);
  });

  it('a rejected request: the rejection is written, and verifying it says PKI_TSP_STATUS', async () => {
    await cli('ts', 'query', '--data', p('data.txt'), '--out', p('pol.tsq'), '--policy', '1.2.3.999');
    const r = await cli(
      'ts',
      'reply',
      '--query',
      p('pol.tsq'),
      '--key',
      p('rsa-tsa.key'),
      '--cert',
      p('rsa-tsa.pem'),
      '--out',
      p('pol.tsr'),
    );
    expect(r).toMatchObject({ code: 0, out: 'status: rejection (unacceptedPolicy)\n' });
    const v = await cli('ts', 'verify', '--in', p('pol.tsr'), '--data', p('data.txt'));
    expect(v.code).toBe(1);
    expect(v.out).toMatch(/^invalid: PKI_TSP_STATUS: /);
  });

  it('a token signed with a certificate without the timeStamping EKU is invalid (PKI_EKU)', async () => {
    await cli('ts', 'query', '--data', p('data.txt'), '--out', p('eku.tsq'));
    expect(
      (
        await cli(
          'ts',
          'reply',
          '--query',
          p('eku.tsq'),
          '--key',
          p('rsa-leaf.key'),
          '--cert',
          p('rsa-leaf.pem'),
          '--out',
          p('eku.tsr'),
        )
      ).code,
    ).toBe(0);
    const v = await cli(
      'ts',
      'verify',
      '--in',
      p('eku.tsr'),
      '--data',
      p('data.txt'),
      '--ca',
      p('rsa-root.pem'),
      '--untrusted',
      p('rsa-inter.pem'),
    );
    expect(v.code).toBe(1);
    expect(v.out).toMatch(/^invalid: PKI_EKU: /m);
  });

  it('exit 2: neither or both of --data/--digest, a bad hash, an unreadable request or key', async () => {
    expect((await cli('ts', 'verify', '--in', p('rsa.tsr'))).code).toBe(2);
    expect(
      (await cli('ts', 'verify', '--in', p('rsa.tsr'), '--data', p('data.txt'), '--digest', '00')).code,
    ).toBe(2);
    expect(
      (await cli('ts', 'query', '--data', p('data.txt'), '--out', p('x.tsq'), '--hash', 'md5')).code,
    ).toBe(2);
    expect(
      (
        await cli(
          'ts',
          'reply',
          '--query',
          p('data.txt'),
          '--key',
          p('rsa-tsa.key'),
          '--cert',
          p('rsa-tsa.pem'),
          '--out',
          p('x.tsr'),
        )
      ).code,
    ).toBe(2);
    expect(
      (
        await cli(
          'ts',
          'reply',
          '--query',
          p('rsa.tsq'),
          '--key',
          p('rsa-leaf.key'),
          '--cert',
          p('rsa-tsa.pem'),
          '--out',
          p('x.tsr'),
        )
      ).code,
    ).toBe(2);
    expect((await cli('ts', 'verify', '--in', p('garbage.p7s'), '--data', p('data.txt'))).code).toBe(1);
  });
});
