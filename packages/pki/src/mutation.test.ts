import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from './certificate.js';
import { parseCrl } from './crl.js';
import { fromPem } from './der.js';
import { isPkiError } from './errors.js';
import { verifySignedData } from './signed-data.js';
import { opensslWorkdir } from './testing/openssl.js';

// Deterministic single-byte mutations of real openssl artefacts: every failure must be a typed PkiError.
const w = opensslWorkdir('pki-mut');
const p = w.path;
const openssl = w.run;
writeFileSync(p('data'), 'mutation');
openssl(
  'req',
  '-x509',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  p('k.pem'),
  '-out',
  p('c.pem'),
  '-subj',
  '/CN=变异/O=医证',
  '-utf8',
  '-days',
  '30',
);
openssl(
  'cms',
  '-sign',
  '-binary',
  '-nodetach',
  '-in',
  p('data'),
  '-signer',
  p('c.pem'),
  '-inkey',
  p('k.pem'),
  '-outform',
  'DER',
  '-out',
  p('s.der'),
);
const cert = fromPem(readFileSync(p('c.pem'), 'utf8'));
const cms = new Uint8Array(readFileSync(p('s.der')));

function* mutations(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i++) {
    for (const x of [0x01, 0x80, 0xff]) {
      const m = Uint8Array.from(bytes);
      m[i] = (m[i] ?? 0) ^ x;
      yield m;
    }
  }
  for (let n = 1; n < bytes.length; n += 7) yield bytes.subarray(0, n);
}

describe('mutated inputs only ever produce typed errors', () => {
  it('certificate', () => {
    for (const m of mutations(cert)) {
      try {
        parseCertificate(m);
      } catch (e) {
        if (!isPkiError(e)) throw e;
      }
    }
  });

  it('CMS SignedData (verifySignedData never throws)', () => {
    let invalid = 0;
    for (const m of mutations(cms)) {
      const r = verifySignedData(m);
      if (!r.valid) invalid++;
      for (const f of r.failures) expect(f.code).toMatch(/^PKI_/);
    }
    expect(invalid).toBeGreaterThan(0);
  });

  it('CRL parser on mutated certificate bytes', () => {
    for (const m of mutations(cert)) {
      try {
        parseCrl(m);
      } catch (e) {
        if (!isPkiError(e)) throw e;
      }
    }
  });
});

describe('hostile sizes reach every parser as typed errors, quickly', () => {
  const deep = new Uint8Array(20_000);
  for (let i = 0; i < 10_000; i++) deep.set([0x30, 0x80], 2 * i);
  const huge = new Uint8Array([0x30, 0x84, 0x04, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01]);

  it.each([
    ['certificate', (b: Uint8Array) => parseCertificate(b)],
    ['CRL', (b: Uint8Array) => parseCrl(b)],
    [
      'CMS',
      (b: Uint8Array) => {
        const r = verifySignedData(b);
        if (!r.valid) throw Object.assign(new Error(), { code: r.failures[0]?.code });
      },
    ],
  ])('%s: 10,000-deep nesting and a 64 MiB length field', (_name, parse) => {
    const t0 = performance.now();
    const code = (b: Uint8Array): unknown => {
      try {
        parse(b);
        return 'no error';
      } catch (e) {
        return (e as { code?: unknown }).code;
      }
    };
    expect(['PKI_DEPTH_LIMIT', 'PKI_ASN1_INVALID']).toContain(code(deep));
    expect(code(huge)).toBe('PKI_ASN1_INVALID');
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
