// Name constraints on openssl-made certificates (the NIST PKITS §4.13 vectors run in pkits.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { verifyChain } from './chain.js';
import { checkNameConstraints, nameConstraintsOf } from './name-constraints.js';
import { opensslWorkdir } from './testing/openssl.js';

const w = opensslWorkdir('pki-nc');
const p = w.path;
const openssl = w.run;
const LEAVES: Record<string, { subj: string; san?: string }> = {
  ok: {
    subj: '/C=CN/O=Hospital A/CN=Doctor',
    san: 'DNS:his.hospital.example,email:doc@mail.hospital.example,IP:10.1.2.3',
  },
  caseFolded: { subj: '/C=CN/O=HOSPITAL  a/CN=Nurse' },
  noSan: { subj: '/C=CN/O=Hospital A/CN=No SAN' },
  dnsOutside: { subj: '/C=CN/O=Hospital A/CN=x', san: 'DNS:his.other.example' },
  dnsExcluded: { subj: '/C=CN/O=Hospital A/CN=x', san: 'DNS:pc1.lab.hospital.example' },
  emailOutside: { subj: '/C=CN/O=Hospital A/CN=x', san: 'email:doc@gmail.example' },
  ipOutside: { subj: '/C=CN/O=Hospital A/CN=x', san: 'IP:192.168.1.1' },
  dnOutside: { subj: '/C=CN/O=Other Hospital/CN=x' },
  subjectEmail: { subj: '/C=CN/O=Hospital A/CN=x/emailAddress=someone@elsewhere.example' },
  uriOutside: { subj: '/C=CN/O=Hospital A/CN=x', san: 'URI:https://evil.example/x' },
};
writeFileSync(
  p('ext.cnf'),
  `[req]
distinguished_name=dn
[dn]
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
nameConstraints=critical,permitted;DNS:.hospital.example,permitted;email:.hospital.example,permitted;dirName:dir_sect,permitted;IP:10.0.0.0/255.0.0.0,permitted;URI:.hospital.example,excluded;DNS:lab.hospital.example
[dir_sect]
C=CN
O=Hospital A
${Object.entries(LEAVES)
  .map(([n, l]) => `[${n}]\nbasicConstraints=CA:FALSE\n${l.san ? `subjectAltName=${l.san}\n` : ''}`)
  .join('')}`,
);
openssl(
  'req',
  '-x509',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  p('ca.key'),
  '-out',
  p('ca.pem'),
  '-subj',
  '/C=CN/O=Hospital A/CN=Constrained CA',
  '-config',
  p('ext.cnf'),
  '-extensions',
  'ca',
  '-days',
  '3',
);
const ca = parseCertificate(readFileSync(p('ca.pem'), 'utf8'));
const leaf = (name: string): ParsedCertificate => {
  const l = LEAVES[name];
  if (!l) throw new Error(name);
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    p(`${name}.key`),
    '-out',
    p(`${name}.csr`),
    '-subj',
    l.subj,
    '-config',
    p('ext.cnf'),
  );
  openssl(
    'x509',
    '-req',
    '-in',
    p(`${name}.csr`),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-extfile',
    p('ext.cnf'),
    '-extensions',
    name,
    '-days',
    '2',
    '-out',
    p(`${name}.pem`),
  );
  return parseCertificate(readFileSync(p(`${name}.pem`), 'utf8'));
};
const at = new Date(Date.now() + 60_000);
const verdict = (name: string): { ours: string[]; openssl: boolean } => {
  const cert = leaf(name);
  const ours = verifyChain(cert, { trustAnchors: [ca], at }).failures.map((f) => f.code);
  let ok = true;
  try {
    openssl('verify', '-CAfile', p('ca.pem'), p(`${name}.pem`));
  } catch {
    ok = false;
  }
  return { ours, openssl: ok };
};

describe('name constraints (RFC 5280 §4.2.1.10)', () => {
  it('decodes the permitted and excluded subtrees openssl wrote', () => {
    const nc = nameConstraintsOf(ca);
    expect(nc?.permitted?.map((b) => b.kind).sort()).toEqual(['dn', 'dns', 'email', 'ip-range', 'uri']);
    expect(nc?.permitted?.find((b) => b.kind === 'ip-range')).toEqual({
      kind: 'ip-range',
      address: Uint8Array.of(10, 0, 0, 0),
      mask: Uint8Array.of(255, 0, 0, 0),
    });
    expect(nc?.excluded).toEqual([{ kind: 'dns', value: 'lab.hospital.example' }]);
  });

  it.each(['ok', 'caseFolded', 'noSan'])('%s: within the subtrees, valid (openssl agrees)', (name) => {
    expect(verdict(name)).toEqual({ ours: [], openssl: true });
  });

  it.each([
    'dnsOutside',
    'dnsExcluded',
    'emailOutside',
    'ipOutside',
    'dnOutside',
    'subjectEmail',
    'uriOutside',
  ])('%s: PKI_NAME_CONSTRAINTS (openssl agrees)', (name) => {
    expect(verdict(name)).toEqual({ ours: ['PKI_NAME_CONSTRAINTS'], openssl: false });
  });

  it('names the violating name, certificate and constraining CA', () => {
    const [f] = checkNameConstraints([leaf('dnsExcluded'), ca]);
    expect(f).toMatchObject({ chainIndex: 0, check: 'nameConstraints', code: 'PKI_NAME_CONSTRAINTS' });
    expect(f?.message).toBe(
      'dns pc1.lab.hospital.example of CN=x,O=Hospital A,C=CN is excluded by the name constraints of CN=Constrained CA,O=Hospital A,C=CN',
    );
  });
});
