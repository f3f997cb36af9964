/** The admin API client: same-origin fetch, session cookie, CSRF header on state changes, problem+json errors. */
import { locale } from './i18n.js';

export const API = '/api/admin/v1';
const CSRF_KEY = 'yz-csrf';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
  ) {
    super(`${code}: ${title}`);
  }
}

export function setCsrf(token: string | null): void {
  if (token === null) sessionStorage.removeItem(CSRF_KEY);
  else sessionStorage.setItem(CSRF_KEY, token);
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'accept-language': locale.value };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = sessionStorage.getItem(CSRF_KEY) ?? '';
  const res = await fetch(`${API}${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) {
    const text = await res.text();
    let p: { code?: string; title?: string; detail?: string } = {};
    try {
      p = JSON.parse(text) as typeof p;
    } catch {
      // not problem+json
    }
    throw new ApiError(
      res.status,
      p.code ?? 'HTTP_' + String(res.status),
      p.title ?? res.statusText,
      p.detail ?? '',
    );
  }
  return res;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const text = await (await send(method, path, body)).text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** The file name of a content-disposition header (`filename="…"`), or the fallback. */
function fileNameOf(res: Response, fallback: string): string {
  const m = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  return m?.[1] ?? fallback;
}

/**
 * Fetches a file from the admin API (with the session and CSRF token) and saves it, or opens it in a new tab
 * (`view`, for PDFs the browser displays).
 */
export async function download(
  method: string,
  path: string,
  options: { body?: unknown; fallbackName?: string; view?: boolean } = {},
): Promise<void> {
  const res = await send(method, path, options.body);
  const url = URL.createObjectURL(await res.blob());
  if (options.view === true) {
    window.open(url, '_blank', 'noopener');
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return;
  }
  const a = document.createElement('a');
  a.href = url;
  a.download = fileNameOf(res, options.fallbackName ?? 'download');
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A keyset page of the admin API: `nextCursor` continues it, null on the last page. */
export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
}

export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export interface Me {
  user: {
    id: string;
    username: string;
    displayName: string;
    permissions: string[];
    roles: { name: string }[];
  };
  method: string;
}
