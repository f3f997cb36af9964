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

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'accept-language': locale.value };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = sessionStorage.getItem(CSRF_KEY) ?? '';
  const res = await fetch(`${API}${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) {
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
  return (text === '' ? undefined : JSON.parse(text)) as T;
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
