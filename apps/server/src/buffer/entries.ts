/**
 * What the buffer keeps in Redis: one stream entry per API-log entry (field `e`, the JSON of the row's columns)
 * and one per committed evidence batch or API-call batch for statistics (field `s`, a JSON array of events).
 * Parsing is strict: an entry that does not have the expected shape is set aside, never written half.
 */
import type { ApiLogEntry } from '../audit/hash-chain.js';

const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const isStrOrNull = (v: unknown, max: number): v is string | null => v === null || isStr(v, max);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isTime = (v: unknown): v is string => isStr(v, 32) && Number.isFinite(Date.parse(v));

export function parseApiLogEntry(text: string): ApiLogEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (
    !isTime(o.at) ||
    !isStr(o.request_id, 64) ||
    !isStrOrNull(o.app_id, 64) ||
    !isStrOrNull(o.project_id, 64) ||
    !isStr(o.method, 16) ||
    !isStr(o.path, 4096) ||
    !isStr(o.params, 1 << 20) ||
    !isStr(o.headers, 1 << 20) ||
    !isInt(o.status) ||
    !isStr(o.response, 1 << 20) ||
    !isInt(o.duration_ms) ||
    !isStrOrNull(o.error_code, 64)
  )
    return undefined;
  // Exactly the columns, in a fixed order (the hash is over canonical JSON, so order does not matter to it).
  return {
    at: o.at,
    request_id: o.request_id,
    app_id: o.app_id,
    project_id: o.project_id,
    method: o.method,
    path: o.path,
    params: o.params,
    headers: o.headers,
    status: o.status,
    response: o.response,
    duration_ms: o.duration_ms,
    error_code: o.error_code,
  };
}

/** The value of one field of a stream entry (fields come as [name, value, name, value, …]). */
export function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
