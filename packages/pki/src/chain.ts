/**
 * Certification path building and validation at a given time (RFC 5280 §6, simplified: no policy or name
 * constraints processing). Every failed check is reported with the certificate and its position in the chain.
 */
import type { AlgorithmPolicy } from './algorithms.js';
import {
  KEY_USAGE,
  checkValidity,
  isIssuerName,
  isSelfIssued,
  isSignedBy,
  type ParsedCertificate,
} from './certificate.js';
import { parseCrl, verifyCrl, type ParsedCrl } from './crl.js';
import { EXT_OID } from './extensions.js';
import { checkNameConstraints } from './name-constraints.js';
import { processPolicies, type PolicySettings } from './policies.js';
import {
  PkiError,
  failureOf,
  resultOf,
  type VerificationFailure,
  type VerificationResult,
} from './errors.js';
import { namesMatch } from './name-compare.js';

export { KEY_USAGE };

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

/**
 * What one source says about one certificate at the validation time. `explanation` is for people: which CRL or
 * OCSP response was used, its validity window, and why it was (not) trusted.
 */
export interface RevocationStatus {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly source: 'crl' | 'ocsp';
  readonly revokedAt?: Date;
  /** CRLReason / OCSP revocationReason name (RFC 5280 §5.3.1), when known. */
  readonly reason?: string;
  readonly explanation: string;
}

/**
 * A place to ask whether `cert`, issued by `issuer`, was revoked at `at`: CRLs ({@link crlRevocationSource}),
 * OCSP responses (`ocspRevocationSource`). Returns undefined when it knows nothing about the certificate (e.g.
 * no CRL of that issuer); may throw PkiError, which counts as 'unknown'.
 */
export interface RevocationSource {
  /** What the source consults (default 'crl'), used to label a thrown error. */
  readonly kind?: 'crl' | 'ocsp';
  status(cert: ParsedCertificate, issuer: ParsedCertificate, at: Date): RevocationStatus | undefined;
}

export interface RevocationOptions {
  /** Asked in order; a 'revoked' answer from any source decides, else the first 'good'. */
  readonly sources: readonly RevocationSource[];
  /** 'require': a certificate no source vouches for fails with PKI_REVOCATION_UNKNOWN; 'prefer': it passes. */
  readonly mode: 'require' | 'prefer';
}

/** The revocation check of one certificate of the chain (every one but the trust anchor). */
export interface RevocationCheck {
  readonly chainIndex: number;
  readonly certificate: string;
  /** The deciding answer ('good' or 'revoked'), undefined when no source could decide. */
  readonly status: RevocationStatus | undefined;
  /** Every answer received, in the order of the sources. */
  readonly answers: readonly RevocationStatus[];
  readonly explanation: string;
}

export interface ChainOptions {
  readonly trustAnchors: readonly ParsedCertificate[];
  readonly intermediates?: readonly ParsedCertificate[];
  /** The validation time (signing time, token genTime, …). */
  readonly at: Date;
  /** KeyUsage bits the end entity must have when it has a keyUsage extension. */
  readonly keyUsage?: number;
  /** An extended key usage the end entity must list. */
  readonly extKeyUsage?: string;
  readonly policy?: AlgorithmPolicy;
  /** Maximum chain length (default 10). */
  readonly maxLength?: number;
  /** Check every certificate below the trust anchor for revocation at `at`. */
  readonly revocation?: RevocationOptions;
  /**
   * OIDs of critical extensions the caller processes itself (e.g. nameConstraints, policyConstraints), on top
   * of {@link PROCESSED_EXTENSIONS}. Any other critical extension fails with PKI_UNKNOWN_CRITICAL_EXTENSION.
   */
  readonly processedExtensions?: readonly string[];
  /** RFC 5280 §6.1.1 initial policy inputs (default: any policy, nothing inhibited, no explicit policy required). */
  readonly certificatePolicies?: PolicySettings;
}

/**
 * Critical extensions this validator recognises (RFC 5280 §4.2: a certificate with any other critical
 * extension must be rejected). nameConstraints and the policy extensions (certificatePolicies,
 * policyMappings, policyConstraints, inhibitAnyPolicy) are recognised here; enforcing them is the job of the
 * name-constraints / policy processing hooked into validation, not of this list.
 */
export const PROCESSED_EXTENSIONS: readonly string[] = [
  EXT_OID.nameConstraints,
  EXT_OID.policyMappings,
  EXT_OID.policyConstraints,
  EXT_OID.inhibitAnyPolicy,
  EXT_OID.basicConstraints,
  EXT_OID.keyUsage,
  EXT_OID.extKeyUsage,
  EXT_OID.subjectKeyIdentifier,
  EXT_OID.authorityKeyIdentifier,
  EXT_OID.subjectAltName,
  EXT_OID.issuerAltName,
  EXT_OID.crlDistributionPoints,
  EXT_OID.authorityInfoAccess,
  EXT_OID.certificatePolicies,
  EXT_OID.ocspNoCheck,
];

export interface ChainResult extends VerificationResult {
  /** The path found, end entity first, trust anchor last (as far as it could be built). */
  readonly chain: readonly ParsedCertificate[];
  /** Per certificate, what revocation checking found (empty without `revocation` or a built path). */
  readonly revocation: readonly RevocationCheck[];
}

function sameCert(a: ParsedCertificate, b: ParsedCertificate): boolean {
  return Buffer.from(a.der).equals(Buffer.from(b.der));
}

/** Builds the path from `leaf` to a trust anchor. Throws PKI_CHAIN_INCOMPLETE, PKI_UNTRUSTED_ROOT, PKI_CERT_SIGNATURE_INVALID. */
export function buildChain(leaf: ParsedCertificate, options: ChainOptions): ParsedCertificate[] {
  const max = options.maxLength ?? 10;
  const chain: ParsedCertificate[] = [leaf];
  let current = leaf;
  for (;;) {
    if (options.trustAnchors.some((a) => sameCert(a, current))) return chain;
    if (chain.length > max) {
      throw new PkiError('PKI_PATH_LENGTH', `no trusted path within ${max} certificates`, {
        context: { certificate: leaf.subject, check: 'chain' },
      });
    }
    const context = { certificate: current.subject, chainIndex: chain.length - 1, check: 'issuer' };
    const named = [...options.trustAnchors, ...(options.intermediates ?? [])].filter(
      (c) => isIssuerName(current, c) && !chain.some((x) => sameCert(x, c)),
    );
    const signer = named.find((c) => isSignedBy(current, c, options.policy));
    if (signer === undefined) {
      if (named.length > 0) {
        throw new PkiError('PKI_CERT_SIGNATURE_INVALID', `signature of ${current.subject} does not verify`, {
          context: { ...context, check: 'signature' },
        });
      }
      if (isSelfIssued(current)) {
        throw new PkiError('PKI_UNTRUSTED_ROOT', `${current.subject} is not a trust anchor`, { context });
      }
      throw new PkiError('PKI_CHAIN_INCOMPLETE', `no issuer found for ${current.subject}`, { context });
    }
    chain.push(signer);
    current = signer;
  }
}

/** Builds and validates the path of `leaf` at `options.at`; never throws for bad input. */
export function verifyChain(leaf: ParsedCertificate, options: ChainOptions): ChainResult {
  let chain: ParsedCertificate[];
  try {
    chain = buildChain(leaf, options);
  } catch (e) {
    return { ...resultOf([failureOf(e)]), chain: [leaf], revocation: [] };
  }
  const failures: VerificationFailure[] = [];
  const processed = new Set([...PROCESSED_EXTENSIONS, ...(options.processedExtensions ?? [])]);
  chain.forEach((cert, i) => {
    try {
      checkValidity(cert, options.at, i);
    } catch (e) {
      failures.push(failureOf(e));
    }
    // The trust anchor is trusted as configured, not validated (RFC 5280 §6.1.1 (d)).
    if (i < chain.length - 1 || chain.length === 1) {
      for (const ext of cert.extensions) {
        if (ext.critical && !processed.has(ext.oid)) {
          failures.push({
            certificate: cert.subject,
            chainIndex: i,
            code: 'PKI_UNKNOWN_CRITICAL_EXTENSION',
            check: 'criticalExtension',
            message: `${cert.subject} has an unrecognised critical extension ${ext.oid}`,
          });
        }
      }
    }
    if (i === 0) return;
    const context = { certificate: cert.subject, chainIndex: i };
    const isAnchor = i === chain.length - 1;
    const bc = cert.basicConstraints;
    if (!(bc?.ca ?? false) && !(isAnchor && (cert.asn.tbsCertificate.version as number) < 2)) {
      failures.push({
        ...context,
        code: 'PKI_PATH_LENGTH',
        check: 'basicConstraints',
        message: `${cert.subject} is not a CA`,
      });
    }
    // Intermediates below this issuer, not counting the end entity nor self-issued ones (RFC 5280 §6.1.4 (l)).
    const below = chain.slice(1, i).filter((c) => !isSelfIssued(c)).length;
    if (bc?.pathLength !== undefined && below > bc.pathLength) {
      failures.push({
        ...context,
        code: 'PKI_PATH_LENGTH',
        check: 'pathLenConstraint',
        message: `${cert.subject} allows ${bc.pathLength} intermediates below it, found ${below}`,
      });
    }
    if (cert.keyUsage !== undefined && (cert.keyUsage & KEY_USAGE.keyCertSign) === 0) {
      failures.push({
        ...context,
        code: 'PKI_KEY_USAGE',
        check: 'keyUsage',
        message: `${cert.subject} lacks keyCertSign`,
      });
    }
  });
  const context = { certificate: leaf.subject, chainIndex: 0 };
  if (
    options.keyUsage !== undefined &&
    leaf.keyUsage !== undefined &&
    (leaf.keyUsage & options.keyUsage) === 0
  ) {
    failures.push({
      ...context,
      code: 'PKI_KEY_USAGE',
      check: 'keyUsage',
      message: `${leaf.subject} lacks the required key usage`,
    });
  }
  if (options.extKeyUsage !== undefined && !(leaf.extKeyUsage ?? []).includes(options.extKeyUsage)) {
    failures.push({
      ...context,
      code: 'PKI_EKU',
      check: 'extKeyUsage',
      message: `${leaf.subject} lacks EKU ${options.extKeyUsage}`,
    });
  }
  failures.push(...checkNameConstraints(chain)); // RFC 5280 §6.1.3 (b)–(c), §6.1.4 (g)
  try {
    failures.push(...processPolicies(chain, options.certificatePolicies).failures); // RFC 5280 §6.1.3 (d)–(f)
  } catch (e) {
    failures.push(failureOf(e, { check: 'policy' }));
  }
  const revocation: RevocationCheck[] = [];
  if (options.revocation) {
    for (let i = 0; i < chain.length - 1; i++) {
      const check = revocationCheck(chain, i, options.at, options.revocation);
      revocation.push(check);
      const context = { certificate: check.certificate, chainIndex: i, check: 'revocation' };
      if (check.status?.status === 'revoked') {
        failures.push({ ...context, code: 'PKI_REVOKED', message: check.explanation });
      } else if (check.status === undefined && options.revocation.mode === 'require') {
        failures.push({ ...context, code: 'PKI_REVOCATION_UNKNOWN', message: check.explanation });
      }
    }
  }
  return { ...resultOf(failures), chain, revocation };
}

function revocationCheck(
  chain: readonly ParsedCertificate[],
  i: number,
  at: Date,
  options: RevocationOptions,
): RevocationCheck {
  const cert = chain[i]!;
  const issuer = chain[i + 1]!;
  const answers: RevocationStatus[] = [];
  for (const source of options.sources) {
    try {
      const answer = source.status(cert, issuer, at);
      if (answer !== undefined) answers.push(answer);
    } catch (e) {
      const f = failureOf(e);
      answers.push({
        status: 'unknown',
        source: source.kind ?? 'crl',
        explanation: `${f.code}: ${f.message}`,
      });
    }
  }
  const status = answers.find((a) => a.status === 'revoked') ?? answers.find((a) => a.status === 'good');
  const who = `${cert.subject} (serial ${cert.serialHex})`;
  let explanation: string;
  if (status !== undefined) explanation = status.explanation;
  else if (answers.length === 0) explanation = `no revocation information for ${who} at ${at.toISOString()}`;
  else explanation = `revocation status of ${who} unknown: ${answers.map((a) => a.explanation).join('; ')}`;
  if (status === undefined && options.mode === 'prefer') explanation += ' (accepted: revocation mode prefer)';
  return { chainIndex: i, certificate: cert.subject, status, answers, explanation };
}

/** Critical CRL extensions {@link crlRevocationSource} understands (cRLNumber, authorityKeyIdentifier). */
const CRL_EXTENSIONS_PROCESSED: readonly string[] = ['2.5.29.20', '2.5.29.35'];

/**
 * A {@link RevocationSource} over CRLs (RFC 5280 §6.3, without delta CRLs or distribution-point scoping): a CRL
 * counts for a certificate when its issuer name is the certificate's issuer, its signature verifies under the
 * issuer's key (which must allow cRLSign) and `at` is not after its nextUpdate — a CRL issued after `at` is
 * used too: its revocation dates say whether the certificate was revoked at `at`. Listed with a
 * revocation date at or before `at` → revoked (removeFromCRL entries excepted); otherwise good. CRLs of the
 * issuer that fail those checks make the answer 'unknown', with the reasons.
 */
export function crlRevocationSource(
  crls: readonly (ParsedCrl | Uint8Array | string)[],
  options: { readonly policy?: AlgorithmPolicy } = {},
): RevocationSource {
  const parsed = crls.map((c) => (typeof c === 'object' && 'tbs' in c ? c : parseCrl(c)));
  return {
    kind: 'crl',
    status(cert, issuer, at) {
      const mine = parsed.filter((c) => namesMatch(c.issuerDer, cert.issuerDer));
      if (mine.length === 0) return undefined;
      const rejected: string[] = [];
      for (const crl of mine) {
        const window = `thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate?.toISOString() ?? '(none)'}`;
        const name = `CRL${crl.crlNumber === undefined ? '' : ` #${crl.crlNumber}`} of ${crl.issuer} (${window})`;
        try {
          // Delta CRLs, issuingDistributionPoint scoping and other critical CRL extensions are not processed:
          // such a CRL is not used (RFC 5280 §5.2).
          const unprocessed = crl.criticalExtensions.find((o) => !CRL_EXTENSIONS_PROCESSED.includes(o));
          if (unprocessed !== undefined)
            throw new PkiError(
              'PKI_UNKNOWN_CRITICAL_EXTENSION',
              `critical CRL extension ${unprocessed} not processed`,
            );
          verifyCrl(crl, issuer, options.policy ? { policy: options.policy } : {});
          // A CRL issued after `at` still tells the status at `at` (revocation dates); a stale one does not.
          if (crl.nextUpdate !== undefined && at.getTime() > crl.nextUpdate.getTime())
            throw new PkiError('PKI_CRL_EXPIRED', `the CRL's nextUpdate is before ${at.toISOString()}`);
        } catch (e) {
          const f = failureOf(e);
          rejected.push(`${name} not used: ${f.code} ${f.message}`);
          continue;
        }
        const entry = crl.entries.get(cert.serialHex);
        const who = `${cert.subject} (serial ${cert.serialHex})`;
        if (entry !== undefined && entry.reason !== 'removeFromCRL') {
          const when = entry.revocationDate.toISOString();
          if (entry.revocationDate.getTime() <= at.getTime()) {
            return {
              status: 'revoked',
              source: 'crl',
              revokedAt: entry.revocationDate,
              ...(entry.reason === undefined ? {} : { reason: entry.reason }),
              explanation: `${who} revoked at ${when}${entry.reason === undefined ? '' : ` (${entry.reason})`} according to ${name}`,
            };
          }
          return {
            status: 'good',
            source: 'crl',
            explanation: `${who} was not yet revoked at ${at.toISOString()} (revoked later, at ${when}) according to ${name}`,
          };
        }
        return { status: 'good', source: 'crl', explanation: `${who} not listed in ${name}` };
      }
      return { status: 'unknown', source: 'crl', explanation: rejected.join('; ') };
    },
  };
}
