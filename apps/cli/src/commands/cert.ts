import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import {
  ANY_POLICY,
  KEY_USAGE,
  checkRevocation,
  gmSm2Provider,
  keyKind,
  namesMatch,
  processPolicies,
  verifyChain,
  verifyCrl,
  type ParsedCertificate,
  type ParsedCrl,
  type PolicySettings,
  type VerificationFailure,
} from '@yizheng/pki';
import { EXIT, UsageError, type Io } from '../cli-error.js';
import {
  collect,
  failureFrom,
  failureLines,
  parseAt,
  readCertificateFiles,
  readCertificates,
  readCrls,
} from './pki-input.js';

const POLICY = { sm2: gmSm2Provider } as const;

const SIGNATURE_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.156.10197.1.501': 'SM3withSM2',
};

const EKU_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

const KU_ORDER: readonly (keyof typeof KEY_USAGE)[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
];

function keyLabel(cert: ParsedCertificate): string {
  try {
    const kind = keyKind(cert.spki);
    return { rsa: 'RSA', 'ec-p256': 'EC P-256', 'ec-p384': 'EC P-384', sm2: 'SM2' }[kind];
  } catch {
    return 'unsupported';
  }
}

/** The human-readable summary printed by `cert show`. */
export function describeCertificate(cert: ParsedCertificate): string {
  const lines: [string, string][] = [
    ['subject', cert.subject],
    ['issuer', cert.issuer],
    ['serial', cert.serialHex],
    ['notBefore', cert.notBefore.toISOString()],
    ['notAfter', cert.notAfter.toISOString()],
    [
      'signature',
      `${SIGNATURE_NAMES[cert.signatureAlgorithm] ?? cert.signatureAlgorithm} (${cert.signatureAlgorithm})`,
    ],
    ['key', keyLabel(cert)],
  ];
  const bc = cert.basicConstraints;
  if (bc)
    lines.push([
      'basicConstraints',
      `CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLength === undefined ? '' : `, pathlen:${bc.pathLength}`}`,
    ]);
  if (cert.keyUsage !== undefined) {
    const ku = cert.keyUsage;
    lines.push(['keyUsage', KU_ORDER.filter((k) => (ku & KEY_USAGE[k]) !== 0).join(', ') || '(none)']);
  }
  if (cert.extKeyUsage)
    lines.push(['extKeyUsage', cert.extKeyUsage.map((o) => EKU_NAMES[o] ?? o).join(', ')]);
  lines.push(['sha256', createHash('sha256').update(cert.der).digest('hex')]);
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  return lines.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}\n`).join('');
}

/**
 * Revocation by the CRLs given: each certificate of the path (but the anchor) whose issuer published one of
 * them is checked, after the CRL itself is verified with that issuer at `at`.
 */
function crlFailures(
  chain: readonly ParsedCertificate[],
  crls: readonly ParsedCrl[],
  at: Date,
): VerificationFailure[] {
  const failures: VerificationFailure[] = [];
  chain.forEach((cert, i) => {
    const issuer = chain[i + 1];
    if (issuer === undefined) return;
    for (const crl of crls) {
      if (!namesMatch(crl.issuerDer, cert.issuerDer)) continue;
      try {
        verifyCrl(crl, issuer, { at, policy: POLICY });
        checkRevocation(crl, cert, at);
      } catch (e) {
        failures.push({ ...failureFrom(e), chainIndex: i, certificate: cert.subject });
      }
    }
  });
  return failures;
}

function purposeOid(v: string): string {
  const named = Object.entries(EKU_NAMES).find(([, n]) => n === v)?.[0];
  if (named !== undefined) return named;
  if (/^\d+(\.\d+)+$/.test(v)) return v;
  throw new UsageError(
    `unknown --purpose ${v} (serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or an OID)`,
  );
}

/** The RFC 5280 §6.1.1 policy inputs from the flags, or undefined when none was given (the defaults). */
export function policySettings(o: {
  policy?: string[];
  explicitPolicy?: boolean;
  inhibitPolicyMapping?: boolean;
  inhibitAnyPolicy?: boolean;
}): PolicySettings | undefined {
  const set = (o.policy ?? []).map((v) => {
    if (v === 'anyPolicy') return ANY_POLICY;
    if (/^[0-2](\.(0|[1-9]\d*))+$/.test(v)) return v;
    throw new UsageError(`--policy ${v} is not an OID (or anyPolicy)`);
  });
  if (set.length === 0 && !o.explicitPolicy && !o.inhibitPolicyMapping && !o.inhibitAnyPolicy)
    return undefined;
  return {
    initialPolicySet: set.length > 0 ? set : [ANY_POLICY],
    initialExplicitPolicy: o.explicitPolicy === true,
    initialPolicyMappingInhibit: o.inhibitPolicyMapping === true,
    initialAnyPolicyInhibit: o.inhibitAnyPolicy === true,
  };
}

export function registerCert(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program.command('cert').description('X.509 certificates (RFC 5280, GM/T 0015)');

  cmd
    .command('show')
    .description('print the fields of a certificate (DER or PEM)')
    .requiredOption('--cert <file>', 'certificate (DER or PEM)')
    .action(async (o: { cert: string }) => {
      for (const cert of await readCertificates(io, o.cert, 'certificate')) io.out(describeCertificate(cert));
    });

  cmd
    .command('verify')
    .description(
      'validate a certificate path at a time: prints "valid" and the path (exit 0) or "invalid: <CODE>: <reason>" (exit 1)',
    )
    .requiredOption('--cert <file>', 'certificate to validate (DER or PEM; the first of a bundle)')
    .option('--ca <file>', 'trust anchor (repeatable; a PEM file may hold several)', collect)
    .option('--untrusted <file>', 'intermediate certificates (repeatable)', collect)
    .option('--crl <file>', 'CRL to check revocation against (repeatable, DER or PEM)', collect)
    .option('--at <iso8601>', 'validation time (default: now)')
    .option('--purpose <eku>', 'required extended key usage: timeStamping, codeSigning, … or an OID')
    .option(
      '--policy <oid>',
      'user-initial-policy-set (RFC 5280 §6.1.1 c): an acceptable certificate policy OID or anyPolicy (repeatable; default anyPolicy)',
      collect,
    )
    .option('--explicit-policy', 'initial-explicit-policy: the path must be valid for a policy of --policy')
    .option('--inhibit-policy-mapping', 'initial-policy-mapping-inhibit: policy mappings are not allowed')
    .option('--inhibit-any-policy', 'initial-any-policy-inhibit: anyPolicy in a certificate does not count')
    .action(
      async (o: {
        cert: string;
        ca?: string[];
        untrusted?: string[];
        crl?: string[];
        at?: string;
        purpose?: string;
        policy?: string[];
        explicitPolicy?: boolean;
        inhibitPolicyMapping?: boolean;
        inhibitAnyPolicy?: boolean;
      }) => {
        const certificatePolicies = policySettings(o);
        const at = parseAt(o.at) ?? new Date();
        if (!o.ca || o.ca.length === 0)
          throw new UsageError('cert verify needs at least one --ca trust anchor');
        const anchors = await readCertificateFiles(io, o.ca, 'trust anchor');
        const intermediates = await readCertificateFiles(io, o.untrusted, 'intermediate certificate');
        const crls = await readCrls(io, o.crl);
        const purpose = o.purpose === undefined ? undefined : purposeOid(o.purpose);
        const [leaf, ...rest] = await readCertificates(io, o.cert, 'certificate');
        if (leaf === undefined) throw new UsageError(`no certificate in ${o.cert}`);
        const result = verifyChain(leaf, {
          trustAnchors: anchors,
          intermediates: [...rest, ...intermediates],
          at,
          policy: POLICY,
          ...(purpose === undefined ? {} : { extKeyUsage: purpose }),
          ...(certificatePolicies === undefined ? {} : { certificatePolicies }),
        });
        const failures = [...result.failures, ...crlFailures(result.chain, crls, at)];
        if (failures.length > 0) {
          io.out(failureLines(failures));
          setExit(EXIT.INVALID);
          return;
        }
        io.out('valid\n');
        result.chain.forEach((c, i) => io.out(`  ${i}: ${c.subject}\n`));
        if (certificatePolicies !== undefined) {
          const { policies } = processPolicies(result.chain, certificatePolicies);
          io.out(`  policies: ${policies.length > 0 ? policies.join(', ') : '(none)'}\n`);
        }
      },
    );
}
