/**
 * `GET /api/v1/{signatures|digests|files}/{id}/report` → the evidence report (PDF, zh-CN by default,
 * `?lang=en-US`; rendered fresh, with a fresh verification; for digest records `?stored=1` serves the report the
 * digest-report job stored instead, 404 REPORT_NOT_STORED when it has not yet), `…/{id}/package` → the evidence package (zip). Signed API; an application sees its project's
 * records only (404 otherwise).
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EvidenceKind } from '../../db/schema.js';
import { appAuthOf } from '../../plugins/auth.js';
import { loadReportFonts, type ReportFonts } from '../../report/font.js';
import type { ReportLocale } from '../../report/view-model.js';
import { signedApiErrors, signedApiSecurity } from '../shared-schema.js';
import { downloadUrlRoutes } from '../downloads/routes.js';
import { YzError } from '../../errors.js';
import { storedDigestReport } from '../../jobs/digest-report.js';
import { getEvidence, type EvidenceDeps } from '../evidence/service.js';
import { buildPackage, renderEvidenceReport, type ReportDeps } from './service.js';

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const Lang = Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en-US')]));
const Query = Type.Object({ lang: Lang }, { additionalProperties: false });
/** Digest reports: a fresh report by default; `?stored=1`, the one the digest-report job stored. */
const DigestReportQuery = Type.Object(
  { lang: Lang, stored: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1')])) },
  { additionalProperties: false },
);
const COLLECTIONS: readonly [string, EvidenceKind, string][] = [
  ['signatures', 'signature', '电子签名数据'],
  ['digests', 'digest', '摘要数据'],
  ['files', 'file', '电子文件'],
];
const errors = { 400: Type.Ref('Problem'), 404: Type.Ref('Problem'), ...signedApiErrors };

export const reportRoutes: FastifyPluginAsyncTypebox<{ evidence: EvidenceDeps }> = async (app, options) => {
  let fonts: ReportFonts | undefined; // parsed on the first report (16 MB font), then kept by this plugin
  const trust = app.trustConfig;
  const deps: ReportDeps = {
    evidence: options.evidence,
    ca: app.ca,
    unitName: trust.unitName,
    logo: trust.unitLogoFile === undefined ? undefined : new Uint8Array(readFileSync(trust.unitLogoFile)),
    publicUrl: trust.publicUrl,
    fonts: () => (fonts ??= loadReportFonts()),
  };
  app.reportsHolder.deps = deps; // for GET /downloads?t=…, outside this signed scope
  await app.register(downloadUrlRoutes, {
    evidence: options.evidence,
    secret: app.downloadSecret,
    ttlMs: trust.downloadTtlMs,
    publicUrl: trust.publicUrl,
  });
  const callerOf = (request: FastifyRequest) => {
    const a = appAuthOf(request);
    return { appId: a.appId, projectId: a.projectId, projectStatus: a.projectStatus };
  };
  const send = (reply: FastifyReply, bytes: Uint8Array, type: string, name: string): FastifyReply =>
    reply
      .header('content-type', type)
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store')
      .send(Buffer.from(bytes));

  for (const [path, kind, label] of COLLECTIONS) {
    app.get(
      `/${path}/:id/report`,
      {
        schema: {
          tags: ['reports'],
          summary:
            kind === 'digest'
              ? `${label}凭证报告 (PDF, freshly verified; ?lang=en-US for English; ?stored=1 for the report the digest-report job stored, 404 REPORT_NOT_STORED when none)`
              : `${label}凭证报告 (PDF; ?lang=en-US for English)`,
          security: signedApiSecurity,
          params: Params,
          querystring: kind === 'digest' ? DigestReportQuery : Query,
          response: { 200: Type.Any({ description: 'application/pdf' }), ...errors },
        },
      },
      async (request, reply) => {
        const query = request.query as { lang?: ReportLocale; stored?: '0' | '1' };
        const locale: ReportLocale = query.lang ?? 'zh-CN';
        if (query.stored === '1') {
          const caller = callerOf(request);
          const stored = await storedDigestReport({
            db: options.evidence.db,
            reports: app.reportsHolder,
            evidenceId: request.params.id,
            projectId: caller.projectId,
          });
          if (stored !== undefined) return send(reply, stored, 'application/pdf', `${request.params.id}.pdf`);
          // Another project's record, or none: the same 404 as every other lookup; ours without a report: say so.
          await getEvidence({ deps: options.evidence, caller, kind, id: request.params.id });
          throw new YzError('REPORT_NOT_STORED', request.params.id);
        }
        const pdf = await renderEvidenceReport({
          deps,
          caller: callerOf(request),
          kind,
          id: request.params.id,
          locale,
        });
        return send(reply, pdf, 'application/pdf', `${request.params.id}.pdf`);
      },
    );
    app.get(
      `/${path}/:id/package`,
      {
        schema: {
          tags: ['reports'],
          summary: `${label}证据包 (zip: original, signature, certificates, token, record, proof, checkpoint, chain, report)`,
          security: signedApiSecurity,
          params: Params,
          querystring: Query,
          response: { 200: Type.Any({ description: 'application/zip' }), ...errors },
        },
      },
      async (request, reply) => {
        const locale: ReportLocale = request.query.lang ?? 'zh-CN';
        const zip = await buildPackage({
          deps,
          caller: callerOf(request),
          kind,
          id: request.params.id,
          locale,
        });
        return send(reply, zip, 'application/zip', `${request.params.id}.zip`);
      },
    );
  }
};
