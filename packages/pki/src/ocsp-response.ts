/**
 * OCSP responses (RFC 6960 §4.2): parsed after the hardened {@link scanDer} intake, keeping the exact bytes
 * of tbsResponseData (what the responder signed) and of the responder's name.
 *
 *   OCSPResponse ::= SEQUENCE { responseStatus OCSPResponseStatus, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 *   OCSPResponseStatus ::= ENUMERATED { successful(0), malformedRequest(1), internalError(2), tryLater(3),
 *                                       sigRequired(5), unauthorized(6) }
 *   ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
 *                                    signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 *   ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, responderID ResponderID,
 *     producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
 *     responseExtensions [1] EXPLICIT Extensions OPTIONAL }
 *   ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }
 *   SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *     nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, singleExtensions [1] EXPLICIT Extensions OPTIONAL }
 *   CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
 *   RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 */
import { BasicOCSPResponse, OCSPResponse } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { childrenOf, fromPem, readHeader, scanDer, tlvBytes, type DerLimits, type Tlv } from './der.js';
import { PkiError } from './errors.js';
import { OCSP_OID, certIdFields, nonceOf, type CertIdFields } from './ocsp-request.js';

export const OCSP_RESPONSE_STATUS = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;
export type OcspResponseStatusName = keyof typeof OCSP_RESPONSE_STATUS;

/** CRLReason (RFC 5280 §5.3.1). */
export const CRL_REASON = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type CrlReasonName = keyof typeof CRL_REASON;

export type OcspCertStatus = 'good' | 'revoked' | 'unknown';

export interface ParsedSingleResponse {
  readonly certId: CertIdFields;
  readonly status: OcspCertStatus;
  readonly revokedAt: Date | undefined;
  readonly reason: CrlReasonName | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

export interface ParsedBasicOcspResponse {
  /** Exact bytes of tbsResponseData, what the responder signed. */
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly certificates: readonly ParsedCertificate[];
  /** The responder: its Name's exact DER, or the SHA-1 of its key. */
  readonly responderId: { readonly byName: Uint8Array } | { readonly byKey: Uint8Array };
  readonly producedAt: Date;
  readonly responses: readonly ParsedSingleResponse[];
  readonly nonce: Uint8Array | undefined;
  /** Response extension OIDs. */
  readonly extensions: readonly string[];
}

export interface ParsedOcspResponse {
  readonly der: Uint8Array;
  readonly status: number;
  readonly statusName: OcspResponseStatusName | undefined;
  /** The BasicOCSPResponse, when successful. */
  readonly basic: ParsedBasicOcspResponse | undefined;
}

function bad(message: string): PkiError {
  return new PkiError('PKI_ASN1_INVALID', message);
}

function child(bytes: Uint8Array, t: Tlv | undefined, what: string): Tlv[] {
  if (!t || !t.constructed) throw bad(`malformed ${what}`);
  return childrenOf(bytes, t, 'der');
}

function parseBasic(der: Uint8Array, limits: DerLimits): ParsedBasicOcspResponse {
  const top = scanDer(der, { ...limits, mode: 'der' });
  const [tbsTlv, algTlv, sigTlv, certsTlv] = child(der, top, 'BasicOCSPResponse');
  if (!tbsTlv || !algTlv || !sigTlv || sigTlv.tagByte !== 0x03 || tbsTlv.tagByte !== 0x30)
    throw bad('malformed BasicOCSPResponse');
  if (der[sigTlv.valueStart] !== 0) throw bad('signature BIT STRING has unused bits');
  let basic: BasicOCSPResponse;
  try {
    basic = AsnConvert.parse(der, BasicOCSPResponse);
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'not a valid BasicOCSPResponse', { cause: e });
  }
  const certificates: ParsedCertificate[] = [];
  if (certsTlv) {
    if (certsTlv.tagByte !== 0xa0) throw bad('malformed BasicOCSPResponse certs');
    const [seq] = child(der, certsTlv, 'certs');
    for (const c of child(der, seq, 'certs')) certificates.push(parseCertificate(tlvBytes(der, c), limits));
  }
  // ResponseData, raw: responderID bytes and certStatus tags.
  const rd = child(der, tbsTlv, 'ResponseData');
  const off = rd[0]?.tagByte === 0xa0 ? 1 : 0;
  const ridTlv = rd[off];
  const responsesTlv = rd[off + 2];
  let responderId: ParsedBasicOcspResponse['responderId'];
  if (ridTlv?.tagByte === 0xa1) {
    const inner = readHeader(der, ridTlv.valueStart, ridTlv.end);
    responderId = { byName: der.subarray(inner.start, inner.end) };
  } else if (ridTlv?.tagByte === 0xa2) {
    const inner = readHeader(der, ridTlv.valueStart, ridTlv.end);
    if (inner.tagByte !== 0x04) throw bad('malformed ResponderID byKey');
    responderId = { byKey: der.subarray(inner.valueStart, inner.end) };
  } else throw bad('malformed ResponderID');
  const statusTags = child(der, responsesTlv, 'responses').map(
    (sr) => child(der, sr, 'SingleResponse')[1]?.tagByte,
  );
  const data = basic.tbsResponseData;
  if (data.responses.length !== statusTags.length) throw bad('malformed responses');
  try {
    const responses = data.responses.map((r, i): ParsedSingleResponse => {
      const tag = statusTags[i];
      const status: OcspCertStatus | undefined =
        tag === 0x80 ? 'good' : tag === 0xa1 ? 'revoked' : tag === 0x82 ? 'unknown' : undefined;
      if (status === undefined) throw bad('malformed CertStatus');
      const revoked = status === 'revoked' ? r.certStatus.revoked : undefined;
      if (status === 'revoked' && !revoked) throw bad('malformed RevokedInfo');
      const code = revoked?.revocationReason?.reason;
      const reason =
        code === undefined
          ? undefined
          : (Object.keys(CRL_REASON) as CrlReasonName[]).find((k) => CRL_REASON[k] === (code as number));
      if (code !== undefined && reason === undefined) throw bad(`unknown CRLReason ${code}`);
      return {
        certId: certIdFields(r.certID),
        status,
        revokedAt: revoked?.revocationTime,
        reason,
        thisUpdate: r.thisUpdate,
        nextUpdate: r.nextUpdate,
      };
    });
    const exts = data.responseExtensions ?? [];
    const n = exts.find((e) => e.extnID === OCSP_OID.nonce);
    return {
      tbs: tlvBytes(der, tbsTlv),
      signatureAlgorithm: basic.signatureAlgorithm.algorithm,
      signature: der.subarray(sigTlv.valueStart + 1, sigTlv.end),
      certificates,
      responderId,
      producedAt: data.producedAt,
      responses,
      nonce: n ? Uint8Array.from(nonceOf(new Uint8Array(n.extnValue.buffer))) : undefined,
      extensions: exts.map((e) => e.extnID),
    };
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('PKI_ASN1_INVALID', 'malformed BasicOCSPResponse field', { cause: e });
  }
}

/** Parses an OCSPResponse (DER or PEM); throws PkiError PKI_ASN1_INVALID / PKI_DEPTH_LIMIT / PKI_SIZE_LIMIT. */
export function parseOcspResponse(input: Uint8Array | string, limits: DerLimits = {}): ParsedOcspResponse {
  const der = fromPem(input);
  const top = scanDer(der, { ...limits, mode: 'der' });
  const [statusTlv, bytesTlv] = child(der, top, 'OCSPResponse');
  if (!statusTlv || statusTlv.tagByte !== 0x0a || statusTlv.end - statusTlv.valueStart !== 1)
    throw bad('malformed OCSPResponseStatus');
  let r: OCSPResponse;
  try {
    r = AsnConvert.parse(der, OCSPResponse);
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'not a valid OCSPResponse', { cause: e });
  }
  const status = der[statusTlv.valueStart] ?? 0;
  const statusName = (Object.keys(OCSP_RESPONSE_STATUS) as OcspResponseStatusName[]).find(
    (k) => OCSP_RESPONSE_STATUS[k] === status,
  );
  let basic: ParsedBasicOcspResponse | undefined;
  if (bytesTlv) {
    if (bytesTlv.tagByte !== 0xa0 || !r.responseBytes) throw bad('malformed responseBytes');
    if (r.responseBytes.responseType !== OCSP_OID.basic)
      throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `OCSP response type ${r.responseBytes.responseType}`);
    basic = parseBasic(new Uint8Array(r.responseBytes.response.buffer), limits);
  } else if (status === 0) throw bad('a successful OCSPResponse without responseBytes');
  return { der, status, statusName, basic };
}
