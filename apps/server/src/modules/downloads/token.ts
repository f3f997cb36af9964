/**
 * Expiring download links (seed §5.4, §5.8, §5.11): the link carries what it downloads and until when, bound by
 * HMAC-SM3 under a platform secret (sealed under the KEK); nothing is stored except, for one-time links, the SM3
 * of a used token. `base64url(payload JSON) . base64url(HMAC-SM3(secret, payload bytes))`; the payload holds a
 * random nonce, so links are not guessable.
 */
import { randomBytes } from 'node:crypto';
import { constantTimeEqual, hmacSm3 } from '@yizheng/gm';
import type { EvidenceKind } from '../../db/schema.js';

export type DownloadWhat = 'report' | 'package' | 'file';

export interface DownloadGrant {
  kind: EvidenceKind;
  id: string;
  projectId: string;
  appId: string;
  what: DownloadWhat;
  lang: 'zh-CN' | 'en-US';
  /** Unix ms. */
  expiresAt: number;
  oneTime: boolean;
  nonce: string;
}

const MAX_TOKEN = 2048;

export function issueToken(secret: Uint8Array, grant: Omit<DownloadGrant, 'nonce'>): string {
  const payload = Buffer.from(
    JSON.stringify({ ...grant, nonce: randomBytes(16).toString('base64url') }),
    'utf8',
  );
  return `${payload.toString('base64url')}.${Buffer.from(hmacSm3(secret, payload)).toString('base64url')}`;
}

export type TokenVerdict = { ok: true; grant: DownloadGrant } | { ok: false; reason: 'invalid' | 'expired' };

const WHAT: readonly string[] = ['report', 'package', 'file'];
const KINDS: readonly string[] = ['signature', 'digest', 'file'];

/**
 * The bytes of base64url text that is their canonical (unpadded) encoding, else undefined. Node's decoder also
 * takes other spellings of the same bytes (the unused low bits of the last character set, a length of 4k + 1),
 * so a used one-time link — refused by the SM3 of its text — would pass again under another spelling; only the
 * one spelling {@link issueToken} writes is taken.
 */
function canonicalBase64url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** Checks the MAC (constant time) and then the expiry; any altered byte or another spelling is `invalid`. */
export function checkToken(secret: Uint8Array, token: string, now: number): TokenVerdict {
  if (token.length > MAX_TOKEN || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token))
    return { ok: false, reason: 'invalid' };
  const [p, m] = token.split('.') as [string, string];
  const payload = canonicalBase64url(p);
  const macBytes = canonicalBase64url(m);
  if (payload === undefined || macBytes === undefined) return { ok: false, reason: 'invalid' };
  const mac = new Uint8Array(macBytes);
  if (!constantTimeEqual(mac, hmacSm3(secret, payload))) return { ok: false, reason: 'invalid' };
  let g: Partial<DownloadGrant>;
  try {
    g = JSON.parse(payload.toString('utf8')) as Partial<DownloadGrant>;
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (
    typeof g.id !== 'string' ||
    typeof g.projectId !== 'string' ||
    typeof g.appId !== 'string' ||
    typeof g.expiresAt !== 'number' ||
    typeof g.oneTime !== 'boolean' ||
    typeof g.nonce !== 'string' ||
    !KINDS.includes(g.kind ?? '') ||
    !WHAT.includes(g.what ?? '') ||
    (g.lang !== 'zh-CN' && g.lang !== 'en-US')
  )
    return { ok: false, reason: 'invalid' };
  if (now >= g.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, grant: g as DownloadGrant };
}
