/**
 * OCSP requests and CertIDs (RFC 6960 §4.1, §4.4.1 nonce per RFC 8954). The CertID names a certificate by its
 * issuer's name and key hashes and its serial; the same computation matches SingleResponses in
 * `ocsp-verify.ts`.
 *
 *   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 *   TBSRequest ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1,
 *     requestorName [1] EXPLICIT GeneralName OPTIONAL, requestList SEQUENCE OF Request,
 *     requestExtensions [2] EXPLICIT Extensions OPTIONAL }
 *   Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
 *   CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *     issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
 *   Nonce ::= OCTET STRING  -- extension id-pkix-ocsp-nonce 1.3.6.1.5.5.7.48.1.2, 1..32 octets (RFC 8954)
 */
import { createHash, randomBytes } from 'node:crypto';
import { CertID, OCSPRequest, Request, TBSRequest, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension } from '@peculiar/asn1-x509';
import { DIGEST_OID } from './algorithms.js';
import type { ParsedCertificate } from './certificate.js';
import { childrenOf, fromPem, scanDer, type DerLimits } from './der.js';
import { PkiError } from './errors.js';
import { tspHashOf } from './time-stamp-req.js';

export const OCSP_OID = {
  basic: '1.3.6.1.5.5.7.48.1.1',
  nonce: id_pkix_ocsp_nonce,
  /** id-pkix-ocsp-nocheck: a delegated responder's certificate need not be checked for revocation. */
  noCheck: '1.3.6.1.5.5.7.48.1.5',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

/** CertID hash algorithms: SHA-1 is what most responders index by (it is a name, not a signature). */
export type CertIdHash = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sm3';

export interface CertIdFields {
  readonly hashAlgorithm: string;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** Serial number, lowercase hex without leading zero octets (as {@link ParsedCertificate.serialHex}). */
  readonly serialHex: string;
}

function hashWith(hash: CertIdHash, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hash).update(data).digest());
}

/** The subjectPublicKey BIT STRING contents (without the unused-bits octet) of a certificate's key. */
export function publicKeyBits(cert: ParsedCertificate): Uint8Array {
  const top = scanDer(cert.spki);
  const [, bits] = childrenOf(cert.spki, top, 'der');
  if (!bits || bits.tagByte !== 0x03)
    throw new PkiError('PKI_ASN1_INVALID', 'malformed SubjectPublicKeyInfo');
  return cert.spki.subarray(bits.valueStart + 1, bits.end);
}

/** SHA-1 of the issuer's public key bits: the ResponderID byKey value (RFC 6960 §4.2.1). */
export function responderKeyHash(cert: ParsedCertificate): Uint8Array {
  return hashWith('sha1', publicKeyBits(cert));
}

/** The CertID of `certificate` issued by `issuer`. */
export function certIdOf(
  certificate: ParsedCertificate,
  issuer: ParsedCertificate,
  hash: CertIdHash = 'sha1',
): CertIdFields {
  return {
    hashAlgorithm: DIGEST_OID[hash],
    issuerNameHash: hashWith(hash, issuer.subjectDer),
    issuerKeyHash: hashWith(hash, publicKeyBits(issuer)),
    serialHex: certificate.serialHex,
  };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Whether `id` names `certificate` issued by `issuer` (hashes recomputed with `id`'s algorithm). */
export function certIdMatches(
  id: CertIdFields,
  certificate: ParsedCertificate,
  issuer: ParsedCertificate,
): boolean {
  const hash = tspHashOf(id.hashAlgorithm);
  if (hash === undefined) return false;
  const mine = certIdOf(certificate, issuer, hash);
  return (
    id.serialHex === mine.serialHex &&
    hex(id.issuerNameHash) === hex(mine.issuerNameHash) &&
    hex(id.issuerKeyHash) === hex(mine.issuerKeyHash)
  );
}

function trimSerial(b: ArrayBuffer): string {
  let s = Buffer.from(b).toString('hex');
  while (s.startsWith('00') && s.length > 2) s = s.slice(2);
  return s;
}

/** CertID fields from the schema object. */
export function certIdFields(c: CertID): CertIdFields {
  return {
    hashAlgorithm: c.hashAlgorithm.algorithm,
    issuerNameHash: new Uint8Array(c.issuerNameHash.buffer),
    issuerKeyHash: new Uint8Array(c.issuerKeyHash.buffer),
    serialHex: trimSerial(c.serialNumber),
  };
}

/** A CertID schema object. */
export function certIdAsn(f: CertIdFields): CertID {
  const serial = Buffer.from(f.serialHex.length % 2 ? `0${f.serialHex}` : f.serialHex, 'hex');
  const serialBytes = (serial[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), serial]) : serial;
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: f.hashAlgorithm, parameters: null }),
    issuerNameHash: new OctetString(f.issuerNameHash),
    issuerKeyHash: new OctetString(f.issuerKeyHash),
    serialNumber: Uint8Array.from(serialBytes).buffer,
  });
}

/** The nonce of an id-pkix-ocsp-nonce extnValue: an OCTET STRING (RFC 8954), or raw octets as old responders send. */
export function nonceOf(extnValue: Uint8Array): Uint8Array {
  if (extnValue[0] === 0x04) {
    try {
      const t = scanDer(extnValue);
      return extnValue.subarray(t.valueStart, t.end);
    } catch {
      // not a DER OCTET STRING: raw octets
    }
  }
  return extnValue;
}

export function nonceExtension(nonce: Uint8Array): Extension {
  return new Extension({
    extnID: OCSP_OID.nonce,
    critical: false,
    extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))),
  });
}

export interface BuildOcspRequestOptions {
  readonly entries: readonly {
    readonly certificate: ParsedCertificate;
    readonly issuer: ParsedCertificate;
  }[];
  /** A nonce to send, or `true` for 16 random octets (returned in the result). */
  readonly nonce?: Uint8Array | true;
  /** CertID hash (default sha1, which responders index by). */
  readonly hash?: CertIdHash;
}

export interface BuiltOcspRequest {
  readonly der: Uint8Array;
  readonly nonce: Uint8Array | undefined;
}

/** Builds an unsigned DER OCSPRequest. */
export function buildOcspRequest(options: BuildOcspRequestOptions): BuiltOcspRequest {
  if (options.entries.length === 0)
    throw new PkiError('PKI_INVALID_ARGUMENT', 'an OCSP request needs an entry');
  const nonce = options.nonce === true ? new Uint8Array(randomBytes(16)) : options.nonce;
  if (nonce !== undefined && (nonce.length < 1 || nonce.length > 32))
    throw new PkiError('PKI_INVALID_ARGUMENT', 'an OCSP nonce has 1 to 32 octets (RFC 8954)');
  const tbs = new TBSRequest({
    requestList: options.entries.map(
      (e) => new Request({ reqCert: certIdAsn(certIdOf(e.certificate, e.issuer, options.hash ?? 'sha1')) }),
    ),
  });
  if (nonce !== undefined) tbs.requestExtensions = [nonceExtension(nonce)];
  return { der: new Uint8Array(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs }))), nonce };
}

export interface ParsedOcspRequest {
  readonly der: Uint8Array;
  readonly entries: readonly CertIdFields[];
  readonly nonce: Uint8Array | undefined;
  /** Request extension OIDs. */
  readonly extensions: readonly string[];
  readonly signed: boolean;
}

/** Parses an OCSPRequest (DER or PEM); throws PkiError PKI_ASN1_INVALID / PKI_DEPTH_LIMIT / PKI_SIZE_LIMIT. */
export function parseOcspRequest(input: Uint8Array | string, limits: DerLimits = {}): ParsedOcspRequest {
  const der = fromPem(input);
  scanDer(der, { maxSize: 1024 * 1024, ...limits, mode: 'der' });
  let r: OCSPRequest;
  try {
    r = AsnConvert.parse(der, OCSPRequest);
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'not a valid OCSPRequest', { cause: e });
  }
  try {
    const exts = r.tbsRequest.requestExtensions ?? [];
    const n = exts.find((e) => e.extnID === OCSP_OID.nonce);
    return {
      der,
      entries: r.tbsRequest.requestList.map((q) => certIdFields(q.reqCert)),
      nonce: n ? Uint8Array.from(nonceOf(new Uint8Array(n.extnValue.buffer))) : undefined,
      extensions: exts.map((e) => e.extnID),
      signed: r.optionalSignature !== undefined,
    };
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'malformed OCSPRequest field', { cause: e });
  }
}
