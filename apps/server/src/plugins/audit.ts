/**
 * API log (接口日志): one hash-chained `api_logs` entry per call in the scope it is registered on (the signed
 * `/api/v1` scope), with the query parameters, the request headers (signature redacted), status, the response
 * body (bounded) and duration. Switched by `apiLog` in the configuration (第三方日志开关). Written after the
 * response is sent, so logging never delays or fails a call; a failed write is logged as an error.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appendToChain, type ApiLogEntry } from '../audit/hash-chain.js';
import { isoTime } from '../context.js';
import { splitUrl } from '../auth/signing.js';
import { GroupCommitWriter } from '../evidence/group-commit.js';
import { apiCallEvents, recordStats } from '../stats/repo.js';
import { createApiLogChainWriter } from './api-log-writer.js';

export const MAX_LOGGED_RESPONSE = 4096;
const REDACTED_HEADERS = new Set(['x-yz-signature', 'authorization', 'cookie']);

declare module 'fastify' {
  interface FastifyRequest {
    loggedResponse: string | undefined;
  }
}

export function redactHeaders(headers: FastifyRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in headers) {
    if (!Object.hasOwn(headers, k)) continue;
    const v = headers[k];
    if (v === undefined) continue;
    out[k] = REDACTED_HEADERS.has(k) ? '[redacted]' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** The query parameters as logged: a JSON object (the last value of a repeated name). */
function paramsOf(rawQuery: string): string {
  return rawQuery === '' ? '{}' : JSON.stringify(Object.fromEntries(new URLSearchParams(rawQuery)));
}

export function registerApiLog(
  scope: FastifyInstance,
  options: {
    now(): number;
    /** The switch in the system configuration (console), read per call. */
    enabled?: () => Promise<boolean>;
    /** The Redis write buffer (src/buffer): entries go there, the flush job writes them to the database. */
    buffer?: { appendApiLog(entry: ApiLogEntry): Promise<void> } | undefined;
  },
): void {
  scope.decorateRequest('loggedResponse', undefined);
  scope.addHook('onSend', (request, _reply, payload, done) => {
    if (typeof payload === 'string') request.loggedResponse = payload.slice(0, MAX_LOGGED_RESPONSE);
    else if (Buffer.isBuffer(payload))
      request.loggedResponse = payload.subarray(0, MAX_LOGGED_RESPONSE).toString('utf8');
    done(null, payload);
  });
  // Statistics (统计) of the fallback, after its entry commits; a failure is logged, never retried (that would append
  // the entry twice).
  const countCalls = (entries: readonly ApiLogEntry[]): Promise<void> =>
    recordStats(scope.db, apiCallEvents(entries)).catch((e: unknown) => {
      scope.log.error({ err: e }, 'API call statistics write failed');
    });
  // One writer per process, by group commit: the entries of concurrent calls are appended in order, with their
  // API-call counts (统计), by ONE statement per batch on PostgreSQL (api-log-writer.ts: the head is kept, not read
  // and locked each time). A batch that fails (a lost race with another process beyond the writer's retries, say)
  // is written entry by entry the same way, and an entry that still fails is appended by appendToChain (head
  // locked and read, retried) with its count after it. Closing the scope waits for the queued entries.
  const writer = createApiLogChainWriter(scope.db);
  const chain = new GroupCommitWriter<ApiLogEntry, void>({
    name: 'API log',
    maxItems: 500,
    writeMany: async (entries) => {
      await writer.append(entries);
      return entries.map(() => undefined);
    },
    writeOne: async (entry) => {
      try {
        await writer.append([entry]);
      } catch (e) {
        scope.log.warn({ err: e }, 'API log group write failed: appending the entry alone');
        await appendToChain({ db: scope.db, table: 'api_logs', entry });
        await countCalls([entry]);
      }
    },
  });
  scope.addHook('onClose', () => chain.close());
  scope.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply) => writeEntry(request, reply));
  const writeEntry = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      if (options.enabled !== undefined && !(await options.enabled())) return;
      const { path, rawQuery } = splitUrl(request.raw.url ?? request.url);
      let errorCode: string | null = null;
      if (reply.statusCode >= 400 && request.loggedResponse !== undefined) {
        const m = /"code":"([A-Z0-9_]+)"/.exec(request.loggedResponse);
        errorCode = m?.[1] ?? null;
      }
      const entry: ApiLogEntry = {
        at: isoTime(options.now()),
        request_id: request.id,
        app_id: request.appAuth?.appId ?? null,
        project_id: request.appAuth?.projectId ?? null,
        method: request.method,
        path: path.slice(0, 2048),
        params: paramsOf(rawQuery),
        headers: JSON.stringify(redactHeaders(request.headers)),
        status: reply.statusCode,
        response: request.loggedResponse ?? '',
        duration_ms: Math.round(reply.elapsedTime),
        error_code: errorCode,
      };
      await (options.buffer ? options.buffer.appendApiLog(entry) : chain.submit(entry));
    } catch (e) {
      request.log.error({ err: e }, 'API log write failed');
    }
  };
}
