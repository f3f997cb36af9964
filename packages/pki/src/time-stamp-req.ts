/**
 * TimeStampReq (RFC 3161 §2.4.1): build and parse.
 *
 *   TimeStampReq ::= SEQUENCE {
 *     version        INTEGER { v1(1) },
 *     messageImprint MessageImprint,
 *     reqPolicy      TSAPolicyId OPTIONAL,
 *     nonce          INTEGER OPTIONAL,
 *     certReq        BOOLEAN DEFAULT FALSE,
 *     extensions     [0] IMPLICIT Extensions OPTIONAL }
 */
import { randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { MessageImprint, TimeStampReq, TimeStampReqVersion } from '@peculiar/asn1-tsp';
import { DIGEST_OID, digest, type AlgorithmPolicy, type DigestName } from './algorithms.js';
import { fromPem, scanDer, type DerLimits } from './der.js';
import { PkiError } from './errors.js';
import { digestAlgorithmIdentifier, integerBytes, integerValue } from './tst-info.js';

export type TspHash = DigestName;

const DIGEST_LENGTH: Readonly<Record<DigestName, number>> = {
  sha1: 20,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  sm3: 32,
};

/** The digest name of an OID, or undefined when it is not a digest this package knows. */
export function tspHashOf(oid: string): TspHash | undefined {
  return (Object.keys(DIGEST_OID) as DigestName[]).find((k) => DIGEST_OID[k] === oid);
}

export function digestLength(hash: DigestName): number {
  return DIGEST_LENGTH[hash];
}

export interface BuildTimeStampReqOptions {
  /** The data to timestamp (hashed here) … */
  readonly data?: Uint8Array;
  /** … or its digest, already computed with `hash`. */
  readonly digest?: Uint8Array;
  readonly hash: TspHash;
  /** A nonce: a bigint, or `true` for a random 64-bit one (returned in the result). */
  readonly nonce?: bigint | true;
  readonly policy?: string;
  /** Ask the TSA to include its certificate (default true). */
  readonly certReq?: boolean;
  /** For SM3 through the SM2 provider (otherwise node:crypto's sm3). */
  readonly algorithmPolicy?: AlgorithmPolicy;
}

export interface BuiltTimeStampReq {
  readonly der: Uint8Array;
  readonly nonce: bigint | undefined;
  readonly hashedMessage: Uint8Array;
}

/** Builds a DER TimeStampReq. */
export function buildTimeStampReq(options: BuildTimeStampReqOptions): BuiltTimeStampReq {
  if (!(options.hash in DIGEST_LENGTH))
    throw new PkiError('PKI_INVALID_ARGUMENT', `unknown hash ${options.hash}`);
  let hashed: Uint8Array;
  if (options.digest !== undefined) {
    if (options.data !== undefined)
      throw new PkiError('PKI_INVALID_ARGUMENT', 'give data or digest, not both');
    if (options.digest.length !== DIGEST_LENGTH[options.hash])
      throw new PkiError(
        'PKI_INVALID_ARGUMENT',
        `a ${options.hash} digest has ${DIGEST_LENGTH[options.hash]} bytes`,
      );
    hashed = options.digest;
  } else if (options.data !== undefined) {
    hashed = digest(options.hash, options.data, options.algorithmPolicy);
  } else throw new PkiError('PKI_INVALID_ARGUMENT', 'give data or digest');
  let nonce: bigint | undefined;
  if (options.nonce === true) {
    nonce = integerValue(Uint8Array.from([0, ...randomBytes(8)]));
  } else nonce = options.nonce;
  const req = new TimeStampReq({
    version: TimeStampReqVersion.v1,
    messageImprint: new MessageImprint({
      hashAlgorithm: digestAlgorithmIdentifier(options.hash),
      hashedMessage: new OctetString(hashed),
    }),
    certReq: options.certReq ?? true,
  });
  if (options.policy !== undefined) req.reqPolicy = options.policy;
  if (nonce !== undefined) req.nonce = integerBytes(nonce).slice().buffer;
  return { der: new Uint8Array(AsnConvert.serialize(req)), nonce, hashedMessage: hashed };
}

export interface ParsedTimeStampReq {
  readonly der: Uint8Array;
  readonly version: number;
  readonly hashAlgorithm: string;
  /** The digest name, undefined when the algorithm is not one this package knows. */
  readonly hash: TspHash | undefined;
  /** Whether the algorithm has parameters other than absent or NULL. */
  readonly hashParameters: boolean;
  readonly hashedMessage: Uint8Array;
  readonly policy: string | undefined;
  readonly nonce: bigint | undefined;
  readonly certReq: boolean;
  /** Extensions requested: OID and criticality. */
  readonly extensions: readonly { readonly oid: string; readonly critical: boolean }[];
}

/** Parses a TimeStampReq (DER or PEM); throws PkiError PKI_ASN1_INVALID / PKI_DEPTH_LIMIT / PKI_SIZE_LIMIT. */
export function parseTimeStampReq(input: Uint8Array | string, limits: DerLimits = {}): ParsedTimeStampReq {
  const der = fromPem(input);
  scanDer(der, { maxSize: 64 * 1024, ...limits, mode: 'der' });
  let r: TimeStampReq;
  try {
    r = AsnConvert.parse(der, TimeStampReq);
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'not a valid TimeStampReq', { cause: e });
  }
  try {
    const params = r.messageImprint.hashAlgorithm.parameters;
    const p = params === undefined || params === null ? undefined : new Uint8Array(params);
    return {
      der,
      version: r.version,
      hashAlgorithm: r.messageImprint.hashAlgorithm.algorithm,
      hash: tspHashOf(r.messageImprint.hashAlgorithm.algorithm),
      hashParameters: p !== undefined && !(p.length === 2 && p[0] === 0x05 && p[1] === 0x00),
      hashedMessage: new Uint8Array(r.messageImprint.hashedMessage.buffer),
      policy: r.reqPolicy,
      nonce: r.nonce === undefined ? undefined : integerValue(r.nonce),
      certReq: r.certReq,
      extensions: r.extensions ? r.extensions.map((e) => ({ oid: e.extnID, critical: e.critical })) : [],
    };
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'malformed TimeStampReq field', { cause: e });
  }
}
