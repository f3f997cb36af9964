/**
 * The evidence API under the signed `/api/v1` scope: signature data, digest data and files — push (receipt),
 * batch, query, detail, re-verify. Routes are thin: schema, then one service call.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Value } from 'typebox/value';
import type { EvidenceKind } from '../../db/schema.js';
import { YzError, negotiateLocale } from '../../errors.js';
import { boundaryOf, parseMultipart } from '../../evidence/multipart.js';
import { appAuthOf } from '../../plugins/auth.js';
import { problemFor } from '../../plugins/errors.js';
import { getProject } from '../projects/service.js';
import { signedApiErrors, signedApiSecurity } from '../shared-schema.js';
import {
  BatchResult,
  DigestPush,
  EvidenceDetail,
  EvidencePage,
  EvidenceView,
  FileMeta,
  IdParams,
  ListQuery,
  Receipt,
  ReceiptKey,
  SignatureBatch,
  SignaturePush,
  VerifyReport,
  type SignaturePushBody,
} from './schema.js';
import * as service from './service.js';

export interface EvidenceRouteOptions {
  deps: service.EvidenceDeps;
  /** Largest file accepted by POST /files (EVIDENCE_FILE_TOO_LARGE above it). */
  fileSizeLimit: number;
}

/** Room for the multipart framing and the JSON `meta` part beside the file. */
const MULTIPART_OVERHEAD = 1024 * 1024;
const IDEMPOTENCY_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const v = request.headers['idempotency-key'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !IDEMPOTENCY_RE.test(v))
    throw new YzError('EVIDENCE_INPUT_INVALID', 'Idempotency-Key must be 1–128 of [A-Za-z0-9_.:-]');
  return v;
}

function callerOf(request: FastifyRequest): service.Caller {
  const a = appAuthOf(request);
  return {
    appId: a.appId,
    projectId: a.projectId,
    projectStatus: a.projectStatus,
    defaultTags: a.defaultTags,
  };
}

const errors = {
  400: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
  409: Type.Ref('Problem'),
  ...signedApiErrors,
};
const pushErrors = { ...errors, 413: Type.Ref('Problem'), 422: Type.Ref('Problem') };
const tags = ['evidence'];

function sendPush(reply: FastifyReply, r: service.PushResult): FastifyReply {
  return reply.code(r.duplicate ? 200 : 201).send(r.receipt);
}

export const evidenceRoutes: FastifyPluginAsyncTypebox<EvidenceRouteOptions> = (app, opts) => {
  const { deps } = opts;
  app.addSchema(Receipt);
  app.addSchema(EvidenceView);
  app.addSchema(SignaturePush);

  // multipart/form-data for POST /files: read whole (bounded), kept as request.rawBody for the signed-API hash.
  const limit = opts.fileSizeLimit + MULTIPART_OVERHEAD;
  app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    payload.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        done(new YzError('EVIDENCE_FILE_TOO_LARGE', `more than ${opts.fileSizeLimit} bytes`));
        payload.resume();
        return;
      }
      chunks.push(chunk);
    });
    payload.on('end', () => {
      if (failed) return;
      const body = Buffer.concat(chunks);
      request.rawBody = body;
      done(null, body);
    });
    payload.on('error', (e) => {
      if (failed) return;
      failed = true;
      done(e);
    });
  });

  // ------------------------------------------------------------------ signature data
  app.post(
    '/signatures',
    {
      schema: {
        tags,
        summary: '电子签名数据存储接口 (push signature data → signed receipt)',
        description:
          'Verified before storing (signature, signer certificate at signing time, timestamp token); 422 names the failed check and nothing is stored. 201: stored; 200: stored before (the first receipt). Optional Idempotency-Key header.',
        security: signedApiSecurity,
        body: Type.Ref('SignaturePush'),
        response: { 200: Type.Ref('Receipt'), 201: Type.Ref('Receipt'), ...pushErrors },
      },
    },
    async (request, reply) =>
      sendPush(
        reply,
        await service.pushSignature({
          deps,
          caller: callerOf(request),
          body: request.body as SignaturePushBody,
          idempotencyKey: idempotencyKeyOf(request),
        }),
      ),
  );

  app.post(
    '/signatures::batch',
    {
      schema: {
        tags,
        summary: 'Batch push of signature data (≤ 1,000 items, a result per item)',
        security: signedApiSecurity,
        body: SignatureBatch,
        response: { 200: BatchResult, ...pushErrors },
      },
    },
    async (request) => {
      const results = await service.pushSignatureBatch({
        deps,
        caller: callerOf(request),
        items: request.body.items as SignaturePushBody[],
        idempotencyKey: idempotencyKeyOf(request),
      });
      const lang = negotiateLocale(request.headers['accept-language']);
      return {
        results: results.map((r) =>
          r.error === undefined
            ? { index: r.index, status: r.status, ...(r.receipt ? { receipt: r.receipt } : {}) }
            : {
                index: r.index,
                status: r.status,
                error: problemFor(request, r.error.code, r.error.status, r.error.detail, lang),
              },
        ),
      };
    },
  );

  // ------------------------------------------------------------------ digest data
  app.post(
    '/digests',
    {
      schema: {
        tags,
        summary: '摘要数据存储接口 (push digest data → signed receipt)',
        security: signedApiSecurity,
        body: DigestPush,
        response: { 200: Type.Ref('Receipt'), 201: Type.Ref('Receipt'), ...pushErrors },
      },
    },
    async (request, reply) =>
      sendPush(
        reply,
        await service.pushDigest({
          deps,
          caller: callerOf(request),
          body: request.body,
          idempotencyKey: idempotencyKeyOf(request),
        }),
      ),
  );

  // ------------------------------------------------------------------ files
  app.post(
    '/files',
    {
      bodyLimit: limit,
      schema: {
        tags,
        summary:
          '文件数据存储接口 (multipart: `file` + JSON `meta`, optionally a detached CMS over the file)',
        description: `multipart/form-data with a part \`file\` (the file, at most ${opts.fileSizeLimit} bytes) and a part \`meta\` (application/json, see FileMeta). The request signature hashes the whole body as sent.`,
        security: signedApiSecurity,
        response: { 200: Type.Ref('Receipt'), 201: Type.Ref('Receipt'), ...pushErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (!Buffer.isBuffer(request.body))
        throw new YzError('REQUEST_MEDIA_TYPE_UNSUPPORTED', 'POST /files takes multipart/form-data');
      const parts = parseMultipart(request.body, boundaryOf(request.headers['content-type']));
      const file = parts.find((p) => p.name === 'file');
      if (file === undefined) throw new YzError('EVIDENCE_FILE_MISSING');
      if (file.data.length > opts.fileSizeLimit)
        throw new YzError('EVIDENCE_FILE_TOO_LARGE', `${file.data.length} > ${opts.fileSizeLimit} bytes`);
      const metaPart = parts.find((p) => p.name === 'meta');
      if (metaPart === undefined)
        throw new YzError('EVIDENCE_INPUT_INVALID', 'the multipart part `meta` is missing');
      let meta: unknown;
      try {
        meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(metaPart.data));
      } catch {
        throw new YzError('EVIDENCE_INPUT_INVALID', 'the `meta` part is not UTF-8 JSON');
      }
      if (!Value.Check(FileMeta, meta)) {
        const first = [...Value.Errors(FileMeta, meta)][0];
        throw new YzError(
          'REQUEST_VALIDATION',
          `meta${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`,
        );
      }
      const project = await getProject({
        ctx: { db: deps.db, now: () => deps.now(), actor: `app:${caller.appId}` },
        ref: caller.projectId,
      });
      return sendPush(
        reply,
        await service.pushFile({
          deps,
          caller,
          file: { content: file.data, name: file.filename, contentType: file.contentType },
          meta,
          storage: project.fileStorage,
          idempotencyKey: idempotencyKeyOf(request),
        }),
      );
    },
  );

  app.get(
    '/files/:id/content',
    {
      schema: {
        tags,
        summary: '文件数据下载接口 (the stored file, re-hashed on read)',
        security: signedApiSecurity,
        params: IdParams,
        response: { ...errors },
      },
    },
    async (request, reply) => {
      const f = await service.getFileContent({ deps, caller: callerOf(request), id: request.params.id });
      return reply
        .header('content-type', f.contentType ?? 'application/octet-stream')
        .header(
          'content-disposition',
          `attachment; filename*=UTF-8''${encodeURIComponent(f.name ?? request.params.id)}`,
        )
        .send(Buffer.from(f.content));
    },
  );

  // ------------------------------------------------------------------ query, detail, verify (all kinds)
  const collections: readonly [string, EvidenceKind, string][] = [
    ['signatures', 'signature', '电子签名数据'],
    ['digests', 'digest', '摘要数据'],
    ['files', 'file', '电子文件'],
  ];
  for (const [path, kind, label] of collections) {
    app.get(
      `/${path}`,
      {
        schema: {
          tags,
          summary: `${label}查询接口 (by id, application, serial number, patient, time; cursor pagination, newest first)`,
          security: signedApiSecurity,
          querystring: ListQuery,
          response: { 200: EvidencePage, ...errors },
        },
      },
      (request) => service.listEvidence({ deps, caller: callerOf(request), kind, query: request.query }),
    );
    app.get(
      `/${path}/:id`,
      {
        schema: {
          tags,
          summary: `${label}详情 (with the stored signature, certificates, timestamp token and original)`,
          security: signedApiSecurity,
          params: IdParams,
          response: { 200: EvidenceDetail, ...errors },
        },
      },
      (request) => service.getEvidence({ deps, caller: callerOf(request), kind, id: request.params.id }),
    );
    app.post(
      `/${path}/:id/verify`,
      {
        schema: {
          tags,
          summary: `${label}验签接口 (re-verify; report tampering: record ↔ hash ↔ log leaf ↔ inclusion proof ↔ signed checkpoint)`,
          security: signedApiSecurity,
          params: IdParams,
          response: { 200: VerifyReport, ...errors },
        },
      },
      (request) => service.verifyEvidence({ deps, caller: callerOf(request), kind, id: request.params.id }),
    );
  }

  app.get(
    '/receipts/key',
    {
      schema: {
        tags,
        summary: 'The platform SM2 public key that signs receipts',
        security: signedApiSecurity,
        response: { 200: ReceiptKey, ...signedApiErrors },
      },
    },
    () => service.receiptKey(deps),
  );
  return Promise.resolve();
};
