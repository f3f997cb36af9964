/**
 * A direct DER reader for the TimeStampReqs clients actually send (RFC 3161 §2.4.1), the TSA's per-request
 * parse. It answers only for a canonical request without extensions and returns `undefined` for anything else
 * (BER, extensions, unusual encodings, trailing bytes), which then goes to `parseTimeStampReq` of
 * `@yizheng/pki`: the reference parser keeps the last word on everything unusual.
 *
 *   TimeStampReq ::= SEQUENCE { version INTEGER, messageImprint SEQUENCE { hashAlgorithm AlgorithmIdentifier,
 *     hashedMessage OCTET STRING }, reqPolicy OID OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE,
 *     extensions [0] IMPLICIT Extensions OPTIONAL }
 */
import { DIGEST_OID, type ParsedTimeStampReq, type TspHash } from '@yizheng/pki';
import { readInteger, readItem, readOid } from './der-lite.js';

const HASH_BY_OID = new Map<string, TspHash>(
  (Object.entries(DIGEST_OID) as [TspHash, string][]).map(([name, oid]) => [oid, name]),
);
/** A nonce longer than this is left to the reference parser. */
const MAX_NONCE = 64;

export function readTimeStampReq(der: Uint8Array): ParsedTimeStampReq | undefined {
  const top = readItem(der, 0, der.length);
  if (top === undefined || top.tag !== 0x30 || top.end !== der.length) return undefined;
  const version = readItem(der, top.start, top.end);
  if (version?.tag !== 0x02 || version.end - version.start !== 1 || der[version.start] !== 1)
    return undefined;
  const imprint = readItem(der, version.end, top.end);
  if (imprint === undefined || imprint.tag !== 0x30) return undefined;
  const alg = readItem(der, imprint.start, imprint.end);
  if (alg === undefined || alg.tag !== 0x30) return undefined;
  const algOid = readItem(der, alg.start, alg.end);
  if (algOid === undefined || algOid.tag !== 0x06) return undefined;
  const hashAlgorithm = readOid(der, algOid.start, algOid.end);
  if (hashAlgorithm === undefined) return undefined;
  if (algOid.end !== alg.end) {
    // Only NULL parameters (or none) on the fast path.
    const p = readItem(der, algOid.end, alg.end);
    if (p === undefined || p.tag !== 0x05 || p.start !== p.end || p.end !== alg.end) return undefined;
  }
  const hashed = readItem(der, alg.end, imprint.end);
  if (hashed === undefined || hashed.tag !== 0x04 || hashed.end !== imprint.end) return undefined;

  let pos = imprint.end;
  let policy: string | undefined;
  let nonce: bigint | undefined;
  let certReq = false;
  let next = readItem(der, pos, top.end);
  if (next?.tag === 0x06) {
    policy = readOid(der, next.start, next.end);
    if (policy === undefined) return undefined;
    pos = next.end;
    next = readItem(der, pos, top.end);
  }
  if (next?.tag === 0x02) {
    if (next.end - next.start > MAX_NONCE) return undefined;
    nonce = readInteger(der, next.start, next.end);
    if (nonce === undefined) return undefined;
    pos = next.end;
    next = readItem(der, pos, top.end);
  }
  if (next?.tag === 0x01) {
    // DER: BOOLEAN TRUE is 0xFF, and a DEFAULT FALSE is never encoded.
    if (next.end - next.start !== 1 || der[next.start] !== 0xff) return undefined;
    certReq = true;
    pos = next.end;
  }
  if (pos !== top.end) return undefined; // extensions or anything else: the reference parser
  return {
    der,
    version: 1,
    hashAlgorithm,
    hash: HASH_BY_OID.get(hashAlgorithm),
    hashParameters: false,
    hashedMessage: der.slice(hashed.start, hashed.end),
    policy,
    nonce,
    certReq,
    extensions: [],
  };
}
