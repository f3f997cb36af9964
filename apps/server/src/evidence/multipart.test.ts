import { describe, expect, it } from 'vitest';
import { isYzError } from '../errors.js';
import { boundaryOf, parseMultipart } from './multipart.js';

const crlf = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isYzError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('multipart/form-data reader', () => {
  it('reads named parts with filenames, content types and binary data as sent', () => {
    const body = Buffer.concat([
      crlf(
        '--XyZ\nContent-Disposition: form-data; name="meta"\nContent-Type: application/json\n\n{"a":1}\n--XyZ\n',
      ),
      crlf(
        'Content-Disposition: form-data; name="file"; filename="出院 小结.pdf"\nContent-Type: application/pdf\n\n',
      ),
      Buffer.from([0, 13, 10, 45, 45, 255]),
      crlf('\n--XyZ--\n'),
    ]);
    const parts = parseMultipart(body, boundaryOf('multipart/form-data; boundary=XyZ'));
    expect(parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
      ['meta', undefined, 'application/json'],
      ['file', '出院 小结.pdf', 'application/pdf'],
    ]);
    expect(Buffer.from(parts[1]!.data)).toEqual(Buffer.from([0, 13, 10, 45, 45, 255]));
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe('a b');
  });

  it('refuses malformed input with EVIDENCE_INPUT_INVALID', () => {
    expect(codeOf(() => boundaryOf('multipart/form-data'))).toBe('EVIDENCE_INPUT_INVALID');
    const bad = [
      'no boundary at all',
      '--B\nContent-Disposition: form-data; name="x"\n\nunterminated',
      '--B\nContent-Type: text/plain\n\nx\n--B--\n',
      '--B\nContent-Disposition: attachment; name="x"\n\nx\n--B--\n',
      '--B\nno colon here\n\nx\n--B--\n',
      '--Bjunk',
    ];
    for (const b of bad) expect(codeOf(() => parseMultipart(crlf(b), 'B'))).toBe('EVIDENCE_INPUT_INVALID');
    const many = '--B\n' + 'Content-Disposition: form-data; name="p"\n\nx\n--B\n'.repeat(20) + '--';
    expect(codeOf(() => parseMultipart(crlf(many), 'B', 16))).toBe('EVIDENCE_INPUT_INVALID');
  });
});
