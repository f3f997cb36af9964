/** Signed-API routes of the Merkle log: checkpoints and proofs (the service is `src/log`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import { YzError } from '../../errors.js';
import {
  checkpointAt,
  latestCheckpoint,
  proveConsistency,
  proveInclusion,
  type LogCheckpoint,
} from '../../log/index.js';
import { checkpointStamp } from '../../log/stamper.js';
import { signedApiErrors, signedApiSecurity } from '../shared-schema.js';
import {
  CheckpointQuery,
  CheckpointSchema,
  ConsistencyProofSchema,
  ConsistencyQuery,
  InclusionProofSchema,
  InclusionQuery,
} from './schema.js';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const problem = Type.Ref('Problem');

export const logRoutes: FastifyPluginAsyncTypebox = (app) => {
  const publicKeyPem = app.platformKey.publicKey.toPem();
  const view = async (c: LogCheckpoint) => {
    const token = await checkpointStamp(app.db, c.size);
    return {
      origin: c.origin,
      hash: c.hash,
      size: c.size,
      rootHash: b64(c.rootHash),
      note: c.note,
      createdAt: c.createdAt,
      publicKey: publicKeyPem,
      ...(token === undefined ? {} : { timestampToken: b64(token) }),
    };
  };

  app.get(
    '/log/checkpoint',
    {
      schema: {
        tags: ['log'],
        summary: 'The latest signed checkpoint of the Merkle log, or the one at ?size=',
        security: signedApiSecurity,
        querystring: CheckpointQuery,
        response: { 200: CheckpointSchema, 400: problem, 404: problem, 503: problem, ...signedApiErrors },
      },
    },
    async (request) => {
      if (request.query.size !== undefined) return view(await checkpointAt(app.db, request.query.size));
      const c = await latestCheckpoint(app.db);
      if (c === undefined) throw new YzError('LOG_NOT_READY');
      return view(c);
    },
  );

  app.get(
    '/log/proofs/inclusion',
    {
      schema: {
        tags: ['log'],
        summary: 'Inclusion proof of a leaf in the tree of ?size= leaves (default: latest checkpoint)',
        security: signedApiSecurity,
        querystring: InclusionQuery,
        response: { 200: InclusionProofSchema, 400: problem, 503: problem, ...signedApiErrors },
      },
    },
    async (request) => {
      const p = await proveInclusion({
        db: app.db,
        index: request.query.index,
        treeSize: request.query.size,
      });
      return { index: p.index, treeSize: p.treeSize, leafHash: b64(p.leafHash), proof: p.proof.map(b64) };
    },
  );

  app.get(
    '/log/proofs/consistency',
    {
      schema: {
        tags: ['log'],
        summary: 'Consistency proof between two tree sizes',
        security: signedApiSecurity,
        querystring: ConsistencyQuery,
        response: { 200: ConsistencyProofSchema, 400: problem, ...signedApiErrors },
      },
    },
    async (request) => {
      const p = await proveConsistency({ db: app.db, from: request.query.from, to: request.query.to });
      return { from: p.from, to: p.to, proof: p.proof.map(b64) };
    },
  );
  return Promise.resolve();
};
