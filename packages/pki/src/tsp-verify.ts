/**
 * RFC 3161 timestamp token verification (§2.4.2, §2.3; RFC 5816 for ESSCertIDv2). Checks, each reported as its
 * own failure: response status; messageImprint against the data (SHA-1 imprints rejected unless allowed);
 * nonce and policy against the request; the CMS signature over the TSTInfo (through {@link verifySignedData});
 * the signing-certificate binding (ESSCertID / ESSCertIDv2 certHash and issuerSerial); the TSA certificate's
 * extendedKeyUsage (critical, id-kp-timeStamping as its sole purpose, §2.3); the TSA certificate and its chain
 * valid AT genTime — not now: a token outlives its TSA certificate.
 *
 *   SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies SEQUENCE OF PolicyInformation OPTIONAL }
 *   ESSCertID ::= SEQUENCE { certHash OCTET STRING -- SHA-1, issuerSerial IssuerSerial OPTIONAL }  (RFC 2634 §5.4)
 *   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }        (RFC 5035 §3)
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *                              certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }
 *   IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 */
import { createHash } from 'node:crypto';
import { id_ce_extKeyUsage } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { digest, type AlgorithmPolicy } from './algorithms.js';
import { checkValidity, type ParsedCertificate } from './certificate.js';
import { EKU, KEY_USAGE, verifyChain } from './chain.js';
import { childrenOf, readHeader, scanDer, tlvBytes, type Tlv } from './der.js';
import {
  PkiError,
  failureOf,
  resultOf,
  type VerificationFailure,
  type VerificationResult,
} from './errors.js';
import { verifySignedData, type ParsedSignerInfo } from './signed-data.js';
import { digestLength, tspHashOf } from './time-stamp-req.js';
import { parseTimeStampToken, type ParsedTimeStampToken } from './time-stamp-resp.js';
import { TSP_OID, type ParsedTstInfo, type TstAccuracy } from './tst-info.js';
import { namesMatch } from './name-compare.js';

export interface VerifyTimeStampOptions {
  /** A TimeStampResp or a bare TimeStampToken (DER or PEM), or one already parsed. */
  readonly token: Uint8Array | string | ParsedTimeStampToken;
  /** The data that was timestamped … */
  readonly data?: Uint8Array;
  /** … or its digest under the token's imprint algorithm. */
  readonly digest?: Uint8Array;
  /** When given, the TSA certificate's path is validated at genTime up to one of these. */
  readonly trustAnchors?: readonly ParsedCertificate[];
  /** Intermediates, and the TSA certificate itself when the token does not carry it. */
  readonly intermediates?: readonly ParsedCertificate[];
  /** Signature algorithms and the SM2 provider (SM3withSM2 tokens need `policy.sm2`). */
  readonly policy?: AlgorithmPolicy;
  /** Accept a SHA-1 messageImprint (default false → PKI_TSP_HASH_WEAK). */
  readonly allowSha1?: boolean;
  /** The nonce sent in the request: the token must carry the same. */
  readonly nonce?: bigint;
  /** The policy asked for in the request: the token's policy must be it. */
  readonly requestPolicy?: string;
  /**
   * 'strict' (default, RFC 3161 §2.3): the TSA certificate's extendedKeyUsage is critical with timeStamping as
   * its sole purpose. 'lenient': timeStamping listed is enough (for TSAs whose certificates deviate).
   */
  readonly tsaExtKeyUsage?: 'strict' | 'lenient';
}

export interface TimeStampVerification extends VerificationResult {
  readonly genTime: Date | undefined;
  readonly serialNumber: bigint | undefined;
  /** The TSTInfo tsa name, when present. */
  readonly tsa: string | undefined;
  readonly policy: string | undefined;
  readonly accuracy: TstAccuracy | undefined;
  readonly ordering: boolean | undefined;
  readonly nonce: bigint | undefined;
  /** messageImprint hash algorithm OID. */
  readonly hashAlgorithm: string | undefined;
  /** The certificate that signed the token. */
  readonly tsaCertificate: ParsedCertificate | undefined;
  /** The TSA certificate's path at genTime, when trust anchors were given. */
  readonly chain: readonly ParsedCertificate[] | undefined;
  readonly tstInfo: ParsedTstInfo | undefined;
}

function bad(message: string): PkiError {
  return new PkiError('PKI_ASN1_INVALID', message);
}

function oidOf(bytes: Uint8Array, t: Tlv | undefined): string {
  if (!t || t.tagByte !== 0x06) throw bad('expected an OBJECT IDENTIFIER');
  const r = asn1js.fromBER(tlvBytes(bytes, t));
  if (r.offset === -1 || !(r.result instanceof asn1js.ObjectIdentifier))
    throw bad('malformed OBJECT IDENTIFIER');
  return r.result.getValue();
}

function trimZeros(b: Uint8Array): string {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return Buffer.from(b.subarray(i)).toString('hex');
}

interface EssCertId {
  readonly hash: 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sm3';
  readonly certHash: Uint8Array;
  readonly issuerSerial: { readonly issuers: readonly Uint8Array[]; readonly serialHex: string } | undefined;
}

/** The first ESSCertID(v2) of a SigningCertificate(V2) attribute value: it names the signer's certificate. */
function firstEssCertId(value: Uint8Array, v2: boolean): EssCertId {
  const top = scanDer(value, { mode: 'der' });
  const [certs] = childrenOf(value, top);
  if (!certs || certs.tagByte !== 0x30) throw bad('malformed SigningCertificate');
  const [first] = childrenOf(value, certs);
  if (!first || first.tagByte !== 0x30) throw bad('SigningCertificate lists no certificate');
  const fields = childrenOf(value, first);
  let i = 0;
  let hash: EssCertId['hash'] = v2 ? 'sha256' : 'sha1';
  if (v2 && fields[0]?.tagByte === 0x30) {
    const [alg] = childrenOf(value, fields[0]);
    const name = tspHashOf(oidOf(value, alg));
    if (name === undefined)
      throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', 'unknown ESSCertIDv2 hash algorithm');
    hash = name;
    i = 1;
  }
  const certHash = fields[i];
  if (!certHash || certHash.tagByte !== 0x04) throw bad('malformed ESSCertID certHash');
  const isTlv = fields[i + 1];
  let issuerSerial: EssCertId['issuerSerial'];
  if (isTlv) {
    const [names, serial] = childrenOf(value, isTlv);
    if (!names || names.tagByte !== 0x30 || !serial || serial.tagByte !== 0x02)
      throw bad('malformed IssuerSerial');
    const issuers = childrenOf(value, names)
      .filter((g) => g.tagByte === 0xa4)
      .map((g) => {
        const inner = readHeader(value, g.valueStart, g.end);
        return value.subarray(inner.start, inner.end);
      });
    issuerSerial = { issuers, serialHex: trimZeros(value.subarray(serial.valueStart, serial.end)) };
  }
  return { hash, certHash: value.subarray(certHash.valueStart, certHash.end), issuerSerial };
}

/** The TSTInfo's tsa GeneralName ([0] EXPLICIT), as located TLV bytes. */
function tsaGeneralName(tst: ParsedTstInfo): Uint8Array | undefined {
  const der = tst.der;
  const field = childrenOf(der, scanDer(der, { mode: 'der' }), 'der').find((c) => c.tagByte === 0xa0);
  if (!field) return undefined;
  return tlvBytes(der, readHeader(der, field.valueStart, field.end));
}

/** Lower-cases ASCII A–Z only (DNS labels and mail domains compare case-insensitively, RFC 5280 §7). */
function asciiLower(b: Uint8Array): string {
  return Buffer.from(b.map((c) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c))).toString('latin1');
}

/** Whether two GeneralNames (TLV bytes) name the same thing. */
function sameGeneralName(a: Uint8Array, b: Uint8Array): boolean {
  const ta = readHeader(a, 0, a.length);
  const tb = readHeader(b, 0, b.length);
  if (ta.tagByte !== tb.tagByte) return false;
  const va = a.subarray(ta.valueStart, ta.end);
  const vb = b.subarray(tb.valueStart, tb.end);
  if (ta.tagByte === 0x82) return asciiLower(va) === asciiLower(vb); // dNSName
  if (ta.tagByte === 0xa4) return namesMatch(va, vb); // directoryName [4] EXPLICIT Name
  if (ta.tagByte === 0x81) {
    // rfc822Name: the local part exactly, the domain case-insensitively.
    const at = (v: Uint8Array): number => v.lastIndexOf(0x40);
    const [ia, ib] = [at(va), at(vb)];
    return (
      hex(va.subarray(0, ia + 1)) === hex(vb.subarray(0, ib + 1)) &&
      asciiLower(va.subarray(ia)) === asciiLower(vb.subarray(ib))
    );
  }
  return hex(va) === hex(vb);
}

/** RFC 3161 §2.4.2: the token's tsa name is the TSA certificate's subject or one of its subjectAltNames. */
function tsaNameMatches(tst: ParsedTstInfo, cert: ParsedCertificate): boolean {
  const name = tsaGeneralName(tst);
  if (name === undefined) return true;
  if (
    name[0] === 0xa4 &&
    tst.tsaDirectoryName !== undefined &&
    namesMatch(tst.tsaDirectoryName, cert.subjectDer)
  )
    return true;
  const san = cert.extensions.find((e) => e.oid === '2.5.29.17');
  if (!san) return false;
  const top = scanDer(san.value, { mode: 'der' });
  if (top.tagByte !== 0x30) throw bad('malformed subjectAltName');
  return childrenOf(san.value, top, 'der').some((g) => sameGeneralName(name, tlvBytes(san.value, g)));
}

function singleAttribute(signer: ParsedSignerInfo, oid: string): Uint8Array | undefined {
  const v = signer.attributes.get(oid);
  if (v === undefined) return undefined;
  if (v.length !== 1 || v[0] === undefined) throw bad(`attribute ${oid} must have one value`);
  return v[0];
}

/** Checks the ESSCertID / ESSCertIDv2 binding of `signer` to `cert`; throws PKI_TSP_CERT_BINDING. */
export function checkSigningCertificate(
  signer: ParsedSignerInfo,
  cert: ParsedCertificate,
  policy: AlgorithmPolicy = {},
): void {
  const context = { certificate: cert.subject, check: 'signingCertificate' };
  const v2 = singleAttribute(signer, TSP_OID.signingCertificateV2);
  const v1 = singleAttribute(signer, TSP_OID.signingCertificate);
  const value = v2 ?? v1;
  if (value === undefined) {
    throw new PkiError('PKI_TSP_CERT_BINDING', 'the token has no signingCertificate(V2) attribute', {
      context,
    });
  }
  const id = firstEssCertId(value, v2 !== undefined);
  const actual =
    id.hash === 'sm3'
      ? digest('sm3', cert.der, policy)
      : new Uint8Array(createHash(id.hash).update(cert.der).digest());
  if (!Buffer.from(actual).equals(Buffer.from(id.certHash))) {
    throw new PkiError('PKI_TSP_CERT_BINDING', `ESSCertID certHash does not match ${cert.subject}`, {
      context,
    });
  }
  if (id.issuerSerial) {
    const issuerOk = id.issuerSerial.issuers.some((n) => namesMatch(n, cert.issuerDer));
    if (!issuerOk || id.issuerSerial.serialHex !== cert.serialHex) {
      throw new PkiError('PKI_TSP_CERT_BINDING', `ESSCertID issuerSerial does not name ${cert.subject}`, {
        context,
      });
    }
  }
}

/** RFC 3161 §2.3: a critical extendedKeyUsage whose only purpose is id-kp-timeStamping; throws PKI_EKU. */
export function checkTsaExtKeyUsage(cert: ParsedCertificate, mode: 'strict' | 'lenient' = 'strict'): void {
  const context = { certificate: cert.subject, chainIndex: 0, check: 'extKeyUsage' };
  const ext = cert.asn.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_extKeyUsage);
  const eku = cert.extKeyUsage ?? [];
  if (!ext || !eku.includes(EKU.timeStamping)) {
    throw new PkiError('PKI_EKU', `${cert.subject} lacks the timeStamping extended key usage`, { context });
  }
  if (mode === 'lenient') return;
  if (eku.length !== 1) {
    throw new PkiError('PKI_EKU', `${cert.subject}: timeStamping must be the sole extended key usage`, {
      context,
    });
  }
  if (!ext.critical) {
    throw new PkiError('PKI_EKU', `${cert.subject}: the timeStamping extended key usage must be critical`, {
      context,
    });
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Verifies an RFC 3161 timestamp token; never throws for bad input. */
export function verifyTimeStampToken(options: VerifyTimeStampOptions): TimeStampVerification {
  const failures: VerificationFailure[] = [];
  const empty = {
    genTime: undefined,
    serialNumber: undefined,
    tsa: undefined,
    policy: undefined,
    accuracy: undefined,
    ordering: undefined,
    nonce: undefined,
    hashAlgorithm: undefined,
    tsaCertificate: undefined,
    chain: undefined,
    tstInfo: undefined,
  };
  if ((options.data === undefined) === (options.digest === undefined)) {
    throw new PkiError('PKI_INVALID_ARGUMENT', 'give data or digest (exactly one)');
  }
  let token: ParsedTimeStampToken;
  try {
    token =
      typeof options.token === 'object' && 'tstInfo' in options.token
        ? options.token
        : parseTimeStampToken(options.token);
  } catch (e) {
    return { ...empty, ...resultOf([failureOf(e, { check: 'parse' })]) };
  }
  const tst = token.tstInfo;
  const policy = options.policy ?? {};
  const push = (e: unknown, check: string): void => {
    failures.push(failureOf(e, { check }));
  };

  const status = token.response?.status;
  if (status !== undefined && status !== 0 && status !== 1) {
    failures.push({
      code: 'PKI_TSP_STATUS',
      check: 'status',
      message: `TimeStampResp status ${token.response?.statusName ?? status}`,
    });
  }

  // messageImprint
  const hash = tspHashOf(tst.hashAlgorithm);
  if (hash === undefined) {
    failures.push({
      code: 'PKI_UNSUPPORTED_ALGORITHM',
      check: 'imprint',
      message: `unknown imprint hash algorithm ${tst.hashAlgorithm}`,
    });
  } else if (hash === 'sha1' && options.allowSha1 !== true) {
    failures.push({
      code: 'PKI_TSP_HASH_WEAK',
      check: 'imprint',
      message: 'SHA-1 messageImprint is not allowed',
    });
  } else {
    try {
      if (tst.hashedMessage.length !== digestLength(hash)) throw bad(`imprint length does not fit ${hash}`);
      const expected = options.digest ?? digest(hash, options.data ?? new Uint8Array(), policy);
      if (hex(expected) !== hex(tst.hashedMessage)) {
        failures.push({
          code: 'PKI_TSP_IMPRINT_MISMATCH',
          check: 'imprint',
          message: `the ${hash} messageImprint does not match the data`,
        });
      }
    } catch (e) {
      push(e, 'imprint');
    }
  }

  if (options.nonce !== undefined && tst.nonce !== options.nonce) {
    failures.push({
      code: 'PKI_TSP_NONCE_MISMATCH',
      check: 'nonce',
      message:
        tst.nonce === undefined
          ? 'the token carries no nonce'
          : `nonce ${tst.nonce} differs from ${options.nonce}`,
    });
  }
  if (options.requestPolicy !== undefined && tst.policy !== options.requestPolicy) {
    failures.push({
      code: 'PKI_TSP_POLICY_MISMATCH',
      check: 'policy',
      message: `policy ${tst.policy} differs from the requested ${options.requestPolicy}`,
    });
  }

  // CMS signature over the TSTInfo (RFC 3161 §2.4.2: exactly one signer).
  const sd = token.signedData;
  let tsaCertificate: ParsedCertificate | undefined;
  let chain: readonly ParsedCertificate[] | undefined;
  const signer = sd.signers[0];
  if (sd.signers.length !== 1 || signer === undefined) {
    failures.push({
      code: 'PKI_CMS_SIGNATURE_INVALID',
      check: 'signers',
      message: `a timestamp token has exactly one signer, found ${sd.signers.length}`,
    });
  } else if (signer.signedAttrs === undefined) {
    failures.push({
      code: 'PKI_TSP_CERT_BINDING',
      check: 'signingCertificate',
      message: 'the token has no signed attributes (no signingCertificate)',
    });
  } else {
    const cms = verifySignedData(sd, {
      ...(options.intermediates ? { certificates: options.intermediates } : {}),
      policy,
    });
    failures.push(...cms.failures);
    tsaCertificate = cms.signers[0]?.certificate;
  }

  if (tsaCertificate !== undefined && signer !== undefined) {
    const cert = tsaCertificate;
    try {
      checkSigningCertificate(signer, cert, policy);
    } catch (e) {
      push(e, 'signingCertificate');
    }
    // §2.4.2: a tsa name, if present, must be one of the TSA certificate's names: its subject, or a
    // subjectAltName of the same form (dNSName, rfc822Name, URI, iPAddress, directoryName, …).
    let named = true;
    try {
      named = tsaNameMatches(tst, cert);
    } catch (e) {
      push(e, 'tsaName');
    }
    if (!named) {
      failures.push({
        code: 'PKI_TSP_CERT_BINDING',
        check: 'tsaName',
        certificate: cert.subject,
        message: `the token names the TSA ${tst.tsa ?? '?'}, not ${cert.subject}`,
      });
    }
    try {
      checkTsaExtKeyUsage(cert, options.tsaExtKeyUsage);
    } catch (e) {
      push(e, 'extKeyUsage');
    }
    if (options.trustAnchors) {
      const r = verifyChain(cert, {
        trustAnchors: options.trustAnchors,
        intermediates: [...sd.certificates, ...(options.intermediates ?? [])],
        at: tst.genTime,
        keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation,
        policy,
      });
      failures.push(...r.failures);
      chain = r.chain;
    } else {
      try {
        checkValidity(cert, tst.genTime, 0);
      } catch (e) {
        push(e, 'validity');
      }
    }
  }

  return {
    ...resultOf(failures),
    genTime: tst.genTime,
    serialNumber: tst.serialNumber,
    tsa: tst.tsa,
    policy: tst.policy,
    accuracy: tst.accuracy,
    ordering: tst.ordering,
    nonce: tst.nonce,
    hashAlgorithm: tst.hashAlgorithm,
    tsaCertificate,
    chain,
    tstInfo: tst,
  };
}
