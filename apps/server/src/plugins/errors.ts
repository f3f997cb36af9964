/**
 * One error handler for the whole app: every error becomes `application/problem+json` (RFC 9457) with a stable
 * `code` from `src/errors.ts`, the title in the client's language (Accept-Language: zh-CN by default, or en-US)
 * and the request id as `instance`. Fastify's own request errors map to 4xx codes; a conflict with a concurrent
 * writer that the database resolved by aborting this request's statement (deadlock victim, lock wait timeout,
 * SQLite busy) is 503 DATABASE_BUSY with Retry-After; anything unexpected is a 500 whose internals are logged
 * with the request id and never sent.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isTransientConflict } from '../db/connect.js';
import { ERRORS, isErrorCode, negotiateLocale, YzError, type ErrorCode, type Locale } from '../errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  instance: string;
}

/** Fastify error codes for bad input → our stable codes. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST_MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_CTP_INVALID_TYPE: 'REQUEST_MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST_BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST_BODY_INVALID',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REQUEST_BODY_INVALID',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_INVALID',
  FST_ERR_CTP_EMPTY_TYPE: 'REQUEST_MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_VALIDATION: 'REQUEST_VALIDATION',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
  FST_ERR_BAD_URL: 'REQUEST_INVALID',
  FST_ERR_ASYNC_CONSTRAINT: 'REQUEST_INVALID',
};

function fallbackCode(status: number): ErrorCode {
  switch (status) {
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 413:
      return 'REQUEST_BODY_TOO_LARGE';
    case 415:
      return 'REQUEST_MEDIA_TYPE_UNSUPPORTED';
    case 429:
      return 'RATE_LIMITED';
    default:
      return 'REQUEST_INVALID';
  }
}

interface Classified {
  code: ErrorCode;
  status: number;
  detail: string | undefined;
  /** Unexpected: log at error level with the stack. */
  internal: boolean;
}

function classify(error: FastifyError | Error): Classified {
  if (error instanceof YzError)
    return { code: error.code, status: error.statusCode, detail: error.detail, internal: false };
  const fe = error as Partial<FastifyError> & Error;
  if (fe.validation !== undefined) {
    const where = fe.validationContext ?? 'body';
    const detail = fe.validation
      .slice(0, 5)
      .map((v) => `${where}${v.instancePath || ''} ${v.message ?? 'is invalid'}`)
      .join('; ');
    return { code: 'REQUEST_VALIDATION', status: 400, detail, internal: false };
  }
  const mapped = typeof fe.code === 'string' ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped !== undefined) {
    return {
      code: mapped,
      status: ERRORS[mapped].status,
      detail: mapped === 'REQUEST_BODY_INVALID' ? fe.message : undefined,
      internal: false,
    };
  }
  if (isTransientConflict(error))
    return { code: 'DATABASE_BUSY', status: 503, detail: undefined, internal: false };
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = typeof fe.code === 'string' && isErrorCode(fe.code) ? fe.code : fallbackCode(status);
    return { code, status, detail: undefined, internal: false };
  }
  return { code: 'INTERNAL', status: 500, detail: undefined, internal: true };
}

export function problemFor(
  request: FastifyRequest,
  code: ErrorCode,
  status: number,
  detail: string | undefined,
  lang: Locale,
): Problem {
  const title = ERRORS[code][lang];
  return {
    type: `urn:yizheng:error:${code}`,
    title,
    status,
    code,
    detail: detail ?? title,
    instance: request.id,
  };
}

/** Renders one problem+json response in the language the request asked for. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  status: number,
  detail?: string,
): FastifyReply {
  const lang = negotiateLocale(request.headers['accept-language']);
  return reply
    .code(status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .header('content-language', lang)
    .send(problemFor(request, code, status, detail, lang));
}

function errorsPlugin(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const c = classify(error);
    if (c.internal) {
      request.log.error({ err: error, reqId: request.id }, 'internal error');
    } else if (c.status >= 500) {
      request.log.error({ err: error, code: c.code }, 'request failed');
    } else {
      request.log.info({ code: c.code, status: c.status }, 'request rejected');
    }
    if (
      c.status === 429 &&
      'headers' in error &&
      typeof error.headers === 'object' &&
      error.headers !== null
    ) {
      void reply.headers(error.headers);
    }
    if (c.code === 'DATABASE_BUSY') void reply.header('retry-after', '1');
    return sendProblem(request, reply, c.code, c.status, c.detail);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 'NOT_FOUND', 404, `${request.method} ${request.url.split('?')[0] ?? ''}`),
  );
}

export default fp(errorsPlugin, { name: 'yizheng-errors', fastify: '5.x' });
