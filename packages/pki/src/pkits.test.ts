/**
 * NIST PKITS (Public Key Infrastructure Test Suite, path validation) run through our chain validation.
 *
 * The vectors (`../shared/testdata/nist-pkits/vectors.json`) give each test's path (trust anchor first), the CRLs
 * it names, the expected outcome and the initial policy settings. The CRL files are not shipped, so:
 * - a vector whose outcome is about revocation (PKITS §4.4 CRLs, §4.14 distribution points, §4.15 delta-CRLs,
 *   and the §4.5/§4.7 tests whose end entity is revoked or whose CA cannot sign its CRL) is NOT RUN — it is
 *   reported as such and never counted as passed;
 * - every other vector is run with revocation checking off: an expected-valid path must validate, an
 *   expected-invalid path must be rejected *for the reason the test is about* (the failure code below), so a
 *   rejection for an unrelated reason (e.g. an unsupported algorithm) is not a pass.
 *
 * Vectors we fail for want of a feature are listed in KNOWN_FAILURES with the reason. The test fails when a
 * vector outside that list fails (a regression) and when a listed vector passes (the list must stay true).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { verifyChain } from './chain.js';
import { failureOf, type PkiErrorCode, type VerificationFailure } from './errors.js';

interface Vector {
  readonly Name: string;
  readonly CertPath: readonly string[];
  readonly CRLPath: readonly string[];
  readonly ShouldValidate: boolean;
  readonly InitialPolicySet: readonly string[];
  readonly InitialPolicyMappingInhibit: boolean;
  readonly InitialExplicitPolicy: boolean;
  readonly InitialAnyPolicyInhibit: boolean;
}

const ROOT = new URL('../../../../shared/testdata/nist-pkits/', import.meta.url);
const vectors = JSON.parse(readFileSync(new URL('vectors.json', ROOT), 'utf8')) as Vector[];
const certCache = new Map<string, ParsedCertificate>();
function cert(file: string): ParsedCertificate {
  let c = certCache.get(file);
  if (!c) {
    c = parseCertificate(new Uint8Array(readFileSync(new URL(`certs/${file}`, ROOT))));
    certCache.set(file, c);
  }
  return c;
}

/** Section number ("4.4.1") of a vector name. */
const section = (v: Vector): string => v.Name.split(' ')[0] ?? '';

/** Vectors whose outcome depends on the CRL files, which are not available. */
function needsCrls(v: Vector): boolean {
  const s = section(v);
  if (s.startsWith('4.4.') || s.startsWith('4.14.') || s.startsWith('4.15.')) return true;
  // End entity revoked (4.5.2, 4.5.5, 4.5.7); CA without cRLSign, so its CRL cannot be used (4.7.4, 4.7.5).
  return ['4.5.2', '4.5.5', '4.5.7', '4.7.4', '4.7.5'].includes(s);
}

/** The failure an expected-invalid vector is about, by PKITS section. */
function expectedCode(v: Vector): PkiErrorCode {
  const s = section(v);
  const by: [string, PkiErrorCode][] = [
    ['4.1.', 'PKI_CERT_SIGNATURE_INVALID'],
    ['4.2.1', 'PKI_CERT_NOT_YET_VALID'],
    ['4.2.2', 'PKI_CERT_NOT_YET_VALID'],
    ['4.2.', 'PKI_CERT_EXPIRED'],
    ['4.3.', 'PKI_CHAIN_INCOMPLETE'],
    ['4.5.8', 'PKI_KEY_USAGE'],
    ['4.6.', 'PKI_PATH_LENGTH'],
    ['4.7.', 'PKI_KEY_USAGE'],
    ['4.8.', 'PKI_POLICY'],
    ['4.9.', 'PKI_POLICY'],
    ['4.10.', 'PKI_POLICY'],
    ['4.11.', 'PKI_POLICY'],
    ['4.12.', 'PKI_POLICY'],
    ['4.13.', 'PKI_NAME_CONSTRAINTS'],
    ['4.16.', 'PKI_UNKNOWN_CRITICAL_EXTENSION'],
  ];
  const hit = by.find(([prefix]) => s === prefix || (prefix.endsWith('.') && s.startsWith(prefix)));
  if (!hit) throw new Error(`no expected failure code for ${v.Name}`);
  return hit[1];
}

/**
 * Vectors we are known to fail, with the reason. Keep it exact: the test fails if one of these starts to pass.
 */
const KNOWN_FAILURES: ReadonlyMap<string, string> = new Map<string, string>([
  // DSA (id-dsa-with-sha1 and parameter inheritance) is not supported, deliberately: obsolete, not in GM/T use.
  ['4.1.4 Valid DSA Signatures Test4', 'DSA not supported'],
  ['4.1.5 Valid DSA Parameter Inheritance Test5', 'DSA not supported'],
]);

/** The policy names of vectors.json (PKITS §3: NIST-test-policy-N is 2.16.840.1.101.3.2.1.48.N). */
const POLICY_OIDS: Readonly<Record<string, string>> = {
  anyPolicy: '2.5.29.32.0',
  ...Object.fromEntries(
    [1, 2, 3, 4, 5, 6].map((k) => [`NIST-test-policy-${k}`, `2.16.840.1.101.3.2.1.48.${k}`]),
  ),
};

const AT = new Date('2024-06-01T00:00:00Z'); // inside the 2010–2030 validity of the PKITS certificates

interface Outcome {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'not run';
  readonly detail: string;
}

function runVector(v: Vector): Outcome {
  if (needsCrls(v)) return { name: v.Name, status: 'not run', detail: 'needs CRL files' };
  const [anchorFile, ...rest] = v.CertPath;
  const leafFile = rest[rest.length - 1];
  if (anchorFile === undefined || leafFile === undefined) throw new Error(`bad vector ${v.Name}`);
  let result: { valid: boolean; failures: readonly VerificationFailure[] };
  try {
    result = verifyChain(cert(leafFile), {
      trustAnchors: [cert(anchorFile)],
      intermediates: rest.slice(0, -1).map(cert),
      at: AT,
      certificatePolicies: {
        initialPolicySet: v.InitialPolicySet.map((p) => POLICY_OIDS[p] ?? p),
        initialExplicitPolicy: v.InitialExplicitPolicy,
        initialPolicyMappingInhibit: v.InitialPolicyMappingInhibit,
        initialAnyPolicyInhibit: v.InitialAnyPolicyInhibit,
      },
    });
  } catch (e) {
    // A certificate we cannot parse: the path is rejected with that error.
    result = { valid: false, failures: [failureOf(e)] };
  }
  const codes = result.failures.map((f) => f.code);
  const detail =
    codes.length === 0 ? 'valid' : result.failures.map((f) => `${f.code} ${f.message}`).join('; ');
  if (v.ShouldValidate) return { name: v.Name, status: result.valid ? 'pass' : 'fail', detail };
  const want = expectedCode(v);
  // 4.1.2 and 4.1.6 corrupt the signature's first octet, which is the BIT STRING's unused-bits count: a
  // signature that cannot even be decoded is rejected at parsing, and that is the right reason.
  const rightReason = result.failures.some(
    (f) =>
      f.code === want ||
      (want === 'PKI_CERT_SIGNATURE_INVALID' &&
        f.code === 'PKI_ASN1_INVALID' &&
        f.message.includes('signature')),
  );
  return { name: v.Name, status: rightReason ? 'pass' : 'fail', detail: `want ${want}; got ${detail}` };
}

describe('NIST PKITS path validation', () => {
  const outcomes = vectors.map(runVector);

  it('covers the 249 vectors of the suite, and the known-failure list names only decidable vectors', () => {
    expect(vectors).toHaveLength(249);
    for (const name of KNOWN_FAILURES.keys()) {
      const o = outcomes.find((x) => x.name === name);
      expect(o, name).toBeDefined();
      expect(o?.status, name).not.toBe('not run');
    }
  });

  it('every decidable vector gives the expected outcome, except the listed known failures', () => {
    const summary = { pass: 0, fail: 0, 'not run': 0 };
    for (const o of outcomes) summary[o.status]++;
    const knownFailing = outcomes.filter((o) => o.status === 'fail' && KNOWN_FAILURES.has(o.name)).length;
    console.log(
      `PKITS: ${summary.pass} passed, ${summary.fail} failed (${knownFailing} known), ${summary['not run']} not run (need CRLs), of ${outcomes.length}`,
    );
    const regressions = outcomes.filter((o) => o.status === 'fail' && !KNOWN_FAILURES.has(o.name));
    const nowPassing = outcomes.filter((o) => o.status === 'pass' && KNOWN_FAILURES.has(o.name));
    expect(regressions.map((o) => `${o.name}: ${o.detail}`)).toEqual([]);
    expect(nowPassing.map((o) => `${o.name} passes: remove it from KNOWN_FAILURES`)).toEqual([]);
  });
});
