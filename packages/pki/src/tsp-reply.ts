/**
 * A TSA's answer to a TimeStampReq (RFC 3161 §2.4.2), as a pure function: the caller (the TSA service)
 * supplies the serial number and the time; the token is a CMS SignedData over a DER TSTInfo, signed through
 * {@link buildSignedData} with signingCertificateV2 (RFC 5816). A bad request never throws: it is answered with
 * status rejection and the PKIFailureInfo bit that says why.
 *
 *   TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
 *   PKIFailureInfo ::= BIT STRING { badAlg(0), badRequest(2), badDataFormat(5), timeNotAvailable(14),
 *     unacceptedPolicy(15), unacceptedExtension(16), addInfoNotAvailable(17), systemFailure(25) }
 */
import type { ParsedCertificate } from './certificate.js';
import { PkiError, isPkiError } from './errors.js';
import { buildSignedData } from './signed-data-builder.js';
import type { Signer } from './signer.js';
import {
  digestLength,
  parseTimeStampReq,
  tspHashOf,
  type ParsedTimeStampReq,
  type TspHash,
} from './time-stamp-req.js';
import { buildTimeStampResp, type PkiFailureName } from './time-stamp-resp.js';
import { TSP_OID, buildTstInfo, type TstAccuracy } from './tst-info.js';

export interface TsaIdentity {
  readonly signer: Signer;
  /** The TSA certificate (critical extendedKeyUsage id-kp-timeStamping only, RFC 3161 §2.3). */
  readonly certificate: ParsedCertificate;
  /** Intermediates to include beside the TSA certificate when the request asks for certificates. */
  readonly chain?: readonly ParsedCertificate[];
}

export interface ReplyTimeStampOptions {
  /** The TimeStampReq DER as received. */
  readonly request: Uint8Array;
  /**
   * `parseTimeStampReq(request)` when the caller has already parsed it (a TSA that chooses its key by the
   * request's policy or hash), so that it is not parsed twice; it must be the parse of `request`.
   */
  readonly parsedRequest?: ParsedTimeStampReq;
  readonly tsa: TsaIdentity;
  readonly serialNumber: bigint;
  readonly genTime: Date;
  /** The TSA's default policy, used when the request names none. */
  readonly policy: string;
  readonly accuracy?: Partial<TstAccuracy>;
  readonly ordering?: boolean;
  /** Imprint hashes accepted (default sm3, sha256, sha384, sha512; SHA-1 only when listed). */
  readonly acceptedHashes?: readonly TspHash[];
  /** Policies a request may ask for (default: `policy` only). */
  readonly acceptedPolicies?: readonly string[];
  /** Request extensions understood (default none: any extension is unaccepted). */
  readonly acceptedExtensions?: readonly string[];
  /** Put the TSA certificate's subject in TSTInfo.tsa (default true). */
  readonly includeTsaName?: boolean;
}

const DEFAULT_HASHES: readonly TspHash[] = ['sm3', 'sha256', 'sha384', 'sha512'];

function rejection(failInfo: PkiFailureName, text: string): Uint8Array {
  return buildTimeStampResp({ status: 'rejection', failInfo: [failInfo], statusString: [text] });
}

/** Checks a request against the TSA's configuration: the rejection it deserves, or undefined. */
function refuse(
  req: ParsedTimeStampReq,
  options: ReplyTimeStampOptions,
): { failInfo: PkiFailureName; text: string } | undefined {
  if (req.version !== 1) return { failInfo: 'badDataFormat', text: `unsupported version ${req.version}` };
  const hash = tspHashOf(req.hashAlgorithm);
  if (hash === undefined || !(options.acceptedHashes ?? DEFAULT_HASHES).includes(hash) || req.hashParameters)
    return { failInfo: 'badAlg', text: `hash algorithm ${req.hashAlgorithm} is not accepted` };
  if (req.hashedMessage.length !== digestLength(hash))
    return { failInfo: 'badDataFormat', text: `a ${hash} imprint has ${digestLength(hash)} bytes` };
  if (req.policy !== undefined && !(options.acceptedPolicies ?? [options.policy]).includes(req.policy))
    return { failInfo: 'unacceptedPolicy', text: `policy ${req.policy} is not supported` };
  const unknown = req.extensions.find((e) => !(options.acceptedExtensions ?? []).includes(e.oid));
  if (unknown !== undefined)
    return { failInfo: 'unacceptedExtension', text: `extension ${unknown.oid} is not supported` };
  return undefined;
}

/**
 * Answers a TimeStampReq with a DER TimeStampResp. Throws PKI_INVALID_ARGUMENT only for the TSA's own options (negative serial, invalid
 * time); every problem with the request becomes a rejection TimeStampResp.
 */
export function replyTimeStamp(options: ReplyTimeStampOptions): Uint8Array {
  if (options.serialNumber < 0n)
    throw new PkiError('PKI_INVALID_ARGUMENT', 'serialNumber must not be negative');
  if (Number.isNaN(options.genTime.getTime()))
    throw new PkiError('PKI_INVALID_ARGUMENT', 'genTime is invalid');
  let req: ParsedTimeStampReq;
  try {
    req = options.parsedRequest ?? parseTimeStampReq(options.request);
  } catch (e) {
    if (!isPkiError(e)) throw e;
    return rejection('badDataFormat', `malformed TimeStampReq: ${e.message}`);
  }
  const refused = refuse(req, options);
  if (refused) return rejection(refused.failInfo, refused.text);
  const hash = tspHashOf(req.hashAlgorithm) ?? 'sha256';
  const tsa = options.tsa;
  const tstInfo = buildTstInfo({
    policy: req.policy ?? options.policy,
    hash,
    hashedMessage: req.hashedMessage,
    serialNumber: options.serialNumber,
    genTime: options.genTime,
    ...(options.accuracy ? { accuracy: options.accuracy } : {}),
    ordering: options.ordering ?? false,
    ...(req.nonce !== undefined ? { nonce: req.nonce } : {}),
    ...(options.includeTsaName === false ? {} : { tsaName: tsa.certificate.subjectDer }),
  });
  let token: Uint8Array;
  try {
    token = buildSignedData({
      content: tstInfo,
      eContentType: TSP_OID.tstInfo,
      signers: [{ signer: tsa.signer, certificate: tsa.certificate, signingTime: options.genTime }],
      includeSignerCertificates: req.certReq,
      certificates: req.certReq ? (tsa.chain ?? []) : [],
    });
  } catch (e) {
    if (!isPkiError(e)) throw e;
    return rejection('systemFailure', `the TSA could not sign: ${e.message}`);
  }
  return buildTimeStampResp({ status: 'granted', token });
}
