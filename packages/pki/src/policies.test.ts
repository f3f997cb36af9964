// Certificate policy processing on openssl-made chains, checked against `openssl verify -policy_check`
// (the NIST PKITS §4.8–4.12 vectors run in pkits.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { verifyChain } from './chain.js';
import { ANY_POLICY, processPolicies, type PolicySettings } from './policies.js';
import { opensslWorkdir } from './testing/openssl.js';

const w = opensslWorkdir('pki-pol');
const p = w.path;
const openssl = w.run;
const P1 = '1.2.156.112.1.1';
const P2 = '1.2.156.112.1.2';
writeFileSync(
  p('ext.cnf'),
  `[req]
distinguished_name=dn
[dn]
[root]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
certificatePolicies=${P1},${P2}
policyConstraints=critical,requireExplicitPolicy:0
[caAny]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
certificatePolicies=2.5.29.32.0
[p1]
basicConstraints=CA:FALSE
certificatePolicies=${P1}
[p3]
basicConstraints=CA:FALSE
certificatePolicies=1.2.156.112.1.3
[none]
basicConstraints=CA:FALSE
`,
);
const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
openssl(
  'req',
  '-x509',
  ...key,
  '-keyout',
  p('root.key'),
  '-out',
  p('root.pem'),
  '-subj',
  '/CN=Policy Root',
  '-config',
  p('ext.cnf'),
  '-extensions',
  'root',
  '-days',
  '3',
);
function issue(name: string, issuer: string, ext: string): ParsedCertificate {
  openssl(
    'req',
    '-new',
    ...key,
    '-keyout',
    p(`${name}.key`),
    '-out',
    p(`${name}.csr`),
    '-subj',
    `/CN=${name}`,
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
    '-extfile',
    p('ext.cnf'),
    '-extensions',
    ext,
    '-days',
    '2',
    '-out',
    p(`${name}.pem`),
  );
  return parseCertificate(readFileSync(p(`${name}.pem`), 'utf8'));
}
const root = parseCertificate(readFileSync(p('root.pem'), 'utf8'));
const ca = issue('ca', 'root', 'ca');
const caAny = issue('caAny', 'root', 'caAny');
const leaves = {
  p1: issue('leafP1', 'ca', 'p1'),
  p3: issue('leafP3', 'ca', 'p3'),
  none: issue('leafNone', 'ca', 'none'),
  anyP3: issue('anyLeafP3', 'caAny', 'p3'),
};
const at = new Date(Date.now() + 60_000);

function ours(leaf: ParsedCertificate, inter: ParsedCertificate, settings?: PolicySettings): string[] {
  return verifyChain(leaf, {
    trustAnchors: [root],
    intermediates: [inter],
    at,
    ...(settings ? { certificatePolicies: settings } : {}),
  }).failures.map((f) => f.code);
}

/** openssl's user policy set is empty unless given: pass anyPolicy for RFC 5280's default. */
function opensslOk(leaf: string, inter: string, ...flags: string[]): boolean {
  if (!flags.includes('-policy')) flags.push('-policy', ANY_POLICY);
  try {
    openssl(
      'verify',
      '-policy_check',
      ...flags,
      '-CAfile',
      p('root.pem'),
      '-untrusted',
      p(`${inter}.pem`),
      p(`${leaf}.pem`),
    );
    return true;
  } catch {
    return false;
  }
}

describe('certificate policies (RFC 5280 §6.1)', () => {
  it('requireExplicitPolicy:0 at the CA: a leaf under one of its policies is valid, others are PKI_POLICY', () => {
    expect([ours(leaves.p1, ca), opensslOk('leafP1', 'ca')]).toEqual([[], true]);
    expect([ours(leaves.p3, ca), opensslOk('leafP3', 'ca')]).toEqual([['PKI_POLICY'], false]);
    expect([ours(leaves.none, ca), opensslOk('leafNone', 'ca')]).toEqual([['PKI_POLICY'], false]);
  });

  it('an anyPolicy CA passes any leaf policy; a user policy set narrows it (openssl -policy -explicit_policy)', () => {
    expect([ours(leaves.anyP3, caAny), opensslOk('anyLeafP3', 'caAny')]).toEqual([[], true]);
    const strict = { initialPolicySet: [P1], initialExplicitPolicy: true };
    expect([
      ours(leaves.anyP3, caAny, strict),
      opensslOk('anyLeafP3', 'caAny', '-policy', P1, '-explicit_policy'),
    ]).toEqual([['PKI_POLICY'], false]);
    expect([
      ours(leaves.p1, ca, strict),
      opensslOk('leafP1', 'ca', '-policy', P1, '-explicit_policy'),
    ]).toEqual([[], true]);
  });

  it('reports the policies the path is valid for, and anyPolicy when nothing constrains it', () => {
    expect(processPolicies([leaves.p1, ca, root]).policies).toEqual([P1]);
    expect(processPolicies([leaves.anyP3, caAny, root]).policies).toEqual(['1.2.156.112.1.3']);
    expect(processPolicies([root]).policies).toEqual([ANY_POLICY]);
    const f = processPolicies([leaves.none, ca, root]).failures[0];
    expect(f).toMatchObject({
      code: 'PKI_POLICY',
      check: 'policy',
      certificate: 'CN=leafNone',
      chainIndex: 0,
    });
  });
});
