import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkValidity, isSignedBy, parseCertificate, type ParsedCertificate } from './certificate.js';
import { EKU, KEY_USAGE, verifyChain } from './chain.js';
import { isPkiError, type PkiErrorCode } from './errors.js';
import { opensslWorkdir } from './testing/openssl.js';

const w = opensslWorkdir('pki-chain');
const p = w.path;
const openssl = w.run;

writeFileSync(
  p('ext.cnf'),
  `[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[ca0]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
[tsa]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
[leaf]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
[noca]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyCertSign
`,
);

const KEYS: Record<string, string[]> = {
  rsa: ['-newkey', 'rsa:2048'],
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
};

function root(name: string, kind: string, subj: string): ParsedCertificate {
  openssl(
    'req',
    '-x509',
    ...(KEYS[kind] ?? []),
    '-nodes',
    '-keyout',
    p(`${name}.key`),
    '-out',
    p(`${name}.pem`),
    '-subj',
    subj,
    '-utf8',
    '-days',
    '3650',
    '-extensions',
    'ca',
    '-config',
    p('ext.cnf'),
    '-sha256',
  );
  return parseCertificate(readFileSync(p(`${name}.pem`), 'utf8'));
}

// openssl req needs a [req] section when -config is given.
writeFileSync(p('ext.cnf'), `[req]\ndistinguished_name=dn\n[dn]\n${readFileSync(p('ext.cnf'), 'utf8')}`);

function issue(
  name: string,
  kind: string,
  subj: string,
  issuer: string,
  ext: string,
  days = 365,
): ParsedCertificate {
  openssl(
    'req',
    '-new',
    ...(KEYS[kind] ?? []),
    '-nodes',
    '-keyout',
    p(`${name}.key`),
    '-out',
    p(`${name}.csr`),
    '-subj',
    subj,
    '-utf8',
    '-config',
    p('ext.cnf'),
  );
  openssl(
    'x509',
    '-req',
    '-in',
    p(`${name}.csr`),
    '-CA',
    p(`${issuer}.pem`),
    '-CAkey',
    p(`${issuer}.key`),
    '-CAcreateserial',
    '-out',
    p(`${name}.pem`),
    '-days',
    String(days),
    '-extfile',
    p('ext.cnf'),
    '-extensions',
    ext,
    '-sha256',
  );
  return parseCertificate(readFileSync(p(`${name}.pem`), 'utf8'));
}

const rootCa = root('root', 'rsa', '/C=CN/O=医证测试/CN=医证根CA');
const inter = issue('inter', 'p256', '/C=CN/O=医证测试/CN=医证中级CA', 'root', 'ca0');
const tsa = issue('tsa', 'p256', '/C=CN/O=某某医院/CN=时间戳服务', 'inter', 'tsa');
const sub = issue('sub', 'rsa', '/CN=Sub CA below pathlen 0', 'inter', 'ca');
const deep = issue('deep', 'p256', '/CN=deep leaf', 'sub', 'leaf');
const noca = issue('noca', 'p256', '/CN=not a CA', 'root', 'noca');
const belowNoca = issue('belownoca', 'p256', '/CN=below not a CA', 'noca', 'leaf');
const otherRoot = root('other', 'p256', '/CN=Other root');
const now = new Date();
const at = new Date(now.getTime() + 86_400_000);

const codes = (r: { failures: readonly { code: PkiErrorCode }[] }): PkiErrorCode[] =>
  r.failures.map((f) => f.code);

describe('X.509 from openssl req/x509 (RSA root, P-256 intermediate and TSA)', () => {
  it('parses fields, Chinese UTF-8 names and extensions', () => {
    expect(tsa.subject).toBe('CN=时间戳服务,O=某某医院,C=CN');
    expect(tsa.issuer).toBe('CN=医证中级CA,O=医证测试,C=CN');
    expect(inter.basicConstraints).toEqual({ ca: true, pathLength: 0 });
    expect(tsa.extKeyUsage).toEqual([EKU.timeStamping]);
    expect((tsa.keyUsage ?? 0) & KEY_USAGE.digitalSignature).toBeTruthy();
    expect(isSignedBy(inter, rootCa)).toBe(true);
    expect(isSignedBy(tsa, inter)).toBe(true);
    expect(isSignedBy(tsa, rootCa)).toBe(false);
  });

  it('validates a chain at a given time, with the timeStamping EKU', () => {
    const r = verifyChain(tsa, {
      trustAnchors: [rootCa],
      intermediates: [inter],
      at,
      extKeyUsage: EKU.timeStamping,
    });
    expect(r.failures).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.chain.map((c) => c.subject)).toEqual([tsa.subject, inter.subject, rootCa.subject]);
  });

  const cases: [PkiErrorCode, () => ReturnType<typeof verifyChain>][] = [
    ['PKI_CHAIN_INCOMPLETE', () => verifyChain(tsa, { trustAnchors: [rootCa], at })],
    [
      'PKI_UNTRUSTED_ROOT',
      () => verifyChain(tsa, { trustAnchors: [otherRoot], intermediates: [inter, rootCa], at }),
    ],
    [
      'PKI_CERT_EXPIRED',
      () =>
        verifyChain(tsa, {
          trustAnchors: [rootCa],
          intermediates: [inter],
          at: new Date(now.getTime() + 400 * 86_400_000),
        }),
    ],
    [
      'PKI_CERT_NOT_YET_VALID',
      () =>
        verifyChain(tsa, {
          trustAnchors: [rootCa],
          intermediates: [inter],
          at: new Date(now.getTime() - 2 * 86_400_000),
        }),
    ],
    [
      'PKI_EKU',
      () =>
        verifyChain(deep, {
          trustAnchors: [rootCa],
          intermediates: [inter, sub],
          at,
          extKeyUsage: EKU.timeStamping,
        }),
    ],
    ['PKI_PATH_LENGTH', () => verifyChain(deep, { trustAnchors: [rootCa], intermediates: [inter, sub], at })],
    [
      'PKI_KEY_USAGE',
      () =>
        verifyChain(tsa, {
          trustAnchors: [rootCa],
          intermediates: [inter],
          at,
          keyUsage: KEY_USAGE.keyEncipherment,
        }),
    ],
  ];
  it.each(cases)('%s', (code, run) => {
    const r = run();
    expect(r.valid).toBe(false);
    expect(codes(r)).toContain(code);
  });

  it('an issuer that is not a CA is reported as PKI_PATH_LENGTH on basicConstraints', () => {
    const r = verifyChain(belowNoca, { trustAnchors: [rootCa], intermediates: [noca], at });
    expect(r.failures).toContainEqual(
      expect.objectContaining({ code: 'PKI_PATH_LENGTH', check: 'basicConstraints', chainIndex: 1 }),
    );
  });

  it('a tampered signature is PKI_CERT_SIGNATURE_INVALID naming the certificate', () => {
    const der = Uint8Array.from(tsa.der);
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff;
    let bad: ParsedCertificate;
    try {
      bad = parseCertificate(der);
    } catch (e) {
      // a flipped byte inside the ECDSA DER may break its structure; then it is refused at parse time
      expect(isPkiError(e)).toBe(true);
      return;
    }
    const r = verifyChain(bad, { trustAnchors: [rootCa], intermediates: [inter], at });
    expect(r.failures[0]).toMatchObject({
      code: 'PKI_CERT_SIGNATURE_INVALID',
      certificate: tsa.subject,
      chainIndex: 0,
    });
  });

  it('checkValidity throws typed errors with context', () => {
    try {
      checkValidity(tsa, new Date(0), 0);
      expect.unreachable();
    } catch (e) {
      expect(isPkiError(e, 'PKI_CERT_NOT_YET_VALID')).toBe(true);
    }
  });
});
