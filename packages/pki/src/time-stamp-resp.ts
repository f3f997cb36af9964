/**
 * TimeStampResp and TimeStampToken (RFC 3161 §2.4.2): parse (a response, or a bare token ContentInfo) and build.
 * The token is a CMS SignedData whose eContent is a DER TSTInfo; its bytes are kept exactly as received.
 *
 *   TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
 *   PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
 *                                failInfo PKIFailureInfo OPTIONAL }
 *   PKIStatus ::= INTEGER { granted(0), grantedWithMods(1), rejection(2), waiting(3), revocationWarning(4),
 *                           revocationNotification(5) }
 *   PKIFailureInfo ::= BIT STRING { badAlg(0), badRequest(2), badDataFormat(5), timeNotAvailable(14),
 *                           unacceptedPolicy(15), unacceptedExtension(16), addInfoNotAvailable(17),
 *                           systemFailure(25) }
 *   TimeStampToken ::= ContentInfo  -- contentType id-signedData, eContentType id-ct-TSTInfo
 */
import * as asn1js from 'asn1js';
import { childrenOf, fromPem, scanDer, tlvBytes, type DerLimits } from './der.js';
import { PkiError } from './errors.js';
import { parseSignedData, type ParsedSignedData } from './signed-data.js';
import { TSP_OID, parseTstInfo, type ParsedTstInfo } from './tst-info.js';

export const PKI_STATUS = {
  granted: 0,
  grantedWithMods: 1,
  rejection: 2,
  waiting: 3,
  revocationWarning: 4,
  revocationNotification: 5,
} as const;
export type PkiStatusName = keyof typeof PKI_STATUS;

/** PKIFailureInfo named bits (RFC 3161 §2.4.2). */
export const PKI_FAILURE_BIT = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type PkiFailureName = keyof typeof PKI_FAILURE_BIT;

export interface ParsedTimeStampResp {
  readonly der: Uint8Array;
  readonly status: number;
  /** The status name, undefined for a value outside RFC 3161's list. */
  readonly statusName: PkiStatusName | undefined;
  readonly statusStrings: readonly string[];
  /** Named failure bits set, in bit order. */
  readonly failInfo: readonly PkiFailureName[];
  /** The TimeStampToken ContentInfo bytes as received, when present. */
  readonly token: Uint8Array | undefined;
}

export interface ParsedTimeStampToken {
  /** The token (ContentInfo) bytes as received. */
  readonly der: Uint8Array;
  /** The enclosing response, when the input was a TimeStampResp. */
  readonly response: ParsedTimeStampResp | undefined;
  readonly signedData: ParsedSignedData;
  readonly tstInfo: ParsedTstInfo;
}

function bad(message: string): PkiError {
  return new PkiError('PKI_ASN1_INVALID', message);
}

function decode(bytes: Uint8Array): asn1js.AsnType {
  const r = asn1js.fromBER(bytes);
  if (r.offset === -1) throw bad(`malformed value: ${r.result.error}`);
  return r.result;
}

function failBits(bits: Uint8Array): PkiFailureName[] {
  const unused = bits[0] ?? 0;
  const data = bits.subarray(1);
  const total = data.length * 8 - unused;
  return (Object.entries(PKI_FAILURE_BIT) as [PkiFailureName, number][])
    .filter(([, bit]) => bit < total && ((data[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0)
    .map(([name]) => name);
}

/** Parses a TimeStampResp (DER or PEM); throws PkiError PKI_ASN1_INVALID / PKI_DEPTH_LIMIT / PKI_SIZE_LIMIT. */
export function parseTimeStampResp(input: Uint8Array | string, limits: DerLimits = {}): ParsedTimeStampResp {
  const der = fromPem(input);
  const top = scanDer(der, { mode: 'ber', ...limits });
  if (top.tagByte !== 0x30) throw bad('TimeStampResp is not a SEQUENCE');
  const parts = childrenOf(der, top);
  const [statusTlv, tokenTlv] = parts;
  if (!statusTlv || statusTlv.tagByte !== 0x30 || parts.length > 2) throw bad('not a TimeStampResp');
  if (tokenTlv && tokenTlv.tagByte !== 0x30) throw bad('TimeStampToken is not a SEQUENCE');
  const fields = childrenOf(der, statusTlv);
  const [statusInt, ...rest] = fields;
  if (!statusInt || statusInt.tagByte !== 0x02 || statusInt.end - statusInt.valueStart > 4)
    throw bad('malformed PKIStatus');
  const v = decode(tlvBytes(der, statusInt));
  if (!(v instanceof asn1js.Integer)) throw bad('malformed PKIStatus');
  const status = v.valueBlock.valueDec;
  const statusStrings: string[] = [];
  let failInfo: PkiFailureName[] = [];
  for (const f of rest) {
    if (f.tagByte === 0x30 && statusStrings.length === 0 && failInfo.length === 0) {
      for (const s of childrenOf(der, f)) {
        const str = decode(tlvBytes(der, s));
        if (!(str instanceof asn1js.Utf8String)) throw bad('PKIFreeText holds a non-UTF8String');
        statusStrings.push(str.valueBlock.value);
      }
    } else if (f.tagByte === 0x03) {
      if (f.end === f.valueStart) throw bad('empty PKIFailureInfo');
      failInfo = failBits(der.subarray(f.valueStart, f.end));
    } else throw bad('unexpected field in PKIStatusInfo');
  }
  const statusName = (Object.keys(PKI_STATUS) as PkiStatusName[]).find((k) => PKI_STATUS[k] === status);
  return {
    der,
    status,
    statusName,
    statusStrings,
    failInfo,
    token: tokenTlv ? tlvBytes(der, tokenTlv) : undefined,
  };
}

/**
 * Parses a timestamp token: either a TimeStampResp carrying one, or a bare TimeStampToken ContentInfo. Throws
 * PKI_TSP_STATUS for a response without a token (rejection, waiting), PKI_ASN1_INVALID for malformed input or
 * an eContentType other than id-ct-TSTInfo.
 */
export function parseTimeStampToken(
  input: Uint8Array | string,
  limits: DerLimits = {},
): ParsedTimeStampToken {
  const der = fromPem(input);
  const top = scanDer(der, { mode: 'ber', ...limits });
  const [first] = childrenOf(der, top);
  let response: ParsedTimeStampResp | undefined;
  let token = der;
  if (first?.tagByte === 0x30) {
    response = parseTimeStampResp(der, limits);
    if (response.token === undefined) {
      throw new PkiError(
        'PKI_TSP_STATUS',
        `TimeStampResp status ${response.statusName ?? response.status} carries no token` +
          (response.failInfo.length > 0 ? ` (${response.failInfo.join(', ')})` : '') +
          (response.statusStrings.length > 0 ? `: ${response.statusStrings.join('; ')}` : ''),
        { context: { check: 'status' } },
      );
    }
    token = response.token;
  }
  const signedData = parseSignedData(token, limits);
  if (signedData.eContentType !== TSP_OID.tstInfo)
    throw bad(`token eContentType ${signedData.eContentType} is not id-ct-TSTInfo`);
  if (signedData.content === undefined) throw bad('token has no TSTInfo content');
  const tstInfo = parseTstInfo(signedData.content, limits);
  return { der: token, response, signedData, tstInfo };
}

// --- building -------------------------------------------------------------------------------------------

function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const len = contents.reduce((n, c) => n + c.length, 0);
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const bytes: number[] = [];
    for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l % 256);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return new Uint8Array(Buffer.concat([Uint8Array.from(header), ...contents]));
}

/** DER of a PKIFailureInfo with the named bits set (trailing zero bits removed, X.690 §11.2.2). */
export function encodeFailInfo(names: readonly PkiFailureName[]): Uint8Array {
  const bits = names.map((n) => PKI_FAILURE_BIT[n]);
  if (bits.length === 0) return tlv(0x03, Uint8Array.from([0]));
  const highest = Math.max(...bits);
  const data = new Uint8Array((highest >> 3) + 1);
  for (const b of bits) data[b >> 3] = (data[b >> 3] ?? 0) | (0x80 >> (b & 7));
  return tlv(0x03, Uint8Array.from([7 - (highest & 7)]), data);
}

export interface TimeStampRespFields {
  readonly status: PkiStatusName;
  readonly statusString?: readonly string[];
  readonly failInfo?: readonly PkiFailureName[];
  /** The TimeStampToken ContentInfo DER, for granted / grantedWithMods. */
  readonly token?: Uint8Array;
}

/** Encodes a TimeStampResp as DER. */
export function buildTimeStampResp(f: TimeStampRespFields): Uint8Array {
  const parts: Uint8Array[] = [tlv(0x02, Uint8Array.from([PKI_STATUS[f.status]]))];
  if (f.statusString && f.statusString.length > 0) {
    parts.push(tlv(0x30, ...f.statusString.map((s) => tlv(0x0c, new TextEncoder().encode(s)))));
  }
  if (f.failInfo && f.failInfo.length > 0) parts.push(encodeFailInfo(f.failInfo));
  return tlv(0x30, tlv(0x30, ...parts), ...(f.token ? [f.token] : []));
}
