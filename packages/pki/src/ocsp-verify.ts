/**
 * OCSP response verification, client side (RFC 6960 §3.2, §4.2.2.2). Each check is its own failure: response
 * status; responder authorisation (the certificate's issuer itself, or a delegated responder certificate
 * issued by that issuer, carrying id-kp-OCSPSigning and valid at the time); the signature over the
 * tbsResponseData bytes received; a SingleResponse whose CertID names the certificate; the
 * thisUpdate/nextUpdate window at the validation time; the nonce.
 *
 * A delegated responder's own status (RFC 6960 §4.2.2.2.1): with id-pkix-ocsp-nocheck it is trusted for its
 * lifetime and not checked; without it, it is checked against `responderRevocation` when given, and otherwise
 * reported as not checked (`responderStatus`).
 *
 *   ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }
 *   KeyHash ::= OCTET STRING -- SHA-1 hash of responder's public key (excluding the tag, length and unused bits)
 */
import { verifySignature, type AlgorithmPolicy } from './algorithms.js';
import { checkValidity, isIssuerName, isSignedBy, type ParsedCertificate } from './certificate.js';
import { EKU, type RevocationOptions, type RevocationStatus } from './chain.js';
import { failureOf, resultOf, type VerificationFailure, type VerificationResult } from './errors.js';
import { certIdMatches, responderKeyHash } from './ocsp-request.js';
import {
  parseOcspResponse,
  type CrlReasonName,
  type OcspCertStatus,
  type ParsedBasicOcspResponse,
  type ParsedOcspResponse,
  type ParsedSingleResponse,
} from './ocsp-response.js';
import { namesMatch } from './name-compare.js';

export interface VerifyOcspOptions {
  /** An OCSPResponse (DER or PEM), or one already parsed. */
  readonly response: Uint8Array | string | ParsedOcspResponse;
  /** The certificate asked about, and its issuer. */
  readonly certificate: ParsedCertificate;
  readonly issuer: ParsedCertificate;
  /** The validation time. */
  readonly at: Date;
  /** The nonce sent in the request: the response must echo it. */
  readonly nonce?: Uint8Array;
  readonly policy?: AlgorithmPolicy;
  /** Tolerance for the thisUpdate/nextUpdate window (default 5 minutes, as openssl's -validity_period). */
  readonly clockSkewMs?: number;
  /** Without nextUpdate, how long after thisUpdate the response is current (default: no limit, RFC 6960 §4.2.2.1). */
  readonly maxAgeMs?: number;
  /**
   * Accept a response issued after `at` (thisUpdate > at): revocation information from later covers an
   * earlier time. The window and the responder certificate are then checked at thisUpdate / producedAt.
   */
  readonly acceptNewer?: boolean;
  /**
   * Where to check a delegated responder's certificate (issued by `issuer`) that lacks id-pkix-ocsp-nocheck,
   * at the time it is judged at. 'revoked' fails (PKI_REVOKED); no answer fails in 'require' mode
   * (PKI_REVOCATION_UNKNOWN). Without it, such a responder is accepted and reported 'not-checked'.
   */
  readonly responderRevocation?: RevocationOptions;
}

/** What was known about the responder certificate's own revocation status. */
export interface OcspResponderStatus {
  /**
   * 'issuer': signed by the CA itself (nothing to check); 'nocheck': delegated with id-pkix-ocsp-nocheck (not
   * checked, RFC 6960 §4.2.2.2.1); 'not-checked': delegated without nocheck and no `responderRevocation`
   * given; 'good' / 'revoked' / 'unknown': the answer of `responderRevocation`.
   */
  readonly status: 'issuer' | 'nocheck' | 'not-checked' | 'good' | 'revoked' | 'unknown';
  readonly explanation: string;
  /** The deciding answer of `responderRevocation`, when one decided. */
  readonly answer?: RevocationStatus;
}

export interface OcspVerification extends VerificationResult {
  /** What the response says about the certificate (when a matching SingleResponse was found). */
  readonly status: OcspCertStatus | undefined;
  readonly revokedAt: Date | undefined;
  readonly reason: CrlReasonName | undefined;
  readonly thisUpdate: Date | undefined;
  readonly nextUpdate: Date | undefined;
  readonly producedAt: Date | undefined;
  /** The certificate whose key signed the response (the issuer, or a delegated responder). */
  readonly responder: ParsedCertificate | undefined;
  /** The responder certificate's own revocation status, when a responder was accepted. */
  readonly responderStatus: OcspResponderStatus | undefined;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function isResponder(basic: ParsedBasicOcspResponse, cert: ParsedCertificate): boolean {
  const id = basic.responderId;
  if ('byName' in id) return namesMatch(id.byName, cert.subjectDer);
  return hex(id.byKey) === hex(responderKeyHash(cert));
}

/** Verifies an OCSP response for `certificate`; never throws for bad input. */
export function verifyOcspResponse(options: VerifyOcspOptions): OcspVerification {
  const none = {
    status: undefined,
    revokedAt: undefined,
    reason: undefined,
    thisUpdate: undefined,
    nextUpdate: undefined,
    producedAt: undefined,
    responder: undefined,
    responderStatus: undefined,
  };
  let parsed: ParsedOcspResponse;
  try {
    parsed =
      typeof options.response === 'object' && 'statusName' in options.response
        ? options.response
        : parseOcspResponse(options.response);
  } catch (e) {
    return { ...none, ...resultOf([failureOf(e, { check: 'parse' })]) };
  }
  const basic = parsed.basic;
  if (parsed.status !== 0 || basic === undefined) {
    return {
      ...none,
      ...resultOf([
        {
          code: 'PKI_OCSP_STATUS',
          check: 'responseStatus',
          message: `OCSP response status ${parsed.statusName ?? parsed.status}`,
        },
      ]),
    };
  }
  const failures: VerificationFailure[] = [];
  const { certificate, issuer } = options;
  const policy = options.policy ?? {};
  const skew = options.clockSkewMs ?? 5 * 60_000;

  const single: ParsedSingleResponse | undefined = basic.responses.find((r) =>
    certIdMatches(r.certId, certificate, issuer),
  );
  // With acceptNewer, a response from after `at` is judged at its own time.
  const windowAt =
    options.acceptNewer === true && single !== undefined && single.thisUpdate.getTime() > options.at.getTime()
      ? single.thisUpdate
      : options.at;
  const responderAt = windowAt === options.at ? options.at : basic.producedAt;

  // Responder authorisation (RFC 6960 §4.2.2.2).
  let responder: ParsedCertificate | undefined;
  let responderStatus: OcspResponderStatus | undefined;
  try {
    if (isResponder(basic, issuer)) {
      responder = issuer;
      responderStatus = { status: 'issuer', explanation: `signed by the issuer ${issuer.subject} itself` };
    } else {
      const delegated = basic.certificates.find((c) => isResponder(basic, c));
      const ctx = { certificate: delegated?.subject ?? certificate.issuer, check: 'responder' };
      if (delegated === undefined) {
        failures.push({
          ...ctx,
          code: 'PKI_OCSP_SIGNATURE_INVALID',
          message: 'the responder is neither the issuer nor a certificate included in the response',
        });
      } else if (!isIssuerName(delegated, issuer) || !isSignedBy(delegated, issuer, policy)) {
        failures.push({
          ...ctx,
          code: 'PKI_OCSP_SIGNATURE_INVALID',
          message: `responder ${delegated.subject} is not issued by ${issuer.subject}`,
        });
      } else if (!(delegated.extKeyUsage ?? []).includes(EKU.ocspSigning)) {
        failures.push({
          ...ctx,
          code: 'PKI_OCSP_SIGNATURE_INVALID',
          check: 'responderExtKeyUsage',
          message: `responder ${delegated.subject} lacks id-kp-OCSPSigning`,
        });
      } else {
        responder = delegated;
        try {
          checkValidity(delegated, responderAt);
        } catch (e) {
          failures.push(failureOf(e, { check: 'responderValidity' }));
        }
        responderStatus = delegatedStatus(delegated, issuer, responderAt, options.responderRevocation);
        const ctx2 = { certificate: delegated.subject, check: 'responderRevocation' };
        if (responderStatus.status === 'revoked')
          failures.push({ ...ctx2, code: 'PKI_REVOKED', message: responderStatus.explanation });
        else if (responderStatus.status === 'unknown' && options.responderRevocation?.mode === 'require')
          failures.push({ ...ctx2, code: 'PKI_REVOCATION_UNKNOWN', message: responderStatus.explanation });
      }
    }
  } catch (e) {
    failures.push(failureOf(e, { check: 'responder' }));
  }

  if (responder !== undefined) {
    try {
      const ok = verifySignature(
        {
          algorithm: basic.signatureAlgorithm,
          spki: responder.spki,
          data: basic.tbs,
          signature: basic.signature,
        },
        policy,
      );
      if (!ok) {
        failures.push({
          code: 'PKI_OCSP_SIGNATURE_INVALID',
          check: 'signature',
          certificate: responder.subject,
          message: 'the OCSP response signature does not verify',
        });
      }
    } catch (e) {
      failures.push(failureOf(e, { check: 'signature', certificate: responder.subject }));
    }
  }

  if (single === undefined) {
    failures.push({
      code: 'PKI_OCSP_CERT_ID_MISMATCH',
      check: 'certID',
      certificate: certificate.subject,
      message: `the response has no status for serial ${certificate.serialHex}`,
    });
  } else {
    const t = windowAt.getTime();
    if (single.thisUpdate.getTime() > t + skew) {
      failures.push({
        code: 'PKI_OCSP_EXPIRED',
        check: 'thisUpdate',
        message: `thisUpdate ${single.thisUpdate.toISOString()} is after ${windowAt.toISOString()}`,
      });
    }
    const limit =
      single.nextUpdate?.getTime() ??
      (options.maxAgeMs === undefined ? undefined : single.thisUpdate.getTime() + options.maxAgeMs);
    if (limit !== undefined && t > limit + skew) {
      failures.push({
        code: 'PKI_OCSP_EXPIRED',
        check: 'nextUpdate',
        message: `the response was current until ${new Date(limit).toISOString()}, not at ${windowAt.toISOString()}`,
      });
    }
  }

  if (options.nonce !== undefined && (basic.nonce === undefined || hex(basic.nonce) !== hex(options.nonce))) {
    failures.push({
      code: 'PKI_OCSP_NONCE_MISMATCH',
      check: 'nonce',
      message: basic.nonce === undefined ? 'the response carries no nonce' : 'the response nonce differs',
    });
  }

  return {
    ...resultOf(failures),
    status: single?.status,
    revokedAt: single?.revokedAt,
    reason: single?.reason,
    thisUpdate: single?.thisUpdate,
    nextUpdate: single?.nextUpdate,
    producedAt: basic.producedAt,
    responder,
    responderStatus,
  };
}

/** The own status of a delegated responder certificate (RFC 6960 §4.2.2.2.1). */
function delegatedStatus(
  delegated: ParsedCertificate,
  issuer: ParsedCertificate,
  at: Date,
  revocation: RevocationOptions | undefined,
): OcspResponderStatus {
  const who = `responder ${delegated.subject} (serial ${delegated.serialHex})`;
  if (delegated.ocspNoCheck)
    return {
      status: 'nocheck',
      explanation: `${who} carries id-pkix-ocsp-nocheck: its status is not checked`,
    };
  if (revocation === undefined)
    return {
      status: 'not-checked',
      explanation: `${who} lacks id-pkix-ocsp-nocheck and its own revocation status was not checked`,
    };
  const answers: RevocationStatus[] = [];
  for (const source of revocation.sources) {
    try {
      const a = source.status(delegated, issuer, at);
      if (a !== undefined) answers.push(a);
    } catch (e) {
      const f = failureOf(e);
      answers.push({
        status: 'unknown',
        source: source.kind ?? 'crl',
        explanation: `${f.code}: ${f.message}`,
      });
    }
  }
  const answer = answers.find((a) => a.status === 'revoked') ?? answers.find((a) => a.status === 'good');
  if (answer !== undefined)
    return {
      status: answer.status === 'revoked' ? 'revoked' : 'good',
      explanation: `${who}: ${answer.explanation}`,
      answer,
    };
  const why =
    answers.length === 0 ? 'no revocation information' : answers.map((a) => a.explanation).join('; ');
  return {
    status: 'unknown',
    explanation: `${who} lacks id-pkix-ocsp-nocheck and its status is unknown: ${why}${revocation.mode === 'prefer' ? ' (accepted: revocation mode prefer)' : ''}`,
  };
}
