import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Certificate } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import {
  childrenOf,
  depthOf,
  fromPem,
  newHeader,
  parseDer,
  sameBytes,
  sameBytesAt,
  scanDer,
  toPem,
  walkValue,
  type DerLimits,
} from './der.js';
import { isPkiError, type PkiErrorCode } from './errors.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function codeOf(f: () => unknown): PkiErrorCode | 'no error' | 'untyped' {
  try {
    f();
    return 'no error';
  } catch (e) {
    return isPkiError(e) ? e.code : 'untyped';
  }
}

describe('scanDer', () => {
  it('accepts well-formed DER and locates the top element', () => {
    const t = scanDer(hex('30 06 02 01 01 01 01 ff'));
    expect(t).toMatchObject({ tagNumber: 16, constructed: true, start: 0, valueStart: 2, end: 8 });
  });

  it.each([
    ['truncated', '30 05 02 01 01'],
    ['trailing bytes', '02 01 01 00'],
    ['non-minimal length', '02 81 01 01'],
    ['leading-zero length', '02 82 00 01 01'],
    ['non-minimal INTEGER', '02 02 00 01'],
    ['non-minimal negative INTEGER', '02 02 ff 80'],
    ['BOOLEAN not 00/FF', '01 01 01'],
    ['indefinite length in DER', '30 80 02 01 01 00 00'],
    ['constructed OCTET STRING in DER', '24 03 04 01 00'],
    ['non-minimal OID arc', '06 03 2a 80 01'],
    ['truncated OID arc', '06 02 2a 81'],
    ['reserved length octet', '30 ff'],
    ['empty input', ''],
  ])('%s → PKI_ASN1_INVALID', (_name, input) => {
    expect(codeOf(() => scanDer(hex(input)))).toBe('PKI_ASN1_INVALID');
  });

  it('a 64 MiB length field in a small buffer fails at once', () => {
    const t0 = performance.now();
    expect(codeOf(() => scanDer(hex('30 84 04 00 00 00 02 01 01')))).toBe('PKI_ASN1_INVALID');
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('a 10,000-deep nested input is refused with PKI_DEPTH_LIMIT quickly', () => {
    // 10,000 nested SEQUENCEs with indefinite length: header 30 80, then 00 00 at each level.
    const depth = 10_000;
    const buf = new Uint8Array(depth * 4);
    for (let i = 0; i < depth; i++) {
      buf[2 * i] = 0x30;
      buf[2 * i + 1] = 0x80;
    }
    const t0 = performance.now();
    expect(codeOf(() => scanDer(buf, { mode: 'ber' }))).toBe('PKI_DEPTH_LIMIT');
    const spent = performance.now() - t0; // the scans are timed, not the building of the inputs
    // definite lengths too: 30 82 xx xx ... nested
    let inner = hex('05 00');
    for (let i = 0; i < depth; i++) {
      const n = inner.length;
      const head =
        n < 0x80
          ? [0x30, n]
          : n < 0x100
            ? [0x30, 0x81, n]
            : n < 0x10000
              ? [0x30, 0x82, n >> 8, n & 0xff]
              : [0x30, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
      const next = new Uint8Array(head.length + n);
      next.set(head);
      next.set(inner, head.length);
      inner = next;
    }
    const t1 = performance.now();
    expect(codeOf(() => scanDer(inner))).toBe('PKI_DEPTH_LIMIT');
    expect(spent + performance.now() - t1).toBeLessThan(1000);
  });

  it('enforces the size limit', () => {
    expect(codeOf(() => scanDer(hex('04 03 01 02 03'), { maxSize: 4 }))).toBe('PKI_SIZE_LIMIT');
  });

  it('accepts BER in ber mode and finds the end of indefinite lengths', () => {
    const t = scanDer(hex('30 80 24 80 04 01 aa 00 00 00 00'), { mode: 'ber' });
    expect(t.end).toBe(11);
    const kids = childrenOf(
      hex('30 80 24 80 04 01 aa 00 00 02 01 05 00 00'),
      scanDer(hex('30 80 24 80 04 01 aa 00 00 02 01 05 00 00'), { mode: 'ber' }),
    );
    expect(kids.map((k) => [k.tagByte, k.start, k.end])).toEqual([
      [0x24, 2, 9],
      [0x02, 9, 12],
    ]);
  });

  it('OID arcs ≥ 2^32 are structurally valid and parse without an untyped error', () => {
    // 1.2.4294967296 (2^32) and a 2^70 arc
    expect(() => scanDer(hex('06 06 2a 90 80 80 80 00'))).not.toThrow();
    expect(() => scanDer(hex('06 0b 2a 81 80 80 80 80 80 80 80 80 00'))).not.toThrow();
  });

  it('non-minimal DER inside a signature value (ECDSA-Sig-Value) is refused', () => {
    expect(codeOf(() => scanDer(hex('30 07 02 02 00 01 02 01 01')))).toBe('PKI_ASN1_INVALID');
  });
});

describe('walkValue, depthOf', () => {
  // SEQUENCE { SEQUENCE { SEQUENCE { INTEGER 1 } }, BOOLEAN TRUE }: the inner part spans bytes 2..9, depth 3.
  const outer = hex('30 0a 30 05 30 03 02 01 01 01 01 ff');
  const inner = { start: 2, end: 9, depth: 3 };
  const walkAt = (bytes: Uint8Array, offset: number, depth: number, limits: DerLimits = {}): number =>
    walkValue(bytes, offset, bytes.length, depth, limits, newHeader());

  it('measures nesting depth', () => {
    expect(depthOf(hex('02 01 01'))).toBe(1);
    expect(depthOf(outer)).toBe(4);
    expect(depthOf(outer.subarray(inner.start, inner.end))).toBe(inner.depth);
  });

  it('walks one value as scanDer walks it there: same end, same rules, the depth counted from where it stands', () => {
    expect(walkAt(outer, 0, 1)).toBe(outer.length);
    expect(walkAt(outer, inner.start, 2)).toBe(inner.end);
    // A non-minimal INTEGER inside: refused in DER mode, as by scanDer; accepted in BER mode.
    const nonMinimal = hex('30 0b 30 06 30 04 02 02 00 01 01 01 ff');
    expect(codeOf(() => scanDer(nonMinimal))).toBe('PKI_ASN1_INVALID');
    expect(codeOf(() => walkAt(nonMinimal, 2, 2))).toBe('PKI_ASN1_INVALID');
    expect(codeOf(() => walkAt(nonMinimal, 2, 2, { mode: 'ber' }))).toBe('no error');
    // The depth limit applies to the value's depth where it stands.
    expect(codeOf(() => walkAt(outer, inner.start, 2, { maxDepth: 4 }))).toBe('no error');
    expect(codeOf(() => walkAt(outer, inner.start, 3, { maxDepth: 4 }))).toBe('PKI_DEPTH_LIMIT');
    expect(codeOf(() => scanDer(outer, { maxDepth: 3 }))).toBe('PKI_DEPTH_LIMIT');
    // Bounded by `limit`: a length beyond it is refused.
    expect(codeOf(() => walkValue(outer, inner.start, inner.end - 1, 2, {}, newHeader()))).toBe(
      'PKI_ASN1_INVALID',
    );
  });
});

describe('parseDer and PEM', () => {
  it('parses an openssl-made certificate, PEM and DER alike, and refuses trailing garbage', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pki-der-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
        '-subj',
        '/CN=测试/O=医证',
        '-utf8',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    const pem = readFileSync(join(dir, 'c.pem'), 'utf8');
    const der = fromPem(pem, 'CERTIFICATE');
    const cert = parseDer(der, Certificate);
    expect(cert.tbsCertificate.version).toBe(2);
    expect(fromPem(toPem(der, 'CERTIFICATE'))).toEqual(der);
    const garbage = new Uint8Array(der.length + 3);
    garbage.set(der);
    expect(codeOf(() => parseDer(garbage, Certificate))).toBe('PKI_ASN1_INVALID');
    expect(codeOf(() => fromPem('-----BEGIN X-----\n@@@\n-----END X-----'))).toBe('PKI_ASN1_INVALID');
    expect(codeOf(() => fromPem(pem, 'CRL'))).toBe('PKI_ASN1_INVALID');
  });

  it('a structurally valid value of the wrong shape is PKI_ASN1_INVALID, not a TypeError', () => {
    expect(codeOf(() => parseDer(hex('30 03 02 01 01'), Certificate))).toBe('PKI_ASN1_INVALID');
  });
});

describe('sameBytes / sameBytesAt (a byte loop below 64 bytes, a ranged native compare from 64 on)', () => {
  const LENGTHS = [0, 1, 31, 63, 64, 65, 91, 200, 1000];
  const bytes = (n: number, seed: number): Uint8Array =>
    Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

  it.each(LENGTHS)(
    '%i bytes: equal when equal; a difference at the first, a middle or the last byte is seen',
    (n) => {
      const a = bytes(n, 7);
      expect(sameBytes(a, bytes(n, 7))).toBe(true);
      // In a larger array, at an odd offset, between other bytes.
      const host = new Uint8Array(n + 10).fill(0xee);
      host.set(a, 5);
      expect(sameBytesAt(a, host, 5, 5 + n)).toBe(true);
      for (const at of n === 0 ? [] : [0, n >> 1, n - 1]) {
        const b = bytes(n, 7);
        b[at] = (b[at] ?? 0) ^ 0x01;
        expect(sameBytes(a, b)).toBe(false);
        expect(sameBytes(b, a)).toBe(false);
        const h = Uint8Array.from(host);
        h[5 + at] = (h[5 + at] ?? 0) ^ 0x80;
        expect(sameBytesAt(a, h, 5, 5 + n)).toBe(false);
      }
    },
  );

  it('different lengths are never equal, whatever the prefix; a Buffer compares like a Uint8Array', () => {
    const a = bytes(100, 3);
    expect(sameBytes(a, a.subarray(0, 99))).toBe(false);
    expect(sameBytes(a.subarray(0, 64), a.subarray(0, 65))).toBe(false);
    expect(sameBytesAt(a, a, 0, 99)).toBe(false);
    expect(sameBytesAt(a.subarray(0, 64), a, 0, 65)).toBe(false);
    expect(sameBytes(Buffer.from(a), a)).toBe(true);
    expect(sameBytesAt(a.subarray(10, 90), Buffer.from(a), 10, 90)).toBe(true);
  });

  it('loads and compares where there is no Buffer (the browser verifier imports this before it installs one)', () => {
    const der = fileURLToPath(new URL('./der.ts', import.meta.url));
    const script = `delete globalThis.Buffer;
      const { sameBytes, sameBytesAt } = await import(${JSON.stringify(der)});
      const a = Uint8Array.from({ length: 100 }, (_, i) => i);
      const b = Uint8Array.from(a); b[99] = 0;
      console.log(JSON.stringify([sameBytes(a, Uint8Array.from(a)), sameBytes(a, b),
        sameBytesAt(a.subarray(10, 90), a, 10, 90), sameBytesAt(a.subarray(10, 90), a, 11, 91)]));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual([true, false, true, false]);
  });

  it('a range outside the array is never equal (and never throws), long or short', () => {
    for (const n of [10, 80]) {
      const a = bytes(n, 1);
      expect(sameBytesAt(a, a, 5, 5 + n)).toBe(false);
      expect(sameBytesAt(a, a, -5, n - 5)).toBe(false);
    }
  });
});
