/**
 * Evidence downloads for operators in the console (seed §2.1–2.3): a record's evidence report (PDF, to view or
 * download) and evidence package (zip), and exports of selected records — CSV or Excel (.xlsx) rows, or one zip of
 * their evidence packages — within the projects assigned to the user. The reports module's own builders
 * (`renderEvidenceReport`, `buildPackage`) make the files; every download is written to the operation log.
 */
import { readFileSync } from 'node:fs';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { zipSync } from 'fflate';
import { appendToChain } from '../../../audit/hash-chain.js';
import { isoTime } from '../../../context.js';
import type { EvidenceKind } from '../../../db/schema.js';
import { adminCtx } from '../../../plugins/session.js';
import { loadReportFonts, type ReportFonts } from '../../../report/font.js';
import { getEvidence, type Caller, type EvidenceDeps, type EvidenceView } from '../../evidence/service.js';
import { buildPackage, renderEvidenceReport, type ReportDeps } from '../../reports/service.js';
import { csvField } from '../audit/service.js';
import type { AdminRouteOptions } from '../options.js';
import { buildXlsx } from './xlsx.js';

type AdminApp = Parameters<FastifyPluginAsyncTypebox<AdminRouteOptions>>[0];

/** Most records in one CSV/Excel export, and in one zip of evidence packages (each renders a PDF). */
export const MAX_EXPORT_RECORDS = 500;
export const MAX_EXPORT_PACKAGES = 20;

const Kind = Type.Union([Type.Literal('signature'), Type.Literal('digest'), Type.Literal('file')]);
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Project = Type.String({ minLength: 1, maxLength: 64 });
const Lang = Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en-US')]));

const COLUMNS: readonly [string, (e: EvidenceView) => unknown][] = [
  ['id', (e) => e.id],
  ['kind', (e) => e.kind],
  ['app_id', (e) => e.appId],
  ['serial_number', (e) => e.serialNumber],
  ['business_type', (e) => e.businessType],
  ['source_system', (e) => e.sourceSystem],
  ['department', (e) => e.department.name ?? e.department.code],
  ['patient_id', (e) => e.patient.id],
  ['patient_name', (e) => e.patient.name],
  ['visit_number', (e) => e.patient.visitNumber],
  ['signer', (e) => e.signer],
  ['signature_format', (e) => e.signatureFormat],
  ['original_sm3', (e) => e.original?.sm3],
  ['digest', (e) => (e.digest === null ? null : `${e.digest.algorithm}:${e.digest.value}`)],
  ['file_name', (e) => e.file?.name],
  ['file_sm3', (e) => e.file?.sm3],
  ['signed_at', (e) => e.signedAt],
  ['received_at', (e) => e.receivedAt],
  ['evidence_hash', (e) => e.evidenceHash],
  ['log_index', (e) => e.logIndex],
];

const text = (v: unknown): string =>
  v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);

function send(
  reply: FastifyReply,
  bytes: Uint8Array,
  type: string,
  name: string,
  inline = false,
): FastifyReply {
  return reply
    .header('content-type', type)
    .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename="${name}"`)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .send(Buffer.from(bytes));
}

export function registerEvidenceExports(
  app: AdminApp,
  options: {
    opts: AdminRouteOptions;
    evidence: EvidenceDeps;
    callerOf: (request: FastifyRequest, project: string) => Promise<Caller>;
  },
): void {
  const { opts, evidence, callerOf } = options;
  let fonts: ReportFonts | undefined; // parsed on the first report, then kept
  let logo: Uint8Array | undefined | null = null;
  const reportDeps = (): ReportDeps => {
    const trust = app.trustConfig;
    if (logo === null)
      logo = trust.unitLogoFile === undefined ? undefined : new Uint8Array(readFileSync(trust.unitLogoFile));
    return {
      evidence,
      ca: app.ca,
      unitName: trust.unitName,
      logo,
      publicUrl: trust.publicUrl,
      fonts: () => (fonts ??= loadReportFonts()),
    };
  };
  const audit = async (
    request: FastifyRequest,
    caller: Caller,
    kind: EvidenceKind,
    ids: readonly string[],
    what: string,
  ): Promise<void> => {
    const ctx = adminCtx(app, request, opts.now);
    await appendToChain({
      db: app.db,
      table: 'operation_logs',
      entry: {
        at: isoTime(ctx.now()),
        actor: ctx.actor,
        action: 'evidence.export',
        target_type: kind,
        target_id: ids.length === 1 ? ids[0]! : '',
        project_id: caller.projectId,
        detail: JSON.stringify({ ip: request.ip, result: 'success', what, count: ids.length, ids }),
      },
    });
  };

  const tags = ['console'];
  const one = {
    params: Type.Object({ kind: Kind, id: Id }),
    querystring: Type.Object(
      { project: Project, lang: Lang, inline: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
  };
  app.get(
    '/evidence/:kind/:id/report',
    {
      config: { permission: 'evidence:export' },
      schema: { tags, summary: 'The evidence report (PDF); ?inline=true to view it in the browser', ...one },
    },
    async (request, reply) => {
      const { kind, id } = request.params;
      const caller = await callerOf(request, request.query.project);
      const pdf = await renderEvidenceReport({
        deps: reportDeps(),
        caller,
        kind,
        id,
        locale: request.query.lang ?? 'zh-CN',
      });
      await audit(request, caller, kind, [id], 'report');
      return send(reply, pdf, 'application/pdf', `${id}.pdf`, request.query.inline === true);
    },
  );
  app.get(
    '/evidence/:kind/:id/package',
    {
      config: { permission: 'evidence:export' },
      schema: { tags, summary: 'The evidence package (zip)', ...one },
    },
    async (request, reply) => {
      const { kind, id } = request.params;
      const caller = await callerOf(request, request.query.project);
      const zip = await buildPackage({
        deps: reportDeps(),
        caller,
        kind,
        id,
        locale: request.query.lang ?? 'zh-CN',
      });
      await audit(request, caller, kind, [id], 'package');
      return send(reply, zip, 'application/zip', `${id}.zip`);
    },
  );

  const selection = (max: number) =>
    Type.Object(
      { ids: Type.Array(Id, { minItems: 1, maxItems: max, uniqueItems: true }) },
      { additionalProperties: false },
    );
  app.post(
    '/evidence/:kind/export',
    {
      config: { permission: 'evidence:export' },
      schema: {
        tags,
        summary: `Exports the selected records (≤ ${MAX_EXPORT_RECORDS}) as CSV or Excel`,
        params: Type.Object({ kind: Kind }),
        querystring: Type.Object(
          { project: Project, format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]) },
          { additionalProperties: false },
        ),
        body: selection(MAX_EXPORT_RECORDS),
      },
    },
    async (request, reply) => {
      const { kind } = request.params;
      const caller = await callerOf(request, request.query.project);
      const rows: string[][] = [];
      for (const id of request.body.ids) {
        const e = await getEvidence({ deps: evidence, caller, kind, id });
        rows.push(COLUMNS.map(([, get]) => text(get(e))));
      }
      const header = COLUMNS.map(([name]) => name);
      await audit(request, caller, kind, request.body.ids, request.query.format);
      if (request.query.format === 'csv') {
        const csv = `\ufeff${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
        return send(reply, new TextEncoder().encode(csv), 'text/csv; charset=utf-8', `evidence-${kind}.csv`);
      }
      return send(
        reply,
        buildXlsx(kind, header, rows),
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        `evidence-${kind}.xlsx`,
      );
    },
  );
  app.post(
    '/evidence/:kind/packages',
    {
      config: { permission: 'evidence:export' },
      schema: {
        tags,
        summary: `The evidence packages of the selected records (≤ ${MAX_EXPORT_PACKAGES}), one zip`,
        params: Type.Object({ kind: Kind }),
        querystring: Type.Object({ project: Project, lang: Lang }, { additionalProperties: false }),
        body: selection(MAX_EXPORT_PACKAGES),
      },
    },
    async (request, reply) => {
      const { kind } = request.params;
      const caller = await callerOf(request, request.query.project);
      const files: Record<string, Uint8Array> = {};
      for (const id of request.body.ids)
        files[`${id}.zip`] = await buildPackage({
          deps: reportDeps(),
          caller,
          kind,
          id,
          locale: request.query.lang ?? 'zh-CN',
        });
      await audit(request, caller, kind, request.body.ids, 'packages');
      return send(reply, zipSync(files, { level: 0 }), 'application/zip', `evidence-${kind}-packages.zip`);
    },
  );
}
