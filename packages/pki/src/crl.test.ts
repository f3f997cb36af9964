import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from './certificate.js';
import { checkRevocation, parseCrl, revocationOf, verifyCrl } from './crl.js';
import { isPkiError, type PkiErrorCode } from './errors.js';

const openssl = (cwd: string, ...args: string[]): void => {
  execFileSync('openssl', args, { stdio: 'ignore', cwd });
};

function codeOf(f: () => unknown): PkiErrorCode | 'no error' | 'untyped' {
  try {
    f();
    return 'no error';
  } catch (e) {
    return isPkiError(e) ? e.code : 'untyped';
  }
}

/** An `openssl ca` directory: root CA, two issued certificates, the first revoked, a CRL. */
function opensslCa(key: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'pki-crl-'));
  mkdirSync(join(dir, 'new'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca=d\n[d]\ndir=.\ndatabase=index.txt\nserial=serial\ncrlnumber=crlnumber\nnew_certs_dir=new\ncertificate=ca.pem\nprivate_key=ca.key\ndefault_md=sha256\ndefault_days=30\ndefault_crl_days=7\npolicy=p\nutf8=yes\nstring_mask=utf8only\nunique_subject=no\n[p]\ncommonName=supplied\n[req]\ndistinguished_name=dn\n[dn]\n[v3ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n[v3ee]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n[v3nocrl]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n`,
  );
  openssl(
    dir,
    'req',
    '-x509',
    ...key,
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    '/CN=吊销测试CA',
    '-utf8',
    '-days',
    '365',
    '-config',
    'ca.cnf',
    '-extensions',
    'v3ca',
  );
  for (const n of ['a', 'b']) {
    openssl(
      dir,
      'req',
      '-new',
      ...key,
      '-nodes',
      '-keyout',
      `${n}.key`,
      '-out',
      `${n}.csr`,
      '-subj',
      `/CN=用户${n}`,
      '-utf8',
      '-config',
      'ca.cnf',
    );
    openssl(
      dir,
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-in',
      `${n}.csr`,
      '-out',
      `${n}.pem`,
      '-extensions',
      'v3ee',
      '-notext',
    );
  }
  openssl(dir, 'ca', '-config', 'ca.cnf', '-revoke', 'a.pem', '-crl_reason', 'keyCompromise');
  openssl(dir, 'ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem');
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    ca: parseCertificate(read('ca.pem')),
    a: parseCertificate(read('a.pem')),
    b: parseCertificate(read('b.pem')),
    crl: parseCrl(read('crl.pem')),
  };
}

describe.each([
  { name: 'RSA', key: ['-newkey', 'rsa:2048'] },
  { name: 'P-256', key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] },
])('CRL from openssl ca ($name)', ({ key }) => {
  const { ca, a, b, crl } = opensslCa(key);

  it('parses, verifies and finds the revoked serial', () => {
    expect(crl.issuer).toBe('CN=吊销测试CA');
    expect(crl.revoked.size).toBe(1);
    verifyCrl(crl, ca, { at: new Date(crl.thisUpdate.getTime() + 1000) });
    expect(revocationOf(crl, a)).toBeInstanceOf(Date);
    expect(revocationOf(crl, b)).toBeUndefined();
    expect(codeOf(() => checkRevocation(crl, a))).toBe('PKI_REVOKED');
    expect(codeOf(() => checkRevocation(crl, b))).toBe('no error');
    // revoked after the time asked about: not revoked then
    expect(revocationOf(crl, a, new Date(0))).toBeUndefined();
  });

  it('negative: PKI_CRL_SIGNATURE_INVALID, PKI_CRL_EXPIRED, PKI_ASN1_INVALID', () => {
    expect(codeOf(() => verifyCrl(crl, a))).toBe('PKI_CRL_SIGNATURE_INVALID');
    const nu = crl.nextUpdate ?? new Date();
    expect(codeOf(() => verifyCrl(crl, ca, { at: new Date(nu.getTime() + 1000) }))).toBe('PKI_CRL_EXPIRED');
    const der = Uint8Array.from(crl.der);
    // The seconds' units digit of thisUpdate (UTCTime after the issuer): still well formed, no longer signed.
    const at = crl.issuerDer.byteOffset - crl.der.byteOffset + crl.issuerDer.length + 2 + 11;
    der[at] = (der[at] ?? 0) ^ 1;
    const tampered = (() => {
      try {
        return parseCrl(der);
      } catch {
        return undefined;
      }
    })();
    expect(tampered).toBeDefined();
    if (tampered) expect(codeOf(() => verifyCrl(tampered, ca))).toBe('PKI_CRL_SIGNATURE_INVALID');
    expect(codeOf(() => parseCrl(new Uint8Array([0x30, 0x84, 0x04, 0, 0, 0])))).toBe('PKI_ASN1_INVALID');
  });
});
