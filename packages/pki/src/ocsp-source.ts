/**
 * A {@link RevocationSource} over OCSP responses (RFC 6960), for chain validation at a given time. A response
 * counts for a certificate when one of its SingleResponses has the certificate's CertID; it is then verified
 * with {@link verifyOcspResponse} (responder authorisation, signature, window, …). A response issued after the
 * validation time is accepted: a later 'good' implies good at the earlier time, and a later 'revoked' tells
 * when the revocation happened. Revoked at or before `at` → revoked; revoked after `at` → good at `at`.
 *
 *   CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
 */
import type { AlgorithmPolicy } from './algorithms.js';
import type { RevocationOptions, RevocationSource, RevocationStatus } from './chain.js';
import { certIdMatches } from './ocsp-request.js';
import { parseOcspResponse, type ParsedOcspResponse } from './ocsp-response.js';
import { verifyOcspResponse } from './ocsp-verify.js';

export interface OcspSourceOptions {
  readonly policy?: AlgorithmPolicy;
  /** Tolerance for the thisUpdate/nextUpdate window (default 5 minutes). */
  readonly clockSkewMs?: number;
  /** Without nextUpdate, how long after thisUpdate a response is current (default: no limit). */
  readonly maxAgeMs?: number;
  /** Accept responses issued after the validation time (default true). */
  readonly acceptNewer?: boolean;
  /**
   * Revocation checking of a delegated responder's own certificate when it lacks id-pkix-ocsp-nocheck
   * (RFC 6960 §4.2.2.2.1), passed to {@link verifyOcspResponse}: a response whose responder is revoked (or,
   * in 'require' mode, of unknown status) is rejected, and the certificate's status is then 'unknown'.
   * Without it such a responder is accepted, its status reported as not checked.
   */
  readonly responderRevocation?: RevocationOptions;
}

/**
 * A revocation source answering from `responses` (DER, PEM or parsed). Throws PkiError PKI_ASN1_INVALID /
 * PKI_DEPTH_LIMIT / PKI_SIZE_LIMIT for a response that does not parse.
 */
export function ocspRevocationSource(
  responses: readonly (ParsedOcspResponse | Uint8Array | string)[],
  options: OcspSourceOptions = {},
): RevocationSource {
  const parsed = responses.map((r) =>
    typeof r === 'object' && 'statusName' in r ? r : parseOcspResponse(r),
  );
  return {
    kind: 'ocsp',
    status(cert, issuer, at): RevocationStatus | undefined {
      const mine = parsed.filter((r) =>
        r.basic?.responses.some((s) => certIdMatches(s.certId, cert, issuer)),
      );
      if (mine.length === 0) return undefined;
      const answers: RevocationStatus[] = [];
      const rejected: string[] = [];
      for (const response of mine) {
        const v = verifyOcspResponse({
          response,
          certificate: cert,
          issuer,
          at,
          acceptNewer: options.acceptNewer ?? true,
          ...(options.policy ? { policy: options.policy } : {}),
          ...(options.clockSkewMs === undefined ? {} : { clockSkewMs: options.clockSkewMs }),
          ...(options.maxAgeMs === undefined ? {} : { maxAgeMs: options.maxAgeMs }),
          ...(options.responderRevocation ? { responderRevocation: options.responderRevocation } : {}),
        });
        if (!v.valid) {
          rejected.push(v.failures.map((f) => `${f.code}: ${f.message}`).join('; '));
          continue;
        }
        const by = `OCSP response of ${v.responder?.subject ?? '?'} produced ${v.producedAt?.toISOString() ?? '?'}`;
        if (v.status === 'revoked' && v.revokedAt !== undefined && v.revokedAt.getTime() <= at.getTime()) {
          answers.push({
            status: 'revoked',
            source: 'ocsp',
            revokedAt: v.revokedAt,
            ...(v.reason ? { reason: v.reason } : {}),
            explanation: `${by}: revoked at ${v.revokedAt.toISOString()}${v.reason ? ` (${v.reason})` : ''}`,
          });
        } else if (v.status === 'revoked') {
          answers.push({
            status: 'good',
            source: 'ocsp',
            explanation: `${by}: revoked only at ${v.revokedAt?.toISOString() ?? '?'}, after ${at.toISOString()}`,
          });
        } else if (v.status === 'good') {
          answers.push({ status: 'good', source: 'ocsp', explanation: `${by}: good` });
        } else {
          answers.push({
            status: 'unknown',
            source: 'ocsp',
            explanation: `${by}: the responder does not know it`,
          });
        }
      }
      const decided =
        answers.find((a) => a.status === 'revoked') ??
        answers.find((a) => a.status === 'good') ??
        answers.find((a) => a.status === 'unknown');
      if (decided) return decided;
      return {
        status: 'unknown',
        source: 'ocsp',
        explanation: `OCSP responses for serial ${cert.serialHex} rejected: ${rejected.join(' | ')}`,
      };
    },
  };
}
