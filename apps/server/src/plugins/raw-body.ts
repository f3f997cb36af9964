/**
 * Content-type parsers that keep the body bytes exactly as received (`request.rawBody`): the signed application
 * API hashes them. JSON is parsed with Fastify's own safe parser (prototype poisoning refused); octet streams stay
 * Buffers. Any other content type is refused with 415 REQUEST_MEDIA_TYPE_UNSUPPORTED.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { YzError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body bytes as received; undefined when the request had no body. */
    rawBody: Buffer | undefined;
  }
}

function rawBodyPlugin(app: FastifyInstance): void {
  app.decorateRequest('rawBody', undefined);
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(
    /^application\/([a-z0-9.+-]+\+)?json$/i,
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      request.rawBody = body;
      if (body.length === 0) {
        done(new YzError('REQUEST_BODY_INVALID', 'empty JSON body'));
        return;
      }
      // Fastify's parser: secure-json-parse, protoAction/constructorAction 'error'.
      void jsonParser(request, body.toString('utf8'), (err, value) => {
        if (err !== null) done(new YzError('REQUEST_BODY_INVALID', err.message));
        else done(null, value);
      });
    },
  );
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: Buffer, done) => {
      request.rawBody = body;
      done(null, body);
    },
  );
}

export default fp(rawBodyPlugin, { name: 'yizheng-raw-body', fastify: '5.x' });
