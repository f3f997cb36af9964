/**
 * The public verification page and its endpoints — no login, rate-limited per client address, problem+json
 * errors, GET only (nothing to upload: packages are verified in the browser):
 *
 *   GET /verify/, /verify/{id}                the page (apps/web verify.html); the QR link's code is in `#c=`
 *   GET /api/v1/public/log/checkpoint         the latest signed checkpoint, its RFC 3161 token, the platform chain
 *   GET /api/v1/public/log/consistency        ?from=&to= consistency proof between two tree sizes (hex)
 *   GET /api/v1/public/records/{id}           proof material of one record; needs its code (X-Yz-Verify-Code)
 */
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import { YzError } from '../../errors.js';
import { DEFAULT_CONSOLE_DIR } from '../admin/console-static.js';
import { CODE_PATTERN } from './code.js';
import { createLimiter } from './limiter.js';
import { publicCheckpoint, publicConsistency, publicRecordProof, type PublicDeps } from './service.js';

export interface PublicVerifyOptions {
  deps: PublicDeps;
  now: () => number;
  /** Requests a minute per client address (default 120). */
  perMinute?: number;
  /** The built web app (default apps/web/dist). */
  webDir?: string;
}

const problem = Type.Ref('Problem');
const treeNumber = Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$', maxLength: 16 });
const RecordId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', maxLength: 64 });
const HexList = Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), { maxItems: 64 });

const CheckpointReply = Type.Object({
  origin: Type.String(),
  hash: Type.Union([Type.Literal('sm3'), Type.Literal('sha256')]),
  size: Type.Integer({ minimum: 0 }),
  rootHash: Type.String({ description: 'hex' }),
  note: Type.String({ description: 'C2SP signed note (platform SM2 signature)' }),
  createdAt: Type.String(),
  timestampToken: Type.Optional(Type.String({ description: 'base64 RFC 3161 token over the note bytes' })),
  platformChain: Type.String({ description: 'PEM: the platform certificate, then the internal root' }),
});

const RecordReply = Type.Object({
  recordId: Type.String(),
  kind: Type.String(),
  evidenceHash: Type.String({ description: 'hex SM3 of the canonical record' }),
  recordIntact: Type.Boolean({ description: 'the stored record still hashes to its evidence hash' }),
  log: Type.Optional(
    Type.Object({
      hash: Type.Union([Type.Literal('sm3'), Type.Literal('sha256')]),
      origin: Type.String(),
      index: Type.Integer({ minimum: 0 }),
      treeSize: Type.Integer({ minimum: 1 }),
      proof: HexList,
      checkpoint: Type.String(),
      checkpointTimestamp: Type.Optional(Type.String()),
    }),
  ),
  platformChain: Type.String(),
});

export const publicVerifyRoutes: FastifyPluginAsyncTypebox<PublicVerifyOptions> = async (app, o) => {
  const limiter = createLimiter(o.perMinute ?? 120);
  app.addHook('onRequest', (request, _reply, done) => {
    done(limiter.take(request.ip, o.now()) ? undefined : new YzError('RATE_LIMITED', 'public verification'));
  });
  const webDir = o.webDir ?? DEFAULT_CONSOLE_DIR;
  const page = async (): Promise<string> => {
    try {
      return await readFile(`${webDir}/verify.html`, 'utf8');
    } catch {
      throw new YzError('NOT_FOUND', 'the verification page is not built (npm run build -w @yizheng/web)');
    }
  };
  const pageRoute = { schema: { hide: true } };
  app.get('/verify', pageRoute, (_req, reply) => reply.redirect('/verify/'));
  app.get('/verify/', pageRoute, async (_req, reply) =>
    reply
      .type('text/html')
      .header('cache-control', 'no-cache')
      .send(await page()),
  );
  app.get<{ Params: { id: string } }>('/verify/:id', pageRoute, async (_req, reply) =>
    reply
      .type('text/html')
      .header('cache-control', 'no-cache')
      .send(await page()),
  );

  const tags = ['public'];
  app.get(
    '/api/v1/public/log/checkpoint',
    {
      schema: {
        tags,
        summary: 'The latest signed checkpoint of the log, its timestamp and the platform chain (no login)',
        response: { 200: CheckpointReply, 429: problem, 503: problem },
      },
    },
    async () => publicCheckpoint(o.deps),
  );
  app.get(
    '/api/v1/public/log/consistency',
    {
      schema: {
        tags,
        summary: 'Consistency proof (hex) from tree size `from` to `to` (no login)',
        querystring: Type.Object({ from: treeNumber, to: treeNumber }, { additionalProperties: false }),
        response: {
          200: Type.Object({ from: Type.Integer(), to: Type.Integer(), proof: HexList }),
          400: problem,
          429: problem,
        },
      },
    },
    async (request) => publicConsistency(o.deps, request.query.from, request.query.to),
  );
  app.get(
    '/api/v1/public/records/:id',
    {
      schema: {
        tags,
        summary: "One record's proof material, for the holder of its verification code (no login)",
        params: Type.Object({ id: RecordId }),
        headers: Type.Object({ 'x-yz-verify-code': Type.String({ pattern: CODE_PATTERN }) }),
        response: { 200: RecordReply, 400: problem, 404: problem, 429: problem },
      },
    },
    async (request) => publicRecordProof(o.deps, request.params.id, request.headers['x-yz-verify-code']),
  );
  return Promise.resolve();
};
