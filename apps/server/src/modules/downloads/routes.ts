/**
 * `POST /api/v1/{signatures|digests|files}/{id}/download-url` (signed) → a link valid for the configured time
 * (default 10 minutes), optionally one-time; `GET /downloads?t={token}` (public) serves the report, package or
 * file it names. Expired, altered or reused links → 403 with a stable code. The token is never logged: the
 * public route logs nothing (its URL is the secret), and the signed route's response body is not API-logged
 * beyond the bound the API log keeps.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import { sm3, toHex } from '@yizheng/gm';
import { trustDb } from '../../ca/tables.js';
import { isoTime } from '../../context.js';
import { isUniqueViolation } from '../../db/connect.js';
import type { EvidenceKind } from '../../db/schema.js';
import { YzError } from '../../errors.js';
import { appAuthOf } from '../../plugins/auth.js';
import * as evidenceRepo from '../evidence/repo.js';
import * as evidence from '../evidence/service.js';
import { buildPackage, renderEvidenceReport, type ReportDeps } from '../reports/service.js';
import { signedApiErrors, signedApiSecurity } from '../shared-schema.js';
import { checkToken, issueToken } from './token.js';

/** Filled by the reports plugin (inside the signed scope), read by the public download route. */
export interface ReportsHolder {
  deps: ReportDeps | undefined;
}

const COLLECTIONS: readonly [string, EvidenceKind][] = [
  ['signatures', 'signature'],
  ['digests', 'digest'],
  ['files', 'file'],
];

const Body = Type.Object(
  {
    what: Type.Union([Type.Literal('report'), Type.Literal('package'), Type.Literal('file')]),
    lang: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en-US')])),
    oneTime: Type.Optional(Type.Boolean()),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
const Result = Type.Object({ url: Type.String(), expiresAt: Type.String(), oneTime: Type.Boolean() });

/** Signed: issue links. Register inside the /api/v1 scope. */
export const downloadUrlRoutes: FastifyPluginAsyncTypebox<{
  evidence: evidence.EvidenceDeps;
  secret: Uint8Array;
  ttlMs: number;
  publicUrl: string;
}> = (app, o) => {
  for (const [path, kind] of COLLECTIONS) {
    app.post(
      `/${path}/:id/download-url`,
      {
        // The link is a credential: the API log keeps the response with the token redacted.
        onSend: (request, _reply, payload) => {
          if (typeof request.loggedResponse === 'string')
            request.loggedResponse = request.loggedResponse.replace(
              /\/downloads\?t=[A-Za-z0-9_.-]+/g,
              '/downloads?t=[redacted]',
            );
          return Promise.resolve(payload);
        },
        schema: {
          tags: ['reports'],
          summary: '生成限时下载链接 / an expiring download link (report, package or file)',
          security: signedApiSecurity,
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          body: Body,
          response: { 200: Result, 400: Type.Ref('Problem'), 404: Type.Ref('Problem'), ...signedApiErrors },
        },
      },
      async (request) => {
        const a = appAuthOf(request);
        const { what, lang, oneTime, ttlSeconds } = request.body;
        if (what === 'file' && kind !== 'file')
          throw new YzError('REQUEST_BODY_INVALID', 'only file records have a file');
        const row = await evidenceRepo.findEvidence(o.evidence.db, {
          id: request.params.id,
          kind,
          projectId: a.projectId,
        });
        if (row === undefined) throw new YzError('EVIDENCE_NOT_FOUND', request.params.id);
        const ttl = Math.min(o.ttlMs, (ttlSeconds ?? Infinity) * 1000);
        const expiresAt = o.evidence.now() + ttl;
        const token = issueToken(o.secret, {
          kind,
          id: row.id,
          projectId: a.projectId,
          appId: a.appId,
          what,
          lang: lang ?? 'zh-CN',
          expiresAt,
          oneTime: oneTime ?? false,
        });
        return {
          url: `${o.publicUrl}/downloads?t=${token}`,
          expiresAt: isoTime(expiresAt),
          oneTime: oneTime ?? false,
        };
      },
    );
  }
  return Promise.resolve();
};

/** Public: serve a link. Register at the top level (no signed-API guard). */
export const downloadRoutes: FastifyPluginAsyncTypebox<{
  holder: ReportsHolder;
  secret: Uint8Array;
  now: () => number;
}> = (app, o) => {
  app.get(
    '/downloads',
    {
      // The URL is the credential: nothing about this request is logged.
      logLevel: 'silent',
      schema: { hide: true, querystring: Type.Object({ t: Type.String({ maxLength: 2048 }) }) },
    },
    async (request, reply) => {
      const deps = o.holder.deps;
      if (deps === undefined) throw new YzError('NOT_READY');
      const now = o.now();
      const verdict = checkToken(o.secret, request.query.t, now);
      if (!verdict.ok)
        throw new YzError(verdict.reason === 'expired' ? 'DOWNLOAD_LINK_EXPIRED' : 'DOWNLOAD_LINK_INVALID');
      const g = verdict.grant;
      const project = await deps.evidence.db
        .selectFrom('projects')
        .select('status')
        .where('id', '=', g.projectId)
        .executeTakeFirst();
      if (project === undefined) throw new YzError('EVIDENCE_NOT_FOUND', g.id);
      if (g.oneTime) {
        try {
          await trustDb(deps.evidence.db)
            .insertInto('download_tokens')
            .values({
              token_id: toHex(sm3(request.query.t)),
              used_at: isoTime(now),
              expires_at: isoTime(g.expiresAt),
            })
            .execute();
        } catch (e) {
          if (isUniqueViolation(e)) throw new YzError('DOWNLOAD_LINK_USED');
          throw e;
        }
      }
      const caller: evidence.Caller = {
        appId: g.appId,
        projectId: g.projectId,
        projectStatus: project.status,
      };
      const base = { deps, caller, kind: g.kind, id: g.id, locale: g.lang };
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      if (g.what === 'report') {
        const pdf = await renderEvidenceReport(base);
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="${g.id}.pdf"`)
          .send(Buffer.from(pdf));
      }
      if (g.what === 'package') {
        const zip = await buildPackage(base);
        return reply
          .type('application/zip')
          .header('content-disposition', `attachment; filename="${g.id}.zip"`)
          .send(Buffer.from(zip));
      }
      const f = await evidence.getFileContent({ deps: deps.evidence, caller, id: g.id });
      return reply
        .type(f.contentType ?? 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${encodeURIComponent(f.name ?? g.id)}"`)
        .send(Buffer.from(f.content));
    },
  );
  return Promise.resolve();
};
