/**
 * `POST /tsa` (and `/tsa/sm2|rsa|p256` to choose the key): RFC 3161 over HTTP (§3.4), outside the signed
 * /api/v1 scope. Whatever arrives — wrong content type, oversized or garbage body — the answer is a
 * `application/timestamp-reply` TimeStampResp (a rejection with its PKIFailureInfo), never a problem+json 500.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TsaAlgorithm } from '../../ca/internal-ca.js';
import { rejectionResp, type Tsa } from './service.js';

/** A TimeStampReq is a few hundred bytes; extensions included, 16 KiB is generous. */
export const TSA_BODY_LIMIT = 16 * 1024;
const QUERY = 'application/timestamp-query';
const REPLY = 'application/timestamp-reply';

function send(reply: FastifyReply, der: Uint8Array): FastifyReply {
  return reply
    .code(200)
    .header('content-type', REPLY)
    .header('cache-control', 'no-store')
    .send(Buffer.from(der));
}

export const tsaRoutes: FastifyPluginAsync<{ tsa: Tsa }> = (app: FastifyInstance, { tsa }) => {
  // Encapsulated: these parsers and this error handler apply to /tsa only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: TSA_BODY_LIMIT }, (_req, body, done) => {
    done(null, body);
  });
  app.setErrorHandler((error: { code?: string; statusCode?: number }, request, reply) => {
    request.log.info({ code: error.code }, 'TSA request refused before parsing');
    const text =
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `TimeStampReq larger than ${TSA_BODY_LIMIT} bytes`
        : 'unreadable TimeStampReq';
    return send(reply, rejectionResp('badRequest', text));
  });

  const handle = async (
    body: unknown,
    contentType: string | undefined,
    algorithm: TsaAlgorithm | undefined,
  ): Promise<Uint8Array> => {
    if ((contentType ?? '').split(';')[0]!.trim().toLowerCase() !== QUERY) {
      return rejectionResp('badRequest', `content type must be ${QUERY}`);
    }
    if (!(body instanceof Buffer) || body.length === 0)
      return rejectionResp('badDataFormat', 'empty TimeStampReq');
    return tsa.stamp(new Uint8Array(body), algorithm);
  };

  app.post('/tsa', { schema: { hide: true } }, async (request, reply) =>
    send(reply, await handle(request.body, request.headers['content-type'], undefined)),
  );
  app.post<{ Params: { algorithm: string } }>(
    '/tsa/:algorithm',
    { schema: { hide: true } },
    async (request, reply) => {
      const a = request.params.algorithm;
      if (a !== 'sm2' && a !== 'rsa' && a !== 'p256') {
        return send(reply, rejectionResp('unacceptedPolicy', `no TSA key ${a.slice(0, 16)}`));
      }
      return send(reply, await handle(request.body, request.headers['content-type'], a));
    },
  );
  return Promise.resolve();
};
