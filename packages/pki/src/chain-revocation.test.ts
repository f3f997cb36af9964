import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from './certificate.js';
import { crlRevocationSource, verifyChain, type RevocationSource } from './chain.js';
import { parseCrl } from './crl.js';
import { PkiError } from './errors.js';
import { opensslWorkdir } from './testing/openssl.js';

/** An `openssl ca` with a root, two leaves (a revoked for keyCompromise, b not) and a CRL. */
const w = opensslWorkdir('pki-rev');
const dir = w.dir;
const openssl = w.run;
mkdirSync(join(dir, 'new'));
writeFileSync(join(dir, 'index.txt'), '');
writeFileSync(join(dir, 'serial'), '2000\n');
writeFileSync(join(dir, 'crlnumber'), '0a\n');
writeFileSync(
  join(dir, 'ca.cnf'),
  `[ca]\ndefault_ca=d\n[d]\ndir=.\ndatabase=index.txt\nserial=serial\ncrlnumber=crlnumber\nnew_certs_dir=new\ncertificate=ca.pem\nprivate_key=ca.key\ndefault_md=sha256\ndefault_days=30\ndefault_crl_days=7\npolicy=p\nutf8=yes\nstring_mask=utf8only\nunique_subject=no\n[p]\ncommonName=supplied\n[req]\ndistinguished_name=dn\n[dn]\n[v3ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n[v3ee]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n[crlext]\nauthorityKeyIdentifier=keyid\n`,
);
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
  '-subj', '/CN=吊销检查根CA', '-utf8', '-days', '365', '-config', 'ca.cnf', '-extensions', 'v3ca'); // prettier-ignore
for (const n of ['a', 'b']) {
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`,
    '-subj', `/CN=医生${n}`, '-utf8', '-config', 'ca.cnf'); // prettier-ignore
  openssl('ca', '-batch', '-config', 'ca.cnf', '-in', `${n}.csr`, '-out', `${n}.pem`, '-extensions', 'v3ee'); // prettier-ignore
}
openssl('ca', '-batch', '-config', 'ca.cnf', '-revoke', 'a.pem', '-crl_reason', 'keyCompromise');
openssl('ca', '-batch', '-config', 'ca.cnf', '-gencrl', '-crlexts', 'crlext', '-out', 'ca.crl');

const cert = (f: string) => parseCertificate(readFileSync(join(dir, f), 'utf8'));
const root = cert('ca.pem');
const [a, b] = [cert('a.pem'), cert('b.pem')];
const crl = readFileSync(join(dir, 'ca.crl'), 'utf8');
const now = new Date(Date.now() + 60_000);
const base = { trustAnchors: [root], at: now };

describe('openssl ca CRL fields', () => {
  it('reads the reason, CRL number and AKI', () => {
    const parsed = parseCrl(crl);
    expect(parsed.crlNumber).toBe(10n);
    expect(parsed.authorityKeyIdentifier?.length).toBe(20);
    expect(parsed.entries.get(a.serialHex)?.reason).toBe('keyCompromise');
    expect(parsed.entries.has(b.serialHex)).toBe(false);
  });
});

describe('verifyChain with revocation', () => {
  const sources = [crlRevocationSource([crl])];

  it('a revoked leaf fails with PKI_REVOKED and says why', () => {
    const r = verifyChain(a, { ...base, revocation: { sources, mode: 'require' } });
    expect(r.valid).toBe(false);
    expect(r.failures.map((f) => [f.code, f.chainIndex, f.check])).toEqual([
      ['PKI_REVOKED', 0, 'revocation'],
    ]);
    const check = r.revocation[0];
    expect(check?.status).toMatchObject({ status: 'revoked', source: 'crl', reason: 'keyCompromise' });
    expect(check?.explanation).toContain('keyCompromise');
    expect(check?.explanation).toContain(a.serialHex);
    expect(check?.explanation).toContain('CRL #10 of CN=吊销检查根CA');
    expect(r.failures[0]?.message).toBe(check?.explanation);
  });

  it('a leaf not listed is good; the explanation names the CRL and its window', () => {
    const r = verifyChain(b, { ...base, revocation: { sources, mode: 'require' } });
    expect(r.failures).toEqual([]);
    expect(r.revocation).toHaveLength(1); // the trust anchor is not checked
    expect(r.revocation[0]?.status?.status).toBe('good');
    expect(r.revocation[0]?.explanation).toMatch(/not listed in CRL #10 .*thisUpdate .*nextUpdate/);
  });

  it("no CRL: 'require' fails with PKI_REVOCATION_UNKNOWN, 'prefer' passes and says so", () => {
    const req = verifyChain(b, { ...base, revocation: { sources: [], mode: 'require' } });
    expect(req.failures.map((f) => f.code)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    expect(req.revocation[0]?.status).toBeUndefined();
    const pref = verifyChain(b, { ...base, revocation: { sources: [], mode: 'prefer' } });
    expect(pref.valid).toBe(true);
    expect(pref.revocation[0]?.explanation).toContain('prefer');
  });

  it('a CRL outside its window is not used: unknown, with the reason', () => {
    const later = new Date(Date.now() + 10 * 86_400_000);
    const r = verifyChain(b, { ...base, at: later, revocation: { sources, mode: 'require' } });
    expect(r.failures.map((f) => f.code)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    expect(r.revocation[0]?.answers[0]?.status).toBe('unknown');
    expect(r.revocation[0]?.explanation).toContain('PKI_CRL_EXPIRED');
  });

  it('a CRL signed by another key is not used', () => {
    // Same issuer name, different key: a forged CRL.
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'evil.key', '-out', 'evil.pem',
      '-subj', '/CN=吊销检查根CA', '-utf8', '-days', '30', '-config', 'ca.cnf', '-extensions', 'v3ca'); // prettier-ignore
    openssl('ca', '-batch', '-config', 'ca.cnf', '-gencrl', '-keyfile', 'evil.key', '-cert', 'evil.pem', '-out', 'evil.crl'); // prettier-ignore
    const forged = readFileSync(join(dir, 'evil.crl'), 'utf8');
    const r = verifyChain(a, {
      ...base,
      revocation: { sources: [crlRevocationSource([forged])], mode: 'require' },
    });
    expect(r.failures.map((f) => f.code)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    expect(r.revocation[0]?.explanation).toContain('PKI_CRL_SIGNATURE_INVALID');
  });

  it('a CRL with an unprocessed critical extension (delta CRL, issuingDistributionPoint) is not used', () => {
    writeFileSync(
      join(dir, 'idp.cnf'),
      `${readFileSync(join(dir, 'ca.cnf'), 'utf8')}[idp]\nauthorityKeyIdentifier=keyid\nissuingDistributionPoint=critical,@idpsect\n[idpsect]\nfullname=URI:http://ca.test/part1.crl\n`,
    );
    openssl('ca', '-batch', '-config', 'idp.cnf', '-gencrl', '-crlexts', 'idp', '-out', 'idp.crl');
    const idp = readFileSync(join(dir, 'idp.crl'), 'utf8');
    expect(parseCrl(idp).criticalExtensions).toEqual(['2.5.29.28']);
    const r = verifyChain(a, {
      ...base,
      revocation: { sources: [crlRevocationSource([idp])], mode: 'require' },
    });
    expect(r.failures.map((f) => f.code)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    expect(r.revocation[0]?.explanation).toContain('PKI_UNKNOWN_CRITICAL_EXTENSION');
  });

  it('a revoked answer wins over a good one; a throwing source counts as unknown', () => {
    const good: RevocationSource = {
      kind: 'ocsp',
      status: () => ({ status: 'good', source: 'ocsp', explanation: 'OCSP says good' }),
    };
    const broken: RevocationSource = {
      kind: 'ocsp',
      status: () => {
        throw new PkiError('PKI_OCSP_SIGNATURE_INVALID', 'bad responder');
      },
    };
    const r = verifyChain(a, {
      ...base,
      revocation: { sources: [broken, good, ...sources], mode: 'require' },
    });
    expect(r.failures.map((f) => f.code)).toEqual(['PKI_REVOKED']);
    expect(r.revocation[0]?.answers.map((x) => [x.source, x.status])).toEqual([
      ['ocsp', 'unknown'],
      ['ocsp', 'good'],
      ['crl', 'revoked'],
    ]);
    const onlyBroken = verifyChain(b, { ...base, revocation: { sources: [broken], mode: 'require' } });
    expect(onlyBroken.failures.map((f) => f.code)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    expect(onlyBroken.revocation[0]?.explanation).toContain('PKI_OCSP_SIGNATURE_INVALID');
  });
});
