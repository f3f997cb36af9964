/**
 * OCSP response building (RFC 6960 §4.2.1), for the test PKI toolkit, the demo and tests: a BasicOCSPResponse
 * signed with a {@link Signer} — by the CA itself or by a delegated responder — with good / revoked / unknown
 * SingleResponses, revocation reasons and the request's nonce echoed. DER throughout; times in whole seconds.
 *
 *   OCSPResponse ::= SEQUENCE { responseStatus OCSPResponseStatus, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 *   ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
 *                                    signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 *   ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, responderID ResponderID,
 *     producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
 *     responseExtensions [1] EXPLICIT Extensions OPTIONAL }
 *   SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *     nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, singleExtensions [1] EXPLICIT Extensions OPTIONAL }
 *   CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
 *   RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 */
import type { ParsedCertificate } from './certificate.js';
import {
  algorithmIdentifier,
  bitString,
  enumerated,
  explicit,
  generalizedTime,
  nullValue,
  octetString,
  oid,
  sequence,
  signatureAlgorithmIdentifier,
  tlv,
} from './der-writer.js';
import { PkiError } from './errors.js';
import { OCSP_OID, certIdOf, responderKeyHash, type CertIdFields, type CertIdHash } from './ocsp-request.js';
import {
  CRL_REASON,
  OCSP_RESPONSE_STATUS,
  type CrlReasonName,
  type OcspResponseStatusName,
} from './ocsp-response.js';
import type { Signer } from './signer.js';

export interface OcspSingleResponseSpec {
  /** The certificate and its issuer (the CertID is computed with `hash`) … */
  readonly certificate?: ParsedCertificate;
  readonly issuer?: ParsedCertificate;
  /** … or the CertID as asked in a request (answered as asked). */
  readonly certId?: CertIdFields;
  readonly hash?: CertIdHash;
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt?: Date;
  readonly reason?: CrlReasonName;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
}

export interface BuildOcspResponseOptions {
  /** The responder's key: the issuing CA's, or a delegated responder's (id-kp-OCSPSigning). */
  readonly signer: Signer;
  /** The certificate of `signer`. */
  readonly responderCertificate: ParsedCertificate;
  /** ResponderID form (default 'name'). */
  readonly responderId?: 'name' | 'key';
  readonly producedAt: Date;
  readonly responses: readonly OcspSingleResponseSpec[];
  /** A nonce to echo (from the request). */
  readonly nonce?: Uint8Array;
  /** Certificates to include (default: the responder's own). */
  readonly certificates?: readonly ParsedCertificate[];
}

function serialInteger(serialHex: string): Uint8Array {
  const bytes = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
  const body = (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes;
  return tlv(0x02, body);
}

function certIdDer(id: CertIdFields): Uint8Array {
  return sequence(
    algorithmIdentifier(id.hashAlgorithm, nullValue()),
    octetString(id.issuerNameHash),
    octetString(id.issuerKeyHash),
    serialInteger(id.serialHex),
  );
}

function singleResponse(s: OcspSingleResponseSpec): Uint8Array {
  let id = s.certId;
  if (id === undefined) {
    if (!s.certificate || !s.issuer)
      throw new PkiError('PKI_INVALID_ARGUMENT', 'a SingleResponse needs certId or certificate and issuer');
    id = certIdOf(s.certificate, s.issuer, s.hash ?? 'sha1');
  }
  let status: Uint8Array;
  if (s.status === 'good') status = Uint8Array.of(0x80, 0);
  else if (s.status === 'unknown') status = Uint8Array.of(0x82, 0);
  else {
    if (s.revokedAt === undefined)
      throw new PkiError('PKI_INVALID_ARGUMENT', 'a revoked status needs revokedAt');
    status = tlv(
      0xa1,
      generalizedTime(s.revokedAt),
      ...(s.reason === undefined ? [] : [explicit(0, enumerated(CRL_REASON[s.reason]))]),
    );
  }
  return sequence(
    certIdDer(id),
    status,
    generalizedTime(s.thisUpdate),
    ...(s.nextUpdate === undefined ? [] : [explicit(0, generalizedTime(s.nextUpdate))]),
  );
}

/** Builds a successful DER OCSPResponse with a signed BasicOCSPResponse. Throws PKI_INVALID_ARGUMENT. */
export function buildOcspResponse(options: BuildOcspResponseOptions): Uint8Array {
  if (options.responses.length === 0) throw new PkiError('PKI_INVALID_ARGUMENT', 'no SingleResponses');
  const responder = options.responderCertificate;
  const responderId =
    options.responderId === 'key'
      ? explicit(2, octetString(responderKeyHash(responder)))
      : explicit(1, responder.subjectDer);
  const extensions =
    options.nonce === undefined
      ? []
      : [explicit(1, sequence(sequence(oid(OCSP_OID.nonce), octetString(octetString(options.nonce)))))];
  const tbs = sequence(
    responderId,
    generalizedTime(options.producedAt),
    sequence(...options.responses.map(singleResponse)),
    ...extensions,
  );
  const signature = options.signer.sign(tbs);
  const certs = options.certificates ?? [responder];
  const basic = sequence(
    tbs,
    signatureAlgorithmIdentifier(options.signer.signatureAlgorithm),
    bitString(signature),
    ...(certs.length === 0 ? [] : [explicit(0, sequence(...certs.map((c) => c.der)))]),
  );
  return sequence(enumerated(0), explicit(0, sequence(oid(OCSP_OID.basic), octetString(basic))));
}

/** An unsuccessful OCSPResponse (no responseBytes): malformedRequest, internalError, tryLater, sigRequired, unauthorized. */
export function buildOcspErrorResponse(status: Exclude<OcspResponseStatusName, 'successful'>): Uint8Array {
  return sequence(enumerated(OCSP_RESPONSE_STATUS[status]));
}
