/**
 * The signature evidence: the CMS SignedData (over the original, or only its digest) or the raw signature
 * value with the included certificates; the signer certificate valid at signing time and its path to a root
 * the package includes; every RFC 3161 token (pushed beside the signature, or CAdES-T inside the CMS).
 *
 * Signing time: a verified token's genTime, else the CMS signingTime, else the record's signedAt (declared),
 * else its receivedAt — as the server decided when it accepted the record (apps/server/src/evidence).
 */
import { fromHex, toHex } from '@yizheng/gm/browser';
import {
  CMS_OID,
  checkValidity,
  isSelfIssued,
  isSignedBy,
  parseSignedData,
  verifyChain,
  verifyRawSignature,
  verifySignedData,
  type ParsedCertificate,
  type ParsedSignedData,
  type VerificationFailure,
} from '@yizheng/pki';
import type { Checks } from './checks.js';
import type { EvidenceCrypto } from './crypto.js';
import { FILES } from './format.js';
import { checkToken, type TokenTarget } from './timestamp-checks.js';

export interface SignatureEvidence {
  record: Readonly<Record<string, unknown>>;
  signature: Uint8Array | undefined;
  /** The original (or, for file records, the file). */
  content: Uint8Array | undefined;
  certificates: readonly ParsedCertificate[];
  token: Uint8Array | undefined;
  platformAnchors: readonly ParsedCertificate[];
  platformIntermediates: readonly ParsedCertificate[];
  crypto: EvidenceCrypto;
}

interface Summary {
  signatureAlgorithm?: string;
  timestamp?: { covers?: string } | null;
}

const describe = (fs: readonly VerificationFailure[]): string =>
  fs.map((f) => `${f.code}: ${f.message}`).join('; ');

function summaryOf(record: Readonly<Record<string, unknown>>): Summary {
  if (typeof record.verification !== 'string') return {};
  try {
    const s: unknown = JSON.parse(record.verification);
    return typeof s === 'object' && s !== null ? s : {};
  } catch {
    return {};
  }
}

function dateOf(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The value of a DER OCTET STRING (short form), as the messageDigest attribute carries it. */
function octetValue(der: Uint8Array | undefined): Uint8Array | undefined {
  if (der === undefined || der[0] !== 0x04 || der.length < 2) return undefined;
  const len = der[1]!;
  return len < 0x80 && der.length === 2 + len ? der.subarray(2) : undefined;
}

export function checkSignatureEvidence(checks: Checks, e: SignatureEvidence): void {
  const { record, crypto } = e;
  const summary = summaryOf(record);
  const digestHex = typeof record.digestValue === 'string' ? record.digestValue : undefined;
  let signer: ParsedCertificate | undefined;
  let signatureValue: Uint8Array | undefined;
  let cmsTime: Date | undefined;
  let embedded: Uint8Array | undefined;
  let extra: readonly ParsedCertificate[] = [];

  if (e.signature !== undefined && record.signatureFormat === 'cms') {
    let sd: ParsedSignedData | undefined;
    try {
      sd = parseSignedData(e.signature);
    } catch (err) {
      checks.add(FILES.signature, 'cms', false, `unreadable CMS: ${(err as Error).message}`);
    }
    const first = sd?.signers[0];
    if (sd !== undefined && first === undefined)
      checks.add(FILES.signature, 'cms', false, 'the CMS has no signer');
    if (sd !== undefined && first !== undefined) {
      extra = sd.certificates;
      signatureValue = first.signature;
      embedded = first.unsignedAttributes.get(CMS_OID.timeStampToken)?.[0];
      const content = sd.content ?? e.content;
      const digestOnly = content === undefined;
      const r = verifySignedData(sd, {
        content: content ?? new Uint8Array(0),
        certificates: e.certificates,
        policy: crypto.pki,
      });
      // CAdES-T tokens are checked below, each by name; in digest-only mode messageDigest is compared here.
      const failures = r.failures.filter(
        (f) =>
          !(digestOnly && f.code === 'PKI_CMS_DIGEST_MISMATCH' && f.check === 'messageDigest') &&
          !f.code.startsWith('PKI_TSP_'),
      );
      if (digestOnly) {
        const md = octetValue(first.attributes.get(CMS_OID.messageDigest)?.[0]);
        if (md === undefined || digestHex === undefined || toHex(md) !== digestHex.toLowerCase())
          failures.push({
            code: 'PKI_CMS_DIGEST_MISMATCH',
            check: 'messageDigest',
            message: "the signed messageDigest differs from the record's digest",
          });
      }
      signer = r.signers[0]?.certificate;
      cmsTime = r.signers[0]?.signingTime;
      checks.add(
        FILES.signature,
        'cms',
        failures.length === 0 && signer !== undefined,
        failures.length > 0
          ? describe(failures)
          : signer === undefined
            ? 'the signer certificate is not in the package'
            : `CMS signature by ${signer.subject} over the ${digestOnly ? 'digest' : 'original'} verifies`,
      );
    }
  } else if (e.signature !== undefined) {
    signatureValue = e.signature;
    signer = e.certificates[0];
    if (signer === undefined || e.content === undefined) {
      checks.add(
        FILES.signature,
        'raw-signature',
        false,
        'a raw signature needs the signer certificate and the original',
      );
    } else {
      const r = verifyRawSignature({
        certificate: signer,
        data: e.content,
        signature: e.signature,
        ...(summary.signatureAlgorithm !== undefined ? { algorithm: summary.signatureAlgorithm } : {}),
        policy: crypto.pki,
      });
      checks.add(
        FILES.signature,
        'raw-signature',
        r.valid,
        r.valid ? `raw signature by ${signer.subject} over the original verifies` : describe(r.failures),
      );
    }
  }

  // Timestamps: the pushed token (timestamp.tsr), then a CAdES-T token inside the CMS.
  const all = [...e.certificates, ...extra];
  const includedRoots = all.filter((c) => isSelfIssued(c) && isSignedBy(c, c, crypto.pki));
  const anchors = [...e.platformAnchors, ...includedRoots];
  const intermediates = [...e.platformIntermediates, ...all];
  let genTime: Date | undefined;
  if (e.token !== undefined) {
    const targets: TokenTarget[] = [];
    const covers = summary.timestamp?.covers;
    if (signatureValue !== undefined && covers !== 'original') targets.push({ data: signatureValue });
    if (e.content !== undefined) targets.push({ data: e.content });
    if (signatureValue !== undefined && covers === 'original') targets.push({ data: signatureValue });
    if (digestHex !== undefined && /^[0-9a-fA-F]+$/.test(digestHex))
      targets.push({ digest: fromHex(digestHex) });
    genTime = checkToken(checks, {
      part: FILES.timestamp,
      token: e.token,
      targets,
      anchors,
      intermediates,
      requireChain: false,
      crypto,
    });
  }
  if (embedded !== undefined && signatureValue !== undefined) {
    const t = checkToken(checks, {
      part: FILES.signature,
      token: embedded,
      targets: [{ data: signatureValue }],
      anchors,
      intermediates,
      requireChain: false,
      crypto,
    });
    genTime ??= t;
  }

  // The signer certificate at signing time, and its path.
  if (signer === undefined) return;
  const at = genTime ?? cmsTime ?? dateOf(record.signedAt) ?? dateOf(record.receivedAt) ?? new Date();
  const part = e.certificates.length > 0 ? FILES.certificates : FILES.signature;
  try {
    checkValidity(signer, at, 0);
    checks.add(
      part,
      'signer-validity',
      true,
      `${signer.subject} was valid at signing time ${at.toISOString()}`,
    );
  } catch (err) {
    checks.add(
      part,
      'signer-validity',
      false,
      `at signing time ${at.toISOString()}: ${(err as Error).message}`,
    );
  }
  if (includedRoots.length === 0) {
    checks.add(
      part,
      'signer-chain',
      'skip',
      `the package includes no root for ${signer.issuer}: the path is not checked`,
    );
    return;
  }
  const chain = verifyChain(signer, {
    trustAnchors: includedRoots,
    intermediates: all,
    at,
    policy: crypto.pki,
  });
  checks.add(
    part,
    'signer-chain',
    chain.valid,
    chain.valid
      ? chain.chain.map((c) => c.subject).join(' ← ') + ` at ${at.toISOString()}`
      : describe(chain.failures),
  );
}
