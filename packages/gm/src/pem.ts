/** PEM armour (RFC 7468): strict labels, base64 body, one block. Browser-safe. */
import { GmError } from './errors.js';

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Decode(s: string): Uint8Array {
  if (s.length % 4 !== 0 || !B64.test(s)) throw new GmError('GM_INVALID_PEM', 'PEM body is not base64');
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function base64Encode(b: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function isPem(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text);
}

/** The first PEM block in `text`: its label and DER bytes. */
export function decodePem(text: string): { label: string; der: Uint8Array } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/.exec(text);
  if (!m) throw new GmError('GM_INVALID_PEM', 'no PEM block found');
  const [, label, body, endLabel] = m as unknown as [string, string, string, string];
  if (label !== endLabel)
    throw new GmError('GM_INVALID_PEM', `BEGIN ${label} does not match END ${endLabel}`);
  const lines = body.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.some((l) => l.includes(':'))) {
    throw new GmError('GM_INVALID_PEM', 'encrypted (RFC 1421 header) PEM is not supported; use PKCS#8');
  }
  return { label, der: base64Decode(lines.join('').trim()) };
}

export function encodePem(label: string, der: Uint8Array): string {
  const b64 = base64Encode(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export { base64Decode, base64Encode };
