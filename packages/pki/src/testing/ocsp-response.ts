/**
 * OCSP responses from a {@link TestCa} (RFC 6960 §4.2): the status of each certificate is what the CA's
 * revocations say ({@link TestCa.revocationOf}); signed by the CA itself or by its delegated responder
 * ({@link TestCa.ocspResponder}). Answering an OCSPRequest answers its CertIDs as asked (their hash algorithm)
 * and echoes its nonce; a CertID of another issuer is answered 'unknown'. For tests and demos.
 *
 *   SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *     nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, singleExtensions [1] EXPLICIT Extensions OPTIONAL }
 */
import type { ParsedCertificate } from '../certificate.js';
import { PkiError } from '../errors.js';
import { buildOcspResponse, type OcspSingleResponseSpec } from '../ocsp-builder.js';
import { certIdOf, parseOcspRequest, type CertIdFields, type CertIdHash } from '../ocsp-request.js';
import { tspHashOf } from '../time-stamp-req.js';
import type { TestCa, TestCertificate } from './test-pki.js';

const DAY = 86_400_000;

export interface TestOcspResponseOptions {
  /** The certificates to report on (issued by the CA) … */
  readonly certificates?: readonly (TestCertificate | ParsedCertificate)[];
  /** … or an OCSPRequest (DER) to answer: its CertIDs as asked, its nonce echoed. */
  readonly request?: Uint8Array;
  /** Who signs (default the CA itself); a delegated responder from `ca.ocspResponder()`. */
  readonly responder?: TestCertificate;
  readonly responderId?: 'name' | 'key';
  /** Default: the PKI's now. */
  readonly producedAt?: Date;
  /** Default: producedAt. */
  readonly thisUpdate?: Date;
  /** Default: thisUpdate + 1 day; null for none. */
  readonly nextUpdate?: Date | null;
  /** A nonce to include (overrides the request's). */
  readonly nonce?: Uint8Array;
  /** CertID hash for `certificates` (default sha1). */
  readonly hash?: CertIdHash;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** An OCSP response from `ca` (DER). Throws PKI_INVALID_ARGUMENT / PKI_ASN1_INVALID for a bad request. */
export function ocspResponse(ca: TestCa, options: TestOcspResponseOptions): Uint8Array {
  const producedAt = options.producedAt ?? ca.pki.now;
  const thisUpdate = options.thisUpdate ?? producedAt;
  const nextUpdate =
    options.nextUpdate === null ? undefined : (options.nextUpdate ?? new Date(thisUpdate.getTime() + DAY));
  const times = { thisUpdate, ...(nextUpdate ? { nextUpdate } : {}) };
  const statusOf = (serialHex: string): Pick<OcspSingleResponseSpec, 'status' | 'revokedAt' | 'reason'> => {
    const r = ca.revocationOf(serialHex);
    if (r === undefined || r.revokedAt.getTime() > producedAt.getTime()) return { status: 'good' };
    return { status: 'revoked', revokedAt: r.revokedAt, ...(r.reason ? { reason: r.reason } : {}) };
  };
  const responses: OcspSingleResponseSpec[] = [];
  let nonce = options.nonce;
  if (options.request) {
    const req = parseOcspRequest(options.request);
    nonce ??= req.nonce;
    for (const id of req.entries) {
      const hash = tspHashOf(id.hashAlgorithm);
      const ours: CertIdFields | undefined =
        hash === undefined ? undefined : certIdOf(ca.cert, ca.cert, hash);
      const mine =
        ours !== undefined &&
        hex(ours.issuerNameHash) === hex(id.issuerNameHash) &&
        hex(ours.issuerKeyHash) === hex(id.issuerKeyHash);
      responses.push({ certId: id, ...(mine ? statusOf(id.serialHex) : { status: 'unknown' }), ...times });
    }
  }
  for (const c of options.certificates ?? []) {
    const cert = 'cert' in c ? c.cert : c;
    if (hex(cert.issuerDer) !== hex(ca.cert.subjectDer))
      throw new PkiError('PKI_INVALID_ARGUMENT', `${cert.subject} was not issued by ${ca.cert.subject}`);
    responses.push({
      certificate: cert,
      issuer: ca.cert,
      hash: options.hash ?? 'sha1',
      ...statusOf(cert.serialHex),
      ...times,
    });
  }
  if (responses.length === 0) throw new PkiError('PKI_INVALID_ARGUMENT', 'give certificates or a request');
  const responder = options.responder ?? ca;
  return buildOcspResponse({
    signer: responder.signer,
    responderCertificate: responder.cert,
    ...(options.responderId ? { responderId: options.responderId } : {}),
    producedAt,
    responses,
    ...(nonce ? { nonce } : {}),
  });
}
