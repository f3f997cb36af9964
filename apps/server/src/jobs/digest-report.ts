/**
 * 摘要数据生成存证报告 (seed §1.6): renders the PDF evidence report of each digest record that has none stored
 * yet, with the report service (modules/reports), and keeps it in the project's file store (content-addressed
 * by SM3), referenced from `digest_artifacts.report_sm3`. Batched (keyset over ids), resumable (a stopped run
 * leaves the rest), idempotent (a stored report is never replaced; storing the same bytes twice is one file).
 */
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import type { Database, FileStorage, ProjectStatus } from '../db/schema.js';
import type { ReportsHolder } from '../modules/downloads/routes.js';
import { renderEvidenceReport } from '../modules/reports/service.js';
import { fileStoreFor } from '../storage/file-store.js';
import { digestArtifacts, pendingDigests, saveDigestPart } from './digest-artifacts.js';
import type { Job } from './job.js';

export interface DigestReportCounts {
  generated: number;
  failed: number;
  batches: number;
  /** The report service is not assembled (no signed API in this process): nothing was done. */
  unavailable: number;
}

export async function generateDigestReports(options: {
  db: Kysely<Database>;
  reports: ReportsHolder;
  now(): number;
  batchSize?: number;
  signal?: AbortSignal;
}): Promise<DigestReportCounts> {
  const counts: DigestReportCounts = { generated: 0, failed: 0, batches: 0, unavailable: 0 };
  const deps = options.reports.deps;
  if (deps === undefined) return { ...counts, unavailable: 1 };
  const batchSize = options.batchSize ?? 50;
  const projects = new Map<string, { status: ProjectStatus; fileStorage: FileStorage }>();
  let after = '';
  const stopped = (): boolean => options.signal?.aborted === true;
  while (!stopped()) {
    const rows = await pendingDigests(options.db, 'report', after, batchSize);
    if (rows.length === 0) break;
    counts.batches++;
    for (const row of rows) {
      if (stopped()) break;
      after = row.id;
      try {
        let project = projects.get(row.project_id);
        if (project === undefined) {
          const p = await options.db
            .selectFrom('projects')
            .select(['status', 'file_storage'])
            .where('id', '=', row.project_id)
            .executeTakeFirstOrThrow();
          project = { status: p.status, fileStorage: p.file_storage };
          projects.set(row.project_id, project);
        }
        const pdf = await renderEvidenceReport({
          deps,
          caller: { appId: row.app_id, projectId: row.project_id, projectStatus: project.status },
          kind: 'digest',
          id: row.id,
          locale: 'zh-CN',
        });
        const store = fileStoreFor(project, deps.evidence.fileStores);
        const stored = await store.put(pdf);
        const wrote = await saveDigestPart(options.db, row.id, 'report', {
          report_sm3: stored.sm3,
          report_storage: store.kind,
          report_size: stored.size,
          report_at: isoTime(options.now()),
        });
        if (wrote) counts.generated++;
      } catch {
        counts.failed++;
      }
    }
    if (rows.length < batchSize) break;
  }
  return counts;
}

/**
 * The stored report of a digest record of `projectId` (for a report download), or undefined when none is
 * stored or the record is not that project's digest record.
 */
export async function storedDigestReport(options: {
  db: Kysely<Database>;
  reports: ReportsHolder;
  evidenceId: string;
  projectId: string;
}): Promise<Uint8Array | undefined> {
  const deps = options.reports.deps;
  if (deps === undefined) return undefined;
  const owned = await options.db
    .selectFrom('evidence')
    .select('id')
    .where('id', '=', options.evidenceId)
    .where('kind', '=', 'digest')
    .where('project_id', '=', options.projectId)
    .executeTakeFirst();
  if (owned === undefined) return undefined;
  const a = await digestArtifacts(options.db, options.evidenceId);
  if (a?.report_sm3 === null || a?.report_sm3 === undefined) return undefined;
  const store =
    a.report_storage === 'database' ? deps.evidence.fileStores.database : deps.evidence.fileStores.local;
  return store.get(a.report_sm3);
}

export function digestReportJob(deps: { db: Kysely<Database>; reports: ReportsHolder; now(): number }): Job {
  return {
    id: 'digest-report',
    description: '摘要数据生成存证报告 — generate and store the PDF evidence report of digest records',
    defaultSchedule: '0 * * * *',
    handler: ({ signal }) => generateDigestReports({ ...deps, signal }),
  };
}
