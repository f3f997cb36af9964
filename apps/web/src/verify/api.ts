/** The public endpoints (apps/server modules/public-verify): bounded reads, problem+json errors as Error. */
import type { PublicCheckpoint, PublicConsistency, PublicRecordProof } from '@yizheng/evidence/browser';

const MAX_REPLY = 1024 * 1024;

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const r = await fetch(url, { headers: { accept: 'application/json', ...headers } });
  const text = await r.text();
  if (text.length > MAX_REPLY) throw new Error(`${url}: reply too large`);
  if (!r.ok) {
    let p: { code?: string; title?: string; detail?: string } = {};
    try {
      p = JSON.parse(text) as typeof p;
    } catch {
      /* not problem+json */
    }
    throw new Error(`${p.code ?? r.status}: ${p.detail ?? p.title ?? r.statusText}`);
  }
  return JSON.parse(text) as T;
}

export const latestCheckpoint = (): Promise<PublicCheckpoint> =>
  getJson<PublicCheckpoint>('/api/v1/public/log/checkpoint');

export const consistency = (from: number, to: number): Promise<PublicConsistency> =>
  getJson<PublicConsistency>(`/api/v1/public/log/consistency?from=${from}&to=${to}`);

export const recordProof = (id: string, code: string): Promise<PublicRecordProof> =>
  getJson<PublicRecordProof>(`/api/v1/public/records/${encodeURIComponent(id)}`, {
    'x-yz-verify-code': code,
  });

/** The QR link: /verify/{id}#c={code}. */
export function linkTarget(loc: {
  pathname: string;
  hash: string;
}): { id: string; code: string | undefined } | undefined {
  const m = /^\/verify\/([A-Za-z0-9_-]{1,64})\/?$/.exec(loc.pathname);
  if (m === null) return undefined;
  const code = /(?:^#|&)c=([A-Za-z0-9_-]{22})(?:&|$)/.exec(loc.hash)?.[1];
  return { id: m[1]!, code };
}

/** The last certificate of a PEM chain (the root), as PEM. */
export function rootOf(chainPem: string): string | undefined {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks[blocks.length - 1];
}
