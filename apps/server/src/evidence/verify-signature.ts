/**
 * The verification pipeline for signature data (电子签名数据), over @yizheng/pki: CMS SignedData (attached or
 * detached, against the original or its digest) or a raw signature value with its signer certificate; the signer
 * certificate valid at signing time and, with a trust store, chained to one of its roots (without one the chain
 * is recorded as `untrusted-root`, everything else is still checked); an RFC 3161 timestamp token, pushed beside
 * the signature or found in the CMS unsigned attributes (CAdES-T), over the signature value (or the original).
 *
 * Signing time, for the certificate checks: the timestamp's genTime when there is a valid token, else the CMS
 * signingTime attribute, else the time the pusher declared, else the time of receipt.
 *
 * Revocation (see `revocation.ts`): the signer (with a trust store: every certificate of its path) is asked of the
 * configured CRLs, the CRLs in the CMS and the OCSP responses in the CMS at the signing time; revoked at or before
 * it → EVIDENCE_CERT_REVOKED; the answer (good / revoked at T / unknown) is part of the summary.
 *
 * Pure CPU, no I/O (the configured CRL directory is re-read at most once a second): it runs before the write
 * transaction. A failed check throws a {@link YzError} whose code names
 * it (422, nothing stored); success returns the summary that goes into the record and the receipt.
 */
import {
  CMS_OID,
  OID,
  cachedSm2Provider,
  checkValidity,
  createCmsVerifier,
  digest,
  digestName,
  gmSm2Provider,
  isPkiError,
  parseCertificate,
  parseSignedData,
  verifyRawSignature,
  verifySignedData,
  verifyTimeStampToken,
  type AlgorithmPolicy,
  type CmsVerifier,
  type DigestName,
  type ParsedCertificate,
  type ParsedSignedData,
  type PkiErrorCode,
  type RevocationSource,
  type Sm2Provider,
  crlRevocationSource,
  type VerificationFailure,
} from '@yizheng/pki';
import { canonicalJson, type CanonicalValue } from '../audit/canonical-json.js';
import { YzError, type ErrorCode } from '../errors.js';
import {
  embeddedOcspSource,
  leafStatus,
  summariseChecks,
  summaryOf,
  type RevocationSummary,
} from './revocation.js';

export const POLICY: AlgorithmPolicy = { sm2: gmSm2Provider };

/**
 * The CMS reader: SignedData read by the hardened TLV walk of {@link createCmsVerifier} (no schema pass), the
 * certificates it carries parsed once per exact bytes (bounded). One for every check and for the pre-verification
 * (preverify.ts), so both read a message by the same rules and share the certificate cache.
 */
const CMS_READER: CmsVerifier = createCmsVerifier({ maxCachedCertificates: 4096 });

/** A CMS ContentInfo holding SignedData, as the checks read it; throws PkiError. */
export function parseCms(der: Uint8Array): ParsedSignedData {
  return CMS_READER.parse(der);
}

/** The algorithm policy, one per trust configuration: SM2 public keys imported once per SPKI (bounded). */
const POLICIES = new WeakMap<TrustConfig, AlgorithmPolicy>();
const MAX_CACHED_SM2_KEYS = 10_000;

function policyOf(trust: TrustConfig): AlgorithmPolicy {
  let p = POLICIES.get(trust);
  if (p === undefined) {
    p = { sm2: trust.sm2 ?? cachedSm2Provider(MAX_CACHED_SM2_KEYS) };
    POLICIES.set(trust, p);
  }
  return p;
}

export interface TrustConfig {
  /** Trusted roots (and intermediates) from the trust store; undefined → no chain validation. */
  anchors: readonly ParsedCertificate[] | undefined;
  /** Revocation sources the operator configured (the CRL directory); the CMS's own CRLs and OCSP come on top. */
  revocation?: readonly RevocationSource[] | undefined;
  /**
   * SM2 for the signature checks under this configuration (history migration: its batches pre-verified on the
   * thread pool); default: the native engine with cached keys.
   */
  sm2?: Sm2Provider | undefined;
}

export interface SignatureCheckInput {
  format: 'cms' | 'raw';
  /** CMS ContentInfo DER, or the raw signature value. */
  signature: Uint8Array;
  /** Raw: the signer certificate first, then intermediates. CMS: certificates beside the message. */
  certificates: readonly Uint8Array[];
  original: Uint8Array | undefined;
  originalDigest: { algorithm: DigestName; value: Uint8Array } | undefined;
  /** A timestamp token pushed beside the signature (TimeStampToken or TimeStampResp DER). */
  timestampToken: Uint8Array | undefined;
  /** Raw signatures: the signature algorithm OID (default from the key). */
  algorithm: string | undefined;
  declaredSigningTime: Date | undefined;
  receivedAt: Date;
  /**
   * CMS: `signature` as already parsed by a CMS verifier's `parse` (pre-verification, preverify.ts), so that it
   * is not parsed twice; absent, it is parsed here.
   */
  parsedCms?: ParsedSignedData | undefined;
}

export interface TimestampSummary {
  genTime: string;
  tsa: string | null;
  /** What the token's imprint covers. */
  covers: 'signature' | 'original';
  /** Where the token came from. */
  source: 'pushed' | 'cms-unsigned-attribute';
}

/** What was verified, stored with the record (canonical JSON) and returned in the receipt. */
export interface VerificationSummary {
  format: 'cms' | 'raw';
  signatureAlgorithm: string;
  digestAlgorithm: string | null;
  signer: string;
  signerIssuer: string;
  signerSerial: string;
  signerNotBefore: string;
  signerNotAfter: string;
  signingTime: string;
  signingTimeSource: 'timestamp' | 'cms-signing-time' | 'declared' | 'received';
  chain: 'trusted' | 'untrusted-root';
  timestamp: TimestampSummary | null;
  /** Verified against the original bytes, or only against their digest. */
  against: 'original' | 'digest';
  /** The signer's revocation status at the signing time (吊销状态). */
  revocation: RevocationSummary;
}

const str = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): boolean => v === null || typeof v === 'string';
const SUMMARY_MEMBERS = 14;
const NESTED_MEMBERS = 4;

/** Whether the summary has exactly the declared members, each of its declared type (then the literal applies). */
function wellTyped(s: VerificationSummary): boolean {
  const r = s.revocation as RevocationSummary | null | undefined;
  const t = s.timestamp as TimestampSummary | null | undefined;
  return (
    typeof r === 'object' &&
    r !== null &&
    str(r.detail) &&
    strOrNull(r.revokedAt) &&
    strOrNull(r.source) &&
    str(r.status) &&
    Object.keys(r).length === NESTED_MEMBERS &&
    (t === null ||
      (typeof t === 'object' &&
        t !== undefined &&
        str(t.covers) &&
        str(t.genTime) &&
        str(t.source) &&
        strOrNull(t.tsa) &&
        Object.keys(t).length === NESTED_MEMBERS)) &&
    str(s.against) &&
    str(s.chain) &&
    strOrNull(s.digestAlgorithm) &&
    str(s.format) &&
    str(s.signatureAlgorithm) &&
    str(s.signer) &&
    str(s.signerIssuer) &&
    str(s.signerNotAfter) &&
    str(s.signerNotBefore) &&
    str(s.signerSerial) &&
    str(s.signingTime) &&
    str(s.signingTimeSource) &&
    Object.keys(s).length === SUMMARY_MEMBERS
  );
}

/**
 * canonicalJson of a verification summary (the record's `verification` column, spliced into its receipt). A
 * summary of exactly the declared members and types is written by ONE `JSON.stringify` of object literals in
 * sorted key order, as canonicalRecord does (JSON.stringify keeps the insertion order of non-index keys and
 * escapes strings as canonical JSON does), so the bytes are the same without sorting keys or concatenating
 * per-member strings; anything else goes through the generic serialiser.
 */
export function summaryJson(s: VerificationSummary): string {
  if (!wellTyped(s)) return canonicalJson(s as unknown as CanonicalValue);
  const r = s.revocation;
  const t = s.timestamp;
  return JSON.stringify({
    against: s.against,
    chain: s.chain,
    digestAlgorithm: s.digestAlgorithm,
    format: s.format,
    revocation: { detail: r.detail, revokedAt: r.revokedAt, source: r.source, status: r.status },
    signatureAlgorithm: s.signatureAlgorithm,
    signer: s.signer,
    signerIssuer: s.signerIssuer,
    signerNotAfter: s.signerNotAfter,
    signerNotBefore: s.signerNotBefore,
    signerSerial: s.signerSerial,
    signingTime: s.signingTime,
    signingTimeSource: s.signingTimeSource,
    timestamp: t === null ? null : { covers: t.covers, genTime: t.genTime, source: t.source, tsa: t.tsa },
  });
}

export interface SignatureCheckResult {
  summary: VerificationSummary;
  /** The original as verified (the attached CMS content, or the pushed original). */
  content: Uint8Array | undefined;
  /**
   * SM3 of `content` when the check established it: a CMS signer's messageDigest, verified against the content
   * (SM3 digest, signed attributes). Saves hashing a large original a second time for the record.
   */
  contentSm3?: Uint8Array | undefined;
  /** The timestamp token that was verified (pushed or embedded), to be stored. */
  timestampToken: Uint8Array | undefined;
  /** The DER certificates to store: those supplied beside the signature. */
  certificates: readonly Uint8Array[];
}

/** PKI failure codes → the evidence error a client sees. */
const CODE_MAP: Readonly<Partial<Record<PkiErrorCode, ErrorCode>>> = {
  PKI_ASN1_INVALID: 'EVIDENCE_FORMAT_INVALID',
  PKI_DEPTH_LIMIT: 'EVIDENCE_FORMAT_INVALID',
  PKI_SIZE_LIMIT: 'EVIDENCE_FORMAT_INVALID',
  PKI_CERT_EXPIRED: 'EVIDENCE_CERT_EXPIRED',
  PKI_CERT_NOT_YET_VALID: 'EVIDENCE_CERT_NOT_YET_VALID',
  PKI_CERT_SIGNATURE_INVALID: 'EVIDENCE_CHAIN_INVALID',
  PKI_CHAIN_INCOMPLETE: 'EVIDENCE_CHAIN_UNTRUSTED',
  PKI_UNTRUSTED_ROOT: 'EVIDENCE_CHAIN_UNTRUSTED',
  PKI_KEY_USAGE: 'EVIDENCE_CHAIN_INVALID',
  PKI_EKU: 'EVIDENCE_CHAIN_INVALID',
  PKI_PATH_LENGTH: 'EVIDENCE_CHAIN_INVALID',
  PKI_REVOKED: 'EVIDENCE_CERT_REVOKED',
  PKI_REVOCATION_UNKNOWN: 'EVIDENCE_CHAIN_INVALID',
  PKI_UNKNOWN_CRITICAL_EXTENSION: 'EVIDENCE_CHAIN_INVALID',
  PKI_NAME_CONSTRAINTS: 'EVIDENCE_CHAIN_INVALID',
  PKI_POLICY: 'EVIDENCE_CHAIN_INVALID',
  PKI_TSP_POLICY_MISMATCH: 'EVIDENCE_TIMESTAMP_INVALID',
  PKI_OCSP_EXPIRED: 'EVIDENCE_CHAIN_INVALID',
  PKI_CMS_SIGNATURE_INVALID: 'EVIDENCE_SIGNATURE_INVALID',
  PKI_CMS_DIGEST_MISMATCH: 'EVIDENCE_DIGEST_MISMATCH',
  PKI_CMS_NO_SIGNER_CERT: 'EVIDENCE_SIGNER_CERT_MISSING',
  PKI_CMS_CONTENT_MISSING: 'EVIDENCE_ORIGINAL_REQUIRED',
  PKI_UNSUPPORTED_ALGORITHM: 'EVIDENCE_ALGORITHM_UNSUPPORTED',
  PKI_TSP_IMPRINT_MISMATCH: 'EVIDENCE_TIMESTAMP_IMPRINT_MISMATCH',
  PKI_TSP_NONCE_MISMATCH: 'EVIDENCE_TIMESTAMP_INVALID',
  PKI_TSP_CERT_BINDING: 'EVIDENCE_TIMESTAMP_INVALID',
  PKI_TSP_STATUS: 'EVIDENCE_TIMESTAMP_INVALID',
  PKI_TSP_HASH_WEAK: 'EVIDENCE_TIMESTAMP_INVALID',
  PKI_CRL_SIGNATURE_INVALID: 'EVIDENCE_CHAIN_INVALID',
  PKI_CRL_EXPIRED: 'EVIDENCE_CHAIN_INVALID',
  PKI_OCSP_SIGNATURE_INVALID: 'EVIDENCE_CHAIN_INVALID',
  PKI_OCSP_STATUS: 'EVIDENCE_CHAIN_INVALID',
  PKI_OCSP_NONCE_MISMATCH: 'EVIDENCE_CHAIN_INVALID',
  PKI_OCSP_CERT_ID_MISMATCH: 'EVIDENCE_CHAIN_INVALID',
  PKI_SIGNATURE_INVALID: 'EVIDENCE_SIGNATURE_INVALID',
  PKI_INVALID_ARGUMENT: 'EVIDENCE_INPUT_INVALID',
};

export function evidenceCodeOf(code: PkiErrorCode): ErrorCode {
  return CODE_MAP[code] ?? 'EVIDENCE_SIGNATURE_INVALID';
}

function describe(f: VerificationFailure): string {
  const where = [
    f.check !== undefined ? `check ${f.check}` : undefined,
    f.signerIndex !== undefined ? `signer ${f.signerIndex}` : undefined,
    f.certificate !== undefined ? `certificate ${f.certificate}` : undefined,
    f.chainIndex !== undefined ? `chain position ${f.chainIndex}` : undefined,
  ].filter((x) => x !== undefined);
  return `${f.code}${where.length > 0 ? ` (${where.join(', ')})` : ''}: ${f.message}`;
}

/** Throws the first failure as the evidence error naming the failed check. */
function reject(failures: readonly VerificationFailure[], prefix?: ErrorCode): never {
  const first = failures.find((f) => f.code === 'PKI_REVOKED') ?? failures[0];
  if (first === undefined) throw new YzError('EVIDENCE_SIGNATURE_INVALID');
  const code = prefix ?? evidenceCodeOf(first.code);
  throw new YzError(code, failures.slice(0, 3).map(describe).join('; '));
}

/**
 * Parsed certificates by SM3 of their DER: a hospital's signers are a few thousand doctors, and parsing a
 * certificate costs far more than hashing it. Bounded (cleared when full); a parsed certificate is immutable.
 */
const CERT_CACHE = new Map<string, ParsedCertificate>();
const CERT_CACHE_MAX = 10_000;

/** Certificates parsed before, by their exact DER bytes (as a latin1 string: no hashing, no collision). */
function parseCert(der: Uint8Array, what: string): ParsedCertificate {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
  const hit = CERT_CACHE.get(key);
  if (hit !== undefined) return hit;
  try {
    const cert = parseCertificate(der);
    if (CERT_CACHE.size >= CERT_CACHE_MAX) CERT_CACHE.clear();
    CERT_CACHE.set(key, cert);
    return cert;
  } catch (e) {
    if (isPkiError(e)) throw new YzError('EVIDENCE_FORMAT_INVALID', `${what}: ${e.code}: ${e.message}`);
    throw e;
  }
}

/** {@link parseCert} for the pre-verification: the same cache, undefined for what does not parse. */
export function readCertificate(der: Uint8Array): ParsedCertificate | undefined {
  try {
    return parseCert(der, 'certificate');
  } catch (e) {
    if (e instanceof YzError) return undefined;
    throw e;
  }
}

const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** The value of a signed messageDigest attribute (DER OCTET STRING). */
function octetValue(der: Uint8Array): Uint8Array | undefined {
  if (der[0] !== 0x04 || der.length < 2) return undefined;
  const len = der[1]!;
  if (len < 0x80 && der.length === 2 + len) return der.subarray(2);
  return undefined;
}

interface TimestampCheck {
  summary: TimestampSummary;
  genTime: Date;
}

function checkTimestamp(
  token: Uint8Array,
  source: TimestampSummary['source'],
  signatureValue: Uint8Array,
  original: Uint8Array | undefined,
  trust: TrustConfig,
): TimestampCheck {
  const run = (data: Uint8Array) =>
    verifyTimeStampToken({
      token,
      data,
      policy: policyOf(trust),
      ...(trust.anchors ? { trustAnchors: trust.anchors, intermediates: trust.anchors } : {}),
    });
  let covers: TimestampSummary['covers'] = 'signature';
  let r = run(signatureValue);
  const imprintOnly = (f: readonly VerificationFailure[]) =>
    f.length > 0 && f.every((x) => x.code === 'PKI_TSP_IMPRINT_MISMATCH');
  if (imprintOnly(r.failures) && original !== undefined) {
    const again = run(original);
    if (again.valid) {
      r = again;
      covers = 'original';
    }
  }
  if (!r.valid || r.genTime === undefined) {
    const first = r.failures[0];
    const code =
      first?.code === 'PKI_TSP_IMPRINT_MISMATCH'
        ? 'EVIDENCE_TIMESTAMP_IMPRINT_MISMATCH'
        : 'EVIDENCE_TIMESTAMP_INVALID';
    reject(r.failures, code);
  }
  return {
    genTime: r.genTime,
    summary: { genTime: r.genTime.toISOString(), tsa: r.tsa ?? null, covers, source },
  };
}

function signingTimeOf(
  ts: TimestampCheck | undefined,
  cmsTime: Date | undefined,
  input: SignatureCheckInput,
): { at: Date; source: VerificationSummary['signingTimeSource'] } {
  if (ts) return { at: ts.genTime, source: 'timestamp' };
  if (cmsTime) return { at: cmsTime, source: 'cms-signing-time' };
  if (input.declaredSigningTime) return { at: input.declaredSigningTime, source: 'declared' };
  return { at: input.receivedAt, source: 'received' };
}

/** Without a trust store: the signer certificate must still be valid at signing time. */
function checkLeafValidity(cert: ParsedCertificate, at: Date): void {
  try {
    checkValidity(cert, at, 0);
  } catch (e) {
    if (isPkiError(e)) throw new YzError(evidenceCodeOf(e.code), `${e.code}: ${e.message}`);
    throw e;
  }
}

type SignerSummary = Readonly<{
  signer: string;
  signerIssuer: string;
  signerSerial: string;
  signerNotBefore: string;
  signerNotAfter: string;
}>;

/** Per parsed certificate (the cached ones come back with every record they signed). */
const SIGNER_SUMMARIES = new WeakMap<ParsedCertificate, SignerSummary>();

function signerSummary(cert: ParsedCertificate): SignerSummary {
  let s = SIGNER_SUMMARIES.get(cert);
  if (s === undefined) {
    s = summaryOfSigner(cert);
    SIGNER_SUMMARIES.set(cert, s);
  }
  return s;
}

function summaryOfSigner(cert: ParsedCertificate): SignerSummary {
  return {
    signer: cert.subject,
    signerIssuer: cert.issuer,
    signerSerial: cert.serialHex,
    signerNotBefore: cert.notBefore.toISOString(),
    signerNotAfter: cert.notAfter.toISOString(),
  };
}

function verifyCms(input: SignatureCheckInput, trust: TrustConfig): SignatureCheckResult {
  const policy = policyOf(trust);
  let sd: ParsedSignedData;
  try {
    sd = input.parsedCms ?? parseCms(input.signature);
  } catch (e) {
    if (!isPkiError(e)) throw e;
    // The fast path refuses OtherRevocationInfoFormat in `crls` (RFC 5940 OCSP responses); the full parser
    // reads them. Anything the full parser refuses too is reported as the fast path saw it.
    try {
      sd = parseSignedData(input.signature);
    } catch {
      throw new YzError('EVIDENCE_FORMAT_INVALID', `CMS: ${e.code}: ${e.message}`);
    }
  }
  const extra = input.certificates.map((c, i) => parseCert(c, `certificate ${i + 1}`));
  const first = sd.signers[0];
  if (first === undefined) throw new YzError('EVIDENCE_SIGNER_CERT_MISSING', 'the CMS has no signer');

  // The content: attached, or the pushed original, or only its digest.
  let content = sd.content;
  if (content !== undefined && input.original !== undefined && !eq(content, input.original))
    throw new YzError('EVIDENCE_DIGEST_MISMATCH', 'the pushed original differs from the attached content');
  content ??= input.original;
  const digestOnly = content === undefined;
  if (digestOnly) {
    const d = input.originalDigest;
    if (d === undefined) throw new YzError('EVIDENCE_ORIGINAL_REQUIRED', 'detached CMS without original');
    for (const s of sd.signers) {
      if (s.signedAttrs === undefined)
        throw new YzError(
          'EVIDENCE_ORIGINAL_REQUIRED',
          `signer ${s.index} has no signed attributes: its signature covers the original itself`,
        );
      let name: DigestName;
      try {
        name = digestName(s.digestAlgorithm, POLICY);
      } catch (e) {
        if (isPkiError(e)) throw new YzError('EVIDENCE_ALGORITHM_UNSUPPORTED', e.message);
        throw e;
      }
      if (name !== d.algorithm)
        throw new YzError(
          'EVIDENCE_DIGEST_MISMATCH',
          `signer ${s.index} used ${name}, the digest is ${d.algorithm}`,
        );
      const md = s.attributes.get(CMS_OID.messageDigest);
      const value = md?.length === 1 && md[0] ? octetValue(md[0]) : undefined;
      if (value === undefined)
        throw new YzError('EVIDENCE_FORMAT_INVALID', `signer ${s.index}: messageDigest`);
      if (!eq(value, d.value))
        throw new YzError(
          'EVIDENCE_DIGEST_MISMATCH',
          `signer ${s.index}: messageDigest differs from the digest`,
        );
    }
  }

  // Timestamp: pushed, or embedded in the first signer's unsigned attributes (CAdES-T).
  const embedded = first.unsignedAttributes.get(CMS_OID.timeStampToken)?.[0];
  const token = input.timestampToken ?? embedded;
  const ts =
    token === undefined
      ? undefined
      : checkTimestamp(
          token,
          input.timestampToken !== undefined ? 'pushed' : 'cms-unsigned-attribute',
          first.signature,
          content,
          trust,
        );

  // One verification pass. With a trust store the path is validated at the timestamp's genTime, else (left to
  // the library) at the CMS signingTime, else at the declared time or the time of receipt.
  const hasCmsTime = first.attributes.has(CMS_OID.signingTime);
  const fallback = input.declaredSigningTime ?? input.receivedAt;
  const sources = revocationSources(sd, trust, policy);
  const result = verifySignedData(sd, {
    content: content ?? new Uint8Array(0),
    certificates: extra,
    policy: policy,
    ...(trust.anchors
      ? {
          trustAnchors: trust.anchors,
          ...(ts ? { at: ts.genTime } : hasCmsTime ? {} : { at: fallback }),
          ...(sources.length > 0 || sd.crls.length > 0
            ? { revocation: { sources, mode: 'prefer' as const, embeddedCrls: true } }
            : {}),
        }
      : {}),
  });
  const cmsTime = result.signers[0]?.signingTime;
  const { at, source } = signingTimeOf(ts, cmsTime, input);
  // In digest-only mode the messageDigest was compared with the pushed digest above.
  const failures = result.failures.filter(
    (f) => !(digestOnly && f.code === 'PKI_CMS_DIGEST_MISMATCH' && f.check === 'messageDigest'),
  );
  if (failures.length > 0) reject(failures);
  const signerCert = result.signers[0]?.certificate;
  if (signerCert === undefined) throw new YzError('EVIDENCE_SIGNER_CERT_MISSING');
  if (!trust.anchors) for (const s of result.signers) if (s.certificate) checkLeafValidity(s.certificate, at);
  const revocation = trust.anchors
    ? sources.length > 0 || sd.crls.length > 0
      ? summariseChecks(result.signers[0]?.revocation ?? [])
      : NO_REVOCATION_INFO
    : leafRevocation(
        result.signers.map((x) => x.certificate).filter((c): c is ParsedCertificate => c !== undefined),
        [...sd.certificates, ...extra],
        [...sources, ...(sd.crls.length > 0 ? [crlRevocationSource(sd.crls, { policy: policy })] : [])],
        at,
      );
  let digestAlg: string;
  try {
    digestAlg = digestName(first.digestAlgorithm, POLICY);
  } catch {
    digestAlg = first.digestAlgorithm;
  }
  // Every signer verified, so the first one's messageDigest is the digest of `content` (not in digest-only mode,
  // where the content is absent and the attribute was compared with the pushed digest instead).
  const md = first.attributes.get(CMS_OID.messageDigest);
  const contentSm3 =
    !digestOnly && digestAlg === 'sm3' && first.signedAttrs !== undefined && md?.length === 1 && md[0]
      ? octetValue(md[0])
      : undefined;
  return {
    summary: {
      format: 'cms',
      signatureAlgorithm: first.signatureAlgorithm,
      digestAlgorithm: digestAlg,
      ...signerSummary(signerCert),
      signingTime: at.toISOString(),
      signingTimeSource: source,
      chain: trust.anchors ? 'trusted' : 'untrusted-root',
      timestamp: ts?.summary ?? null,
      against: digestOnly ? 'digest' : 'original',
      revocation,
    },
    content,
    ...(contentSm3?.length === 32 ? { contentSm3 } : {}),
    timestampToken: token,
    certificates: input.certificates,
  };
}

function verifyRaw(input: SignatureCheckInput, trust: TrustConfig): SignatureCheckResult {
  const [signerDer, ...rest] = input.certificates;
  if (signerDer === undefined)
    throw new YzError('EVIDENCE_SIGNER_CERT_MISSING', 'a raw signature needs the signer certificate');
  if (input.original === undefined)
    throw new YzError('EVIDENCE_ORIGINAL_REQUIRED', 'a raw signature is verified against the original');
  const cert = parseCert(signerDer, 'signer certificate');
  const intermediates = rest.map((c, i) => parseCert(c, `certificate ${i + 2}`));
  const ts =
    input.timestampToken === undefined
      ? undefined
      : checkTimestamp(input.timestampToken, 'pushed', input.signature, input.original, trust);
  const { at, source } = signingTimeOf(ts, undefined, input);
  const sources = trust.revocation ?? [];
  const r = verifyRawSignature({
    certificate: cert,
    data: input.original,
    signature: input.signature,
    ...(input.algorithm !== undefined ? { algorithm: input.algorithm } : {}),
    policy: policyOf(trust),
    ...(trust.anchors ? { chain: { trustAnchors: trust.anchors, intermediates, at } } : {}),
    ...(trust.anchors && sources.length > 0 ? { revocation: { sources, mode: 'prefer' as const } } : {}),
  });
  if (!r.valid) reject(r.failures);
  if (!trust.anchors) checkLeafValidity(cert, at);
  const revocation = trust.anchors
    ? sources.length > 0
      ? summariseChecks(r.revocation)
      : NO_REVOCATION_INFO
    : leafRevocation([cert], intermediates, sources, at);
  const algorithm = input.algorithm ?? defaultAlgorithmName(cert);
  return {
    summary: {
      format: 'raw',
      signatureAlgorithm: algorithm,
      digestAlgorithm: null,
      ...signerSummary(cert),
      signingTime: at.toISOString(),
      signingTimeSource: source,
      chain: trust.anchors ? 'trusted' : 'untrusted-root',
      timestamp: ts?.summary ?? null,
      against: 'original',
      revocation,
    },
    content: input.original,
    timestampToken: input.timestampToken,
    certificates: input.certificates,
  };
}

const NO_REVOCATION_INFO: RevocationSummary = summaryOf(
  undefined,
  'no revocation information (no CRL or OCSP)',
);

/** The configured sources, then the OCSP responses the CMS carries (its CRLs are added by the verifier). */
function revocationSources(
  sd: ParsedSignedData,
  trust: TrustConfig,
  policy: AlgorithmPolicy,
): RevocationSource[] {
  let ocsp: RevocationSource | undefined;
  try {
    ocsp = embeddedOcspSource(sd.otherRevocationInfo, policy);
  } catch (e) {
    if (isPkiError(e))
      throw new YzError('EVIDENCE_FORMAT_INVALID', `CMS OCSP response: ${e.code}: ${e.message}`);
    throw e;
  }
  return [...(trust.revocation ?? []), ...(ocsp ? [ocsp] : [])];
}

/** Without a trust store: each signer certificate on its own; revoked at the signing time → 422. */
function leafRevocation(
  signers: readonly ParsedCertificate[],
  candidates: readonly ParsedCertificate[],
  sources: readonly RevocationSource[],
  at: Date,
): RevocationSummary {
  if (sources.length === 0) return NO_REVOCATION_INFO;
  let firstSummary: RevocationSummary | undefined;
  for (const cert of signers) {
    const s = leafStatus(cert, candidates, sources, at);
    if (s.status === 'revoked') throw new YzError('EVIDENCE_CERT_REVOKED', s.detail);
    firstSummary ??= s;
  }
  return firstSummary ?? NO_REVOCATION_INFO;
}

/** The algorithm verifyRawSignature picks from the key when none is given (recorded for the reader). */
function defaultAlgorithmName(cert: ParsedCertificate): string {
  const alg = cert.asn.tbsCertificate.subjectPublicKeyInfo.algorithm;
  if (alg.algorithm === OID.rsaEncryption) return OID.sha256WithRSA;
  if (alg.algorithm === OID.ecPublicKey || alg.algorithm === OID.sm2Curve) {
    const params = alg.parameters ? Buffer.from(alg.parameters).toString('hex') : '';
    // 06 08 2a 81 1c cf 55 01 82 2d = the SM2 curve OID 1.2.156.10197.1.301
    if (params.includes('2a811ccf5501822d') || alg.algorithm === OID.sm2Curve) return OID.sm3WithSm2;
    if (params.includes('2b81040022')) return OID.ecdsaWithSHA384;
    return OID.ecdsaWithSHA256;
  }
  return alg.algorithm;
}

/** Verifies signature evidence; throws a 4xx {@link YzError} naming the failed check. */
export function verifySignatureEvidence(
  input: SignatureCheckInput,
  trust: TrustConfig,
): SignatureCheckResult {
  if (input.original !== undefined && input.originalDigest !== undefined) {
    // Both given: they must agree.
    const d = input.originalDigest;
    if (!eq(digest(d.algorithm, input.original, POLICY), d.value))
      throw new YzError('EVIDENCE_DIGEST_MISMATCH', 'the digest does not match the original');
  }
  return input.format === 'cms' ? verifyCms(input, trust) : verifyRaw(input, trust);
}
