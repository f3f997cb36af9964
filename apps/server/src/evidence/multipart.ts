/**
 * A strict multipart/form-data reader (RFC 7578) over a body already held in memory. The signed application
 * API hashes the body bytes exactly as received, so `POST /api/v1/files` reads the whole body (bounded) with its
 * own content-type parser and splits it here rather than streaming it through a plugin.
 */
import { YzError } from '../errors.js';

export interface FormPart {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  data: Uint8Array;
}

/** The boundary parameter of a multipart/form-data content type (RFC 2046 §5.1.1: 1–70 characters). */
export function boundaryOf(contentType: string | undefined): string {
  const m = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '');
  const b = m?.[1] ?? m?.[2];
  if (b === undefined) throw new YzError('EVIDENCE_INPUT_INVALID', 'multipart/form-data without a boundary');
  return b;
}

function headerParam(header: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i');
  const quoted = re.exec(header)?.[1];
  if (quoted !== undefined) return quoted.replace(/\\(.)/g, '$1');
  return new RegExp(`(?:^|;)\\s*${name}=([^;\\s]+)`, 'i').exec(header)?.[1];
}

/** Splits the body into its parts; at most `maxParts`. Malformed input → EVIDENCE_INPUT_INVALID. */
export function parseMultipart(body: Buffer, boundary: string, maxParts = 16): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new YzError('EVIDENCE_INPUT_INVALID', 'multipart body without its boundary');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') return parts;
    if (body.subarray(pos, pos + 2).toString('latin1') !== '\r\n')
      throw new YzError('EVIDENCE_INPUT_INVALID', 'malformed multipart delimiter');
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headerEnd < 0 || headerEnd - pos > 8192)
      throw new YzError('EVIDENCE_INPUT_INVALID', 'malformed multipart part headers');
    const headers = body.subarray(pos, headerEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw new YzError('EVIDENCE_INPUT_INVALID', 'unterminated multipart part');
    let disposition: string | undefined;
    let contentType: string | undefined;
    for (const h of headers) {
      const i = h.indexOf(':');
      if (i < 0) throw new YzError('EVIDENCE_INPUT_INVALID', 'malformed multipart header');
      const key = h.slice(0, i).trim().toLowerCase();
      const value = h.slice(i + 1).trim();
      if (key === 'content-disposition') disposition = value;
      else if (key === 'content-type') contentType = value;
    }
    if (disposition === undefined || !/^form-data\b/i.test(disposition))
      throw new YzError('EVIDENCE_INPUT_INVALID', 'multipart part without Content-Disposition: form-data');
    const name = headerParam(disposition, 'name');
    if (name === undefined) throw new YzError('EVIDENCE_INPUT_INVALID', 'multipart part without a name');
    parts.push({
      name,
      filename: headerParam(disposition, 'filename'),
      contentType,
      data: new Uint8Array(body.subarray(headerEnd + 4, next)),
    });
    if (parts.length > maxParts)
      throw new YzError('EVIDENCE_INPUT_INVALID', `more than ${maxParts} multipart parts`);
    pos = next + 2;
  }
}
