/**
 * Certification path building and validation at a given time (RFC 5280 §6, simplified: no policy or name
 * constraints processing). Every failed check is reported with the certificate and its position in the chain.
 */
import type { AlgorithmPolicy } from './algorithms.js';
import {
  checkValidity,
  isIssuerName,
  isSelfIssued,
  isSignedBy,
  type ParsedCertificate,
} from './certificate.js';
import {
  PkiError,
  failureOf,
  resultOf,
  type VerificationFailure,
  type VerificationResult,
} from './errors.js';

/** KeyUsage bits (RFC 5280 §4.2.1.3), as numbers in {@link ParsedCertificate.keyUsage}. */
export const KEY_USAGE = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
} as const;

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

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
}

export interface ChainResult extends VerificationResult {
  /** The path found, end entity first, trust anchor last (as far as it could be built). */
  readonly chain: readonly ParsedCertificate[];
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
    return { ...resultOf([failureOf(e)]), chain: [leaf] };
  }
  const failures: VerificationFailure[] = [];
  chain.forEach((cert, i) => {
    try {
      checkValidity(cert, options.at, i);
    } catch (e) {
      failures.push(failureOf(e));
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
  return { ...resultOf(failures), chain };
}
