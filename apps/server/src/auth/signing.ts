/**
 * The signed application API (issue 4), the pure part: header parsing and the string to sign.
 *
 *   X-Yz-App        application id (接入编号)
 *   X-Yz-Timestamp  Unix time in milliseconds
 *   X-Yz-Nonce      16–64 characters of [A-Za-z0-9_-], never reused
 *   X-Yz-Signature  base64 of the DER SM2 signature (user ID 1234567812345678) over the UTF-8 string
 *
 *   METHOD \n PATH \n CANONICAL_QUERY \n TIMESTAMP \n NONCE \n hex(SM3(body bytes))
 *
 * PATH is the path exactly as sent (percent-encoding untouched); CANONICAL_QUERY is the query's `name=value`
 * pairs exactly as sent, sorted by name then value (code-unit order) and joined with `&` (a pair sent without
 * `=` counts as `name=`; empty pairs are dropped); empty when there is no query. The body hash is over the bytes
 * as received (empty body → SM3 of the empty string).
 */
import { sm3, toHex } from '@yizheng/gm';
import { YzError } from '../errors.js';

export const SIGNATURE_USER_ID = '1234567812345678';
export const HEADER = {
  app: 'x-yz-app',
  timestamp: 'x-yz-timestamp',
  nonce: 'x-yz-nonce',
  signature: 'x-yz-signature',
} as const;

const NONCE_RE = /^[A-Za-z0-9_-]{16,64}$/;
const APP_RE = /^[A-Za-z0-9_-]{1,64}$/;
const TIMESTAMP_RE = /^\d{1,16}$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface SignedHeaders {
  appId: string;
  timestamp: number;
  /** The timestamp text exactly as sent (it is part of the signed string). */
  timestampText: string;
  nonce: string;
  signature: Uint8Array;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function single(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) return v.length === 1 ? v[0] : undefined;
  return v;
}

/** Parses the four headers: AUTH_HEADERS_MISSING if any is absent, AUTH_HEADER_INVALID if one is malformed. */
export function parseSignedHeaders(headers: Headers): SignedHeaders {
  const appId = single(headers, HEADER.app);
  const timestampText = single(headers, HEADER.timestamp);
  const nonce = single(headers, HEADER.nonce);
  const signature = single(headers, HEADER.signature);
  if (!appId || !timestampText || !nonce || !signature) {
    const missing = [
      ['X-Yz-App', appId],
      ['X-Yz-Timestamp', timestampText],
      ['X-Yz-Nonce', nonce],
      ['X-Yz-Signature', signature],
    ]
      .filter(([, v]) => v === undefined || v === '')
      .map(([k]) => k);
    throw new YzError('AUTH_HEADERS_MISSING', missing.join(', '));
  }
  if (!APP_RE.test(appId)) throw new YzError('AUTH_HEADER_INVALID', 'X-Yz-App');
  if (!TIMESTAMP_RE.test(timestampText))
    throw new YzError('AUTH_HEADER_INVALID', 'X-Yz-Timestamp must be Unix milliseconds');
  if (!NONCE_RE.test(nonce))
    throw new YzError('AUTH_HEADER_INVALID', 'X-Yz-Nonce must be 16–64 of [A-Za-z0-9_-]');
  if (signature.length > 256 || !BASE64_RE.test(signature))
    throw new YzError('AUTH_HEADER_INVALID', 'X-Yz-Signature must be base64');
  return {
    appId,
    timestamp: Number(timestampText),
    timestampText,
    nonce,
    signature: new Uint8Array(Buffer.from(signature, 'base64')),
  };
}

/** CANONICAL_QUERY from the raw query string (without `?`). */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      return i < 0 ? ([p, ''] as const) : ([p.slice(0, i), p.slice(i + 1)] as const);
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Splits a request URL as sent into PATH and the raw query. */
export function splitUrl(url: string): { path: string; rawQuery: string } {
  const i = url.indexOf('?');
  return i < 0 ? { path: url, rawQuery: '' } : { path: url.slice(0, i), rawQuery: url.slice(i + 1) };
}

/** The exact string a client signs. */
export function stringToSign(options: {
  method: string;
  /** The request URL as sent (path and query). */
  url: string;
  timestamp: string;
  nonce: string;
  body: Uint8Array;
}): string {
  const { path, rawQuery } = splitUrl(options.url);
  return [
    options.method.toUpperCase(),
    path,
    canonicalQuery(rawQuery),
    options.timestamp,
    options.nonce,
    toHex(sm3(options.body)),
  ].join('\n');
}
