/**
 * Revocation of pushed signers (吊销检查): the CRLs the operator configures (`YIZHENG_CRL_DIR`, a directory of
 * CRL files, PEM or DER, re-read when a file is added, changed or removed), and what the CMS carries itself (its
 * `crls` and RFC 5940 OCSP responses in `otherRevocationInfo`). The answer is recorded with the record
 * (`revocation: good / revoked at T / unknown`); a certificate revoked at or before the signing time is refused
 * (EVIDENCE_CERT_REVOKED, 422). No answer (no CRL or response of that issuer) is `unknown` and accepted.
 *
 * The configured CRLs are parsed once per file version and each one's signature is verified once per issuer
 * certificate (memoised): a hospital CA's CRL can be megabytes, and hashing it on every push would dominate.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  ocspRevocationSource,
  parseCrl,
  verifyCrl,
  isPkiError,
  type AlgorithmPolicy,
  type OtherRevocationInfo,
  type ParsedCertificate,
  type ParsedCrl,
  type RevocationCheck,
  type RevocationSource,
  type RevocationStatus,
} from '@yizheng/pki';

/** Critical CRL extensions understood (cRLNumber, authorityKeyIdentifier), as the pki CRL source does. */
const CRL_EXTENSIONS_PROCESSED: readonly string[] = ['2.5.29.20', '2.5.29.35'];
/** RFC 5940 id-ri-ocsp-response: an OCSPResponse inside RevocationInfoChoices. */
export const OCSP_RESPONSE_INFO_FORMAT = '1.3.6.1.5.5.7.16.2';
/** How often, at most, the directory is looked at for changes. */
const RESCAN_MS = 1_000;
const MAX_CRL_FILE = 64 * 1024 * 1024;

export interface CrlDirectorySource extends RevocationSource {
  /** The CRLs in use (after the last re-read), for logs and tests. */
  crls(): readonly ParsedCrl[];
}

/** What a configured or embedded source answered for the signer, as stored in the verification summary. */
export interface RevocationSummary {
  status: 'good' | 'revoked' | 'unknown';
  revokedAt: string | null;
  source: 'crl' | 'ocsp' | null;
  detail: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * The CRLs of a directory (files ending .crl, .pem or .der; others ignored). A file that does not parse is
 * reported through `onError` and left out; the others still count.
 */
export function crlDirectorySource(options: {
  dir: string;
  policy?: AlgorithmPolicy;
  now?: () => number;
  onError?: (file: string, error: unknown) => void;
}): CrlDirectorySource {
  const now = options.now ?? Date.now;
  let signature = '';
  let checkedAt = -Infinity;
  let byIssuer = new Map<string, ParsedCrl[]>();
  let all: ParsedCrl[] = [];
  // Per CRL, per issuer certificate (by identity): undefined = verified, string = why it is not used.
  const verified = new WeakMap<ParsedCrl, WeakMap<ParsedCertificate, string | undefined>>();

  const refresh = (): void => {
    const t = now();
    if (t - checkedAt < RESCAN_MS && t >= checkedAt) return;
    checkedAt = t;
    let names: string[];
    try {
      names = readdirSync(options.dir)
        .filter((n) => /\.(crl|pem|der)$/i.test(n))
        .sort();
    } catch (e) {
      options.onError?.(options.dir, e);
      names = [];
    }
    const stats = names.map((n) => {
      try {
        const s = statSync(join(options.dir, n));
        return s.isFile() ? `${n}:${s.size}:${s.mtimeMs}` : '';
      } catch {
        return '';
      }
    });
    const next = stats.join('|');
    if (next === signature) return;
    signature = next;
    const crls: ParsedCrl[] = [];
    for (const n of names) {
      const file = join(options.dir, n);
      try {
        if (statSync(file).size > MAX_CRL_FILE) throw new RangeError(`larger than ${MAX_CRL_FILE} bytes`);
        const bytes = readFileSync(file);
        const text = bytes.subarray(0, 64).toString('latin1');
        crls.push(parseCrl(text.includes('-----BEGIN') ? bytes.toString('latin1') : new Uint8Array(bytes)));
      } catch (e) {
        options.onError?.(file, e);
      }
    }
    all = crls;
    byIssuer = new Map();
    for (const c of crls) {
      const k = hex(c.issuerDer);
      byIssuer.set(k, [...(byIssuer.get(k) ?? []), c]);
    }
  };

  const whyNotUsed = (crl: ParsedCrl, issuer: ParsedCertificate): string | undefined => {
    let m = verified.get(crl);
    if (m === undefined) {
      m = new WeakMap();
      verified.set(crl, m);
    }
    if (m.has(issuer)) return m.get(issuer);
    let reason: string | undefined;
    const unprocessed = crl.criticalExtensions.find((o) => !CRL_EXTENSIONS_PROCESSED.includes(o));
    if (unprocessed !== undefined) reason = `critical CRL extension ${unprocessed} not processed`;
    else
      try {
        verifyCrl(crl, issuer, options.policy ? { policy: options.policy } : {});
      } catch (e) {
        if (!isPkiError(e)) throw e;
        reason = `${e.code} ${e.message}`;
      }
    m.set(issuer, reason);
    return reason;
  };

  return {
    kind: 'crl',
    crls: () => {
      refresh();
      return all;
    },
    status(cert, issuer, at): RevocationStatus | undefined {
      refresh();
      const mine = byIssuer.get(hex(cert.issuerDer));
      if (mine === undefined) return undefined;
      const who = `${cert.subject} (serial ${cert.serialHex})`;
      const rejected: string[] = [];
      for (const crl of mine) {
        const name = `configured CRL${crl.crlNumber === undefined ? '' : ` #${crl.crlNumber}`} of ${crl.issuer} (thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate?.toISOString() ?? '(none)'})`;
        const reason = whyNotUsed(crl, issuer);
        if (reason !== undefined) {
          rejected.push(`${name} not used: ${reason}`);
          continue;
        }
        if (crl.nextUpdate !== undefined && at.getTime() > crl.nextUpdate.getTime()) {
          rejected.push(`${name} not used: its nextUpdate is before ${at.toISOString()}`);
          continue;
        }
        const entry = crl.entries.get(cert.serialHex);
        if (entry !== undefined && entry.reason !== 'removeFromCRL') {
          const when = entry.revocationDate.toISOString();
          if (entry.revocationDate.getTime() <= at.getTime())
            return {
              status: 'revoked',
              source: 'crl',
              revokedAt: entry.revocationDate,
              ...(entry.reason === undefined ? {} : { reason: entry.reason }),
              explanation: `${who} revoked at ${when}${entry.reason === undefined ? '' : ` (${entry.reason})`} according to ${name}`,
            };
          return {
            status: 'good',
            source: 'crl',
            explanation: `${who} was not yet revoked at ${at.toISOString()} (revoked later, at ${when}) according to ${name}`,
          };
        }
        return { status: 'good', source: 'crl', explanation: `${who} not listed in ${name}` };
      }
      return { status: 'unknown', source: 'crl', explanation: rejected.join('; ') };
    },
  };
}

/** The OCSP responses a CMS carries (RFC 5940), as a source; undefined when it carries none. */
export function embeddedOcspSource(
  info: readonly OtherRevocationInfo[],
  policy: AlgorithmPolicy | undefined,
): RevocationSource | undefined {
  const responses = info.filter((i) => i.format === OCSP_RESPONSE_INFO_FORMAT).map((i) => i.value);
  if (responses.length === 0) return undefined;
  return ocspRevocationSource(responses, policy ? { policy } : {});
}

/** The summary of a chain's revocation checks: revoked if any is, else good if the signer's is, else unknown. */
export function summariseChecks(checks: readonly RevocationCheck[]): RevocationSummary {
  const revoked = checks.find((c) => c.status?.status === 'revoked');
  const decided = revoked ?? checks.find((c) => c.chainIndex === 0);
  return summaryOf(decided?.status, decided?.explanation ?? 'no revocation information');
}

export function summaryOf(status: RevocationStatus | undefined, detail: string): RevocationSummary {
  if (status === undefined || status.status === 'unknown')
    return { status: 'unknown', revokedAt: null, source: status?.source ?? null, detail };
  return {
    status: status.status,
    revokedAt: status.revokedAt?.toISOString() ?? null,
    source: status.source,
    detail: status.explanation,
  };
}

/**
 * Without a trust store (no path to validate): the signer certificate alone, with its issuer taken from the
 * certificates at hand (matched by name; the CRL or OCSP signature must verify under it). Sources in order; a
 * 'revoked' answer decides, else the first 'good'.
 */
export function leafStatus(
  cert: ParsedCertificate,
  candidates: readonly ParsedCertificate[],
  sources: readonly RevocationSource[],
  at: Date,
): RevocationSummary {
  const issuerKey = hex(cert.issuerDer);
  const issuer = candidates.find((c) => hex(c.subjectDer) === issuerKey && c !== cert);
  if (issuer === undefined)
    return summaryOf(
      undefined,
      `the issuer certificate of ${cert.subject} is not at hand: revocation unknown`,
    );
  const answers: RevocationStatus[] = [];
  for (const s of sources) {
    try {
      const a = s.status(cert, issuer, at);
      if (a !== undefined) answers.push(a);
    } catch (e) {
      if (!isPkiError(e)) throw e;
      answers.push({ status: 'unknown', source: s.kind ?? 'crl', explanation: `${e.code}: ${e.message}` });
    }
  }
  const decided = answers.find((a) => a.status === 'revoked') ?? answers.find((a) => a.status === 'good');
  return summaryOf(
    decided,
    decided?.explanation ??
      (answers.length === 0
        ? `no revocation information for ${cert.subject} (serial ${cert.serialHex})`
        : answers.map((a) => a.explanation).join('; ')),
  );
}
