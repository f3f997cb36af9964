/**
 * Evidence for operators in the console (seed §2.1–2.3): search, detail and one-click re-verification of
 * signature data, digests and files, within the projects assigned to the user — over the evidence module's
 * own service functions (`listEvidence`, `getEvidence`, `verifyEvidence`), with the project as the caller.
 * Each re-verification is written to the operation log with its verdict. Reports, packages and exports of the
 * selected records: ./exports.ts.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { appendToChain } from '../../../audit/hash-chain.js';
import { isoTime } from '../../../context.js';
import { createEvidenceDeps, evidenceConfigOf } from '../../../evidence/deps.js';
import { adminCtx, assertProjectInScope } from '../../../plugins/session.js';
import { ListQuery } from '../../evidence/schema.js';
import { getEvidence, listEvidence, verifyEvidence, type Caller } from '../../evidence/service.js';
import { getProject } from '../../projects/service.js';
import type { AdminRouteOptions } from '../options.js';
import { registerEvidenceExports } from './exports.js';

const Kind = Type.Union([Type.Literal('signature'), Type.Literal('digest'), Type.Literal('file')]);
const Project = Type.String({ minLength: 1, maxLength: 64 });

export const evidenceAdminRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = (app, opts) => {
  const evidence = createEvidenceDeps({
    db: app.db,
    now: opts.now,
    fieldCrypto: app.fieldCrypto,
    platformKey: app.platformKey,
    config: evidenceConfigOf(opts.config),
    log: app.log,
  });
  app.addHook('onClose', () => evidence.close());

  /** The project (id or number) as the evidence caller, after the scope check. */
  const callerOf = async (request: Parameters<typeof adminCtx>[1], project: string): Promise<Caller> => {
    const p = await getProject({ ctx: adminCtx(app, request, opts.now), ref: project });
    assertProjectInScope(request, p.id);
    return { appId: 'console', projectId: p.id, projectStatus: p.status };
  };

  app.get(
    '/evidence/:kind',
    {
      config: { permission: 'evidence:read' },
      schema: {
        tags: ['console'],
        summary: 'Searches evidence of one kind in a project (id, application, serial number, patient, time)',
        params: Type.Object({ kind: Kind }),
        querystring: Type.Object(
          { project: Project, ...ListQuery.properties },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { project, ...query } = request.query;
      return listEvidence({
        deps: evidence.deps,
        caller: await callerOf(request, project),
        kind: request.params.kind,
        query,
      });
    },
  );

  app.get(
    '/evidence/:kind/:id',
    {
      config: { permission: 'evidence:read' },
      schema: {
        tags: ['console'],
        params: Type.Object({ kind: Kind, id: Type.String({ minLength: 1, maxLength: 64 }) }),
        querystring: Type.Object({ project: Project }, { additionalProperties: false }),
      },
    },
    async (request) =>
      getEvidence({
        deps: evidence.deps,
        caller: await callerOf(request, request.query.project),
        kind: request.params.kind,
        id: request.params.id,
      }),
  );

  app.post(
    '/evidence/:kind/:id/verify',
    {
      config: { permission: 'evidence:verify' },
      schema: {
        tags: ['console'],
        summary: 'Re-verifies a record and shows each check and any tampered part',
        params: Type.Object({ kind: Kind, id: Type.String({ minLength: 1, maxLength: 64 }) }),
        querystring: Type.Object({ project: Project }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const caller = await callerOf(request, request.query.project);
      const report = await verifyEvidence({
        deps: evidence.deps,
        caller,
        kind: request.params.kind,
        id: request.params.id,
      });
      const ctx = adminCtx(app, request, opts.now);
      await appendToChain({
        db: app.db,
        table: 'operation_logs',
        entry: {
          at: isoTime(ctx.now()),
          actor: ctx.actor,
          action: 'evidence.verify',
          target_type: request.params.kind,
          target_id: request.params.id,
          project_id: caller.projectId,
          detail: JSON.stringify({
            ip: request.ip,
            result: 'success',
            intact: report.intact,
            tampered: report.tampered,
          }),
        },
      });
      return report;
    },
  );
  registerEvidenceExports(app, { opts, evidence: evidence.deps, callerOf });
  return Promise.resolve();
};
