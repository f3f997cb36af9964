/**
 * RFC 3161 token checks, each named: the imprint against the data (or digest), the TSA's signature over the
 * TSTInfo, the ESSCertID(v2) binding of the signing certificate (and the tsa name), the timeStamping EKU, the
 * TSA certificate's validity at genTime, and its chain to the platform root (or a root the package includes).
 */
import {
  verifyTimeStampToken,
  type ParsedCertificate,
  type TimeStampVerification,
  type VerificationFailure,
} from '@yizheng/pki';
import type { Checks } from './checks.js';
import type { EvidenceCrypto } from './crypto.js';

/** Check names of a token, in output order. */
export const TIMESTAMP_CHECKS = [
  'timestamp-signature',
  'timestamp-imprint',
  'timestamp-ess-cert-id',
  'timestamp-tsa-eku',
  'timestamp-tsa-validity',
  'timestamp-tsa-chain',
] as const;

function groupOf(f: VerificationFailure): (typeof TIMESTAMP_CHECKS)[number] {
  switch (f.check) {
    case 'imprint':
      return 'timestamp-imprint';
    case 'signingCertificate':
    case 'tsaName':
      return 'timestamp-ess-cert-id';
    case 'extKeyUsage':
      return 'timestamp-tsa-eku';
    case 'validity':
      return 'timestamp-tsa-validity';
    case undefined:
    default:
      return 'timestamp-signature';
  }
}

const describe = (fs: readonly VerificationFailure[]): string =>
  fs.map((f) => `${f.code}: ${f.message}`).join('; ');

export interface TokenTarget {
  data?: Uint8Array;
  digest?: Uint8Array;
}

export interface TokenCheckOptions {
  part: string;
  token: Uint8Array;
  /** What the imprint may cover, tried in order (the first that matches is reported). */
  targets: readonly TokenTarget[];
  /** Roots the TSA may chain to: the platform root first, then roots the package includes. */
  anchors: readonly ParsedCertificate[];
  intermediates: readonly ParsedCertificate[];
  /** The TSA must chain to one of `anchors` (the platform's own stamps); else an unknown root is a skip. */
  requireChain: boolean;
  crypto: EvidenceCrypto;
}

/** Runs the token checks into `checks`; returns the verified genTime when every check but the chain passed. */
export function checkToken(checks: Checks, o: TokenCheckOptions): Date | undefined {
  const run = (t: TokenTarget, anchored: boolean): TimeStampVerification =>
    verifyTimeStampToken({
      token: o.token,
      ...t,
      policy: o.crypto.pki,
      ...(anchored ? { trustAnchors: o.anchors, intermediates: o.intermediates } : {}),
    });
  const first = o.targets[0];
  if (first === undefined) {
    checks.add(o.part, 'timestamp-imprint', false, 'the package has nothing this token could stamp');
    return undefined;
  }
  let r = run(first, false);
  let target = first;
  for (const t of o.targets.slice(1)) {
    if (!r.failures.some((f) => f.check === 'imprint')) break;
    const again = run(t, false);
    if (!again.failures.some((f) => f.check === 'imprint')) {
      r = again;
      target = t;
    }
  }
  const failed = new Map<string, VerificationFailure[]>();
  for (const f of r.failures) failed.set(groupOf(f), [...(failed.get(groupOf(f)) ?? []), f]);
  const genTime = r.genTime?.toISOString() ?? '?';
  const ok: Record<string, string> = {
    'timestamp-signature': `the TSA signed this token (genTime ${genTime})`,
    'timestamp-imprint': 'the imprint matches what the token stamps',
    'timestamp-ess-cert-id': 'ESSCertID(v2) binds the TSA certificate',
    'timestamp-tsa-eku': 'the TSA certificate has the timeStamping EKU',
    'timestamp-tsa-validity': `the TSA certificate was valid at genTime ${genTime}`,
  };
  for (const name of TIMESTAMP_CHECKS.slice(0, -1)) {
    const fs = failed.get(name);
    checks.add(o.part, name, fs === undefined, fs === undefined ? ok[name]! : describe(fs));
  }
  const tsa = r.tsaCertificate;
  if (!r.valid || tsa === undefined) {
    checks.add(o.part, 'timestamp-tsa-chain', 'skip', 'the token did not verify: its chain is not checked');
    return undefined;
  }
  const anchored = run(target, true);
  if (anchored.valid) {
    const top = anchored.chain?.[anchored.chain.length - 1];
    checks.add(o.part, 'timestamp-tsa-chain', true, `${tsa.subject} ← ${top?.subject ?? '?'}`);
  } else if (o.requireChain) {
    checks.add(o.part, 'timestamp-tsa-chain', false, describe(anchored.failures));
  } else {
    checks.add(
      o.part,
      'timestamp-tsa-chain',
      'skip',
      `${tsa.subject} is not issued under the platform root or a root in the package: its chain is not checked`,
    );
  }
  return r.genTime;
}
