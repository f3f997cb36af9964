/**
 * Evidence reports (凭证报告, PDF) and evidence packages (证据包, zip) for one record: the report view is built
 * from the stored record, a fresh re-verification and the log proof; the platform seals it; the package carries
 * every byte an offline verifier needs (`@yizheng/evidence`, `yizheng verify`).
 */
import { fromHex, sm2, sm3, toHex } from '@yizheng/gm';
import { buildEvidencePackage, FILES } from '@yizheng/evidence';
import { parseCertificate, toPem, verifyTimeStampToken, gmSm2Provider } from '@yizheng/pki';
import { canonicalRecord } from '../../evidence/canonical.js';
import type { EvidenceKind } from '../../db/schema.js';
import { YzError } from '../../errors.js';
import type { InternalCa } from '../../ca/internal-ca.js';
import { platformChainPem } from '../../ca/internal-ca.js';
import type { ReportFonts } from '../../report/font.js';
import { maskIdentifier, maskName } from '../../report/mask.js';
import { renderReport } from '../../report/render.js';
import { reportContent, sealReport } from '../../report/seal.js';
import type { ReportCheck, ReportLocale, ReportSeal, ReportView } from '../../report/view-model.js';
import * as evidenceRepo from '../evidence/repo.js';
import * as evidence from '../evidence/service.js';
import { publicVerifyUrl } from '../public-verify/code.js';
import { checkpointStamp } from '../../log/stamper.js';
import { checkDigestTimestamp } from '../../jobs/digest-timestamp-check.js';

export interface ReportDeps {
  evidence: evidence.EvidenceDeps;
  ca: InternalCa;
  unitName: string;
  logo: Uint8Array | undefined;
  publicUrl: string;
  fonts: () => ReportFonts;
}

const DIGEST_NAME: Readonly<Record<string, string>> = {
  '1.2.156.10197.1.401': 'SM3',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
  '1.3.14.3.2.26': 'SHA-1',
};

interface Collected {
  view: ReportView;
  seal: ReportSeal;
  record: Uint8Array;
  detail: Awaited<ReturnType<typeof evidence.getEvidence>>;
  verification: evidence.VerifyReport;
  /** Digest records: the digest-timestamp job's token over the evidence hash, when stamped. */
  reinforcement: Uint8Array | undefined;
}

const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

async function collect(options: {
  deps: ReportDeps;
  caller: evidence.Caller;
  kind: EvidenceKind;
  id: string;
  locale: ReportLocale;
}): Promise<Collected> {
  const { deps, caller, kind, id } = options;
  const e = deps.evidence;
  const detail = await evidence.getEvidence({ deps: e, caller, kind, id });
  const verification = await evidence.verifyEvidence({ deps: e, caller, kind, id });
  const row = await evidenceRepo.findEvidence(e.db, { id, kind, projectId: caller.projectId });
  if (row === undefined) throw new YzError('EVIDENCE_NOT_FOUND', id);
  const record = new TextEncoder().encode(canonicalRecord(evidence.recordColumns(row)));
  const project = await e.db
    .selectFrom('projects')
    .select(['id', 'name'])
    .where('id', '=', detail.projectId)
    .executeTakeFirst();
  const application = await e.db
    .selectFrom('applications')
    .select(['id', 'name'])
    .where('id', '=', detail.appId)
    .executeTakeFirst();

  let certificate: ReportView['certificate'];
  const first = detail.payload.certificates[0];
  if (first !== undefined) {
    try {
      const c = parseCertificate(fromB64(first));
      certificate = {
        subject: c.subject,
        issuer: c.issuer,
        serialNumber: c.serialHex,
        notBefore: c.notBefore.toISOString(),
        notAfter: c.notAfter.toISOString(),
        sm3: toHex(sm3(c.der)),
      };
    } catch {
      certificate = undefined; // altered bytes: the verification table says so
    }
  }
  let timestamp: ReportView['timestamp'];
  if (detail.payload.timestampToken !== null) {
    const t = verifyTimeStampToken({
      token: fromB64(detail.payload.timestampToken),
      policy: { sm2: gmSm2Provider },
    });
    if (t.genTime !== undefined) {
      timestamp = {
        genTime: t.genTime.toISOString(),
        tsa: t.tsa ?? t.tsaCertificate?.subject ?? '',
        serialNumber: t.serialNumber?.toString() ?? '',
        policy: t.policy ?? '',
        hashAlgorithm: DIGEST_NAME[t.hashAlgorithm ?? ''] ?? t.hashAlgorithm ?? '',
      };
    }
  }

  const reinforced =
    detail.kind === 'digest'
      ? await checkDigestTimestamp(e.db, detail.id, fromHex(detail.evidenceHash))
      : undefined;
  const reinforcementTimestamp: ReportView['reinforcementTimestamp'] =
    reinforced?.genTime === undefined
      ? undefined
      : {
          genTime: reinforced.genTime.toISOString(),
          tsa: reinforced.tsa,
          serialNumber: reinforced.serialNumber,
          policy: reinforced.policy,
          hashAlgorithm: 'SM3',
        };

  const hashes: ReportView['hashes'] = [];
  const hash = (name: string, value: string | null | undefined, algorithm = 'SM3'): void => {
    if (value !== null && value !== undefined) hashes.push({ name, algorithm, value });
  };
  hash('original', detail.original?.sm3);
  hash('signature', row.signature_sm3);
  hash('certificates', row.certificates_sm3);
  hash('timestamp', row.timestamp_sm3);
  hash('reinforcement', reinforced === undefined ? undefined : toHex(sm3(reinforced.token)));
  hash('file', detail.file?.sm3);
  hash('evidence', detail.evidenceHash);

  const checks: ReportCheck[] = verification.checks.map((c) => ({
    name: c.part,
    status: c.ok ? 'pass' : 'fail',
    ...(c.detail ? { detail: c.detail } : {}),
  }));
  const patient = {
    ...(detail.patient.name !== null ? { name: maskName(detail.patient.name) } : {}),
    ...(detail.patient.id !== null ? { id: maskIdentifier(detail.patient.id) } : {}),
    ...(detail.patient.visitNumber !== null ? { visitNumber: detail.patient.visitNumber } : {}),
  };
  const department = [detail.department.code, detail.department.name].filter((s) => s !== null).join(' ');
  const view: ReportView = {
    version: 1,
    locale: options.locale,
    unitName: deps.unitName,
    recordId: detail.id,
    kind: detail.kind,
    project: { id: detail.projectId, name: project?.name ?? detail.projectId },
    application: { id: detail.appId, name: application?.name ?? detail.appId },
    serialNumber: detail.serialNumber,
    ...(detail.businessType !== null ? { businessType: detail.businessType } : {}),
    ...(detail.sourceSystem !== null ? { sourceSystem: detail.sourceSystem } : {}),
    ...(department !== '' ? { department } : {}),
    ...(Object.keys(patient).length > 0 ? { patient } : {}),
    ...(detail.signer !== null ? { signer: detail.signer } : {}),
    ...(detail.signatureFormat !== null ? { signatureFormat: detail.signatureFormat.toUpperCase() } : {}),
    ...(detail.signedAt !== null ? { signedAt: detail.signedAt } : {}),
    receivedAt: detail.receivedAt,
    ...(detail.file !== null
      ? {
          file: {
            name: detail.file.name ?? '',
            size: detail.file.size,
            contentType: detail.file.contentType ?? 'application/octet-stream',
          },
        }
      : {}),
    ...(detail.digest !== null
      ? {
          digest: {
            ...(detail.category !== null ? { category: detail.category } : {}),
            algorithm: detail.digest.algorithm.toUpperCase(),
            value: detail.digest.value,
          },
        }
      : {}),
    ...(certificate !== undefined ? { certificate } : {}),
    ...(timestamp !== undefined ? { timestamp } : {}),
    ...(reinforcementTimestamp !== undefined ? { reinforcementTimestamp } : {}),
    hashes,
    checks,
    valid: verification.intact,
    log: {
      index: verification.log.index,
      ...(verification.log.treeSize !== undefined ? { treeSize: verification.log.treeSize } : {}),
      ...(verification.log.checkpoint !== undefined
        ? { checkpoint: verification.log.checkpoint, rootHash: checkpointRoot(verification.log.checkpoint) }
        : {}),
      inclusionProof: verification.log.proof ?? [],
    },
    verifyUrl: publicVerifyUrl(deps.publicUrl, deps.evidence.platformKey, detail.id),
    generatedAt: verification.verifiedAt,
  };
  const seal = sealReport({ view, privateKey: e.platformKey.privateKey });
  return { view, seal, record, detail, verification, reinforcement: reinforced?.token };
}

/** The root hash line of a checkpoint note (`origin\nsize\nbase64(root)\n…`), as hex. */
function checkpointRoot(note: string): string {
  const line = note.split('\n')[2] ?? '';
  return Buffer.from(line, 'base64').toString('hex');
}

export async function renderEvidenceReport(options: {
  deps: ReportDeps;
  caller: evidence.Caller;
  kind: EvidenceKind;
  id: string;
  locale: ReportLocale;
}): Promise<Uint8Array> {
  const { view, seal } = await collect(options);
  return renderReport(view, seal, {
    fonts: options.deps.fonts(),
    ...(options.deps.logo !== undefined ? { logo: options.deps.logo } : {}),
  });
}

export async function buildPackage(options: {
  deps: ReportDeps;
  caller: evidence.Caller;
  kind: EvidenceKind;
  id: string;
  locale: ReportLocale;
}): Promise<Uint8Array> {
  const { deps } = options;
  const c = await collect(options);
  const pdf = await renderReport(c.view, c.seal, {
    fonts: deps.fonts(),
    ...(deps.logo !== undefined ? { logo: deps.logo } : {}),
  });
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  const files: Record<string, Uint8Array> = {
    [FILES.record]: c.record,
    [FILES.platformChain]: utf8(platformChainPem(deps.ca)),
    [FILES.reportContent]: utf8(
      JSON.stringify({
        view: JSON.parse(new TextDecoder().decode(reportContent(c.view))) as unknown,
        seal: c.seal,
      }),
    ),
    [FILES.reportPdf]: pdf,
    [FILES.verification]: utf8(JSON.stringify(c.verification, null, 2)),
  };
  const p = c.detail.payload;
  if (p.original !== null) files[FILES.original] = fromB64(p.original);
  if (p.signature !== null) files[FILES.signature] = fromB64(p.signature);
  if (p.certificates.length > 0)
    files[FILES.certificates] = utf8(p.certificates.map((b) => toPem(fromB64(b), 'CERTIFICATE')).join(''));
  if (p.timestampToken !== null) files[FILES.timestamp] = fromB64(p.timestampToken);
  if (c.reinforcement !== undefined) files[FILES.evidenceTimestamp] = c.reinforcement;
  if (c.detail.kind === 'file') {
    const f = await evidence.getFileContent({ deps: deps.evidence, caller: options.caller, id: options.id });
    files[FILES.file] = f.content;
  }
  const logState = await deps.evidence.db
    .selectFrom('log_state')
    .select(['hash_alg', 'origin'])
    .executeTakeFirstOrThrow();
  if (c.verification.log.checkpoint !== undefined && c.verification.log.treeSize !== undefined) {
    files[FILES.checkpoint] = utf8(c.verification.log.checkpoint);
    files[FILES.inclusionProof] = utf8(
      JSON.stringify({
        hash: logState.hash_alg,
        index: c.verification.log.index,
        treeSize: c.verification.log.treeSize,
        proof: c.verification.log.proof ?? [],
      }),
    );
    // The platform TSA's token over this checkpoint's note, once the stamper has stamped it.
    const stamp = await checkpointStamp(deps.evidence.db, c.verification.log.treeSize);
    if (stamp !== undefined) files[FILES.checkpointTimestamp] = stamp;
  }
  return buildEvidencePackage({
    recordId: c.detail.id,
    kind: c.detail.kind,
    evidenceHash: c.detail.evidenceHash,
    logHash: logState.hash_alg,
    logOrigin: logState.origin,
    createdAt: c.verification.verifiedAt,
    files,
    sign: (data) => sm2.sign(deps.evidence.platformKey.privateKey, data),
  });
}
