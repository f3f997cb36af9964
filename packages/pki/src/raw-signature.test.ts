import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from './certificate.js';
import { verifyRawSignature } from './raw-signature.js';
import { opensslWorkdir } from './testing/openssl.js';

const w = opensslWorkdir('pki-raw');
const p = w.path;
const openssl = w.run;
const data = new TextEncoder().encode('病历 EMR 2026-001');
writeFileSync(p('data'), data);

describe.each([
  { name: 'rsa', key: ['-newkey', 'rsa:2048'], dgst: 'sha256' },
  { name: 'p256', key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], dgst: 'sha256' },
  { name: 'p384', key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], dgst: 'sha384' },
])('raw $name signature + certificate (openssl)', ({ name, key, dgst }) => {
  openssl(
    'req',
    '-x509',
    ...key,
    '-nodes',
    '-keyout',
    p(`${name}.key`),
    '-out',
    p(`${name}.pem`),
    '-subj',
    '/CN=医生甲',
    '-utf8',
    '-days',
    '30',
  );
  openssl('dgst', `-${dgst}`, '-sign', p(`${name}.key`), '-out', p(`${name}.sig`), p('data'));
  const certificate = readFileSync(p(`${name}.pem`), 'utf8');
  const b64 = readFileSync(p(`${name}.sig`)).toString('base64');

  it('verifies a base64 signature, and with the chain at signing time', () => {
    expect(verifyRawSignature({ certificate, data, signature: b64 })).toEqual({
      valid: true,
      failures: [],
      revocation: [],
    });
    const anchor = parseCertificate(certificate);
    const r = verifyRawSignature({
      certificate,
      data,
      signature: b64,
      chain: { trustAnchors: [anchor], at: new Date(anchor.notBefore.getTime() + 1000) },
    });
    expect(r.valid).toBe(true);
  });

  it('reports PKI_SIGNATURE_INVALID, PKI_CERT_EXPIRED and PKI_ASN1_INVALID with the check', () => {
    expect(
      verifyRawSignature({ certificate, data: data.subarray(1), signature: b64 }).failures,
    ).toMatchObject([{ code: 'PKI_SIGNATURE_INVALID', check: 'signature', certificate: 'CN=医生甲' }]);
    const anchor = parseCertificate(certificate);
    const late = verifyRawSignature({
      certificate,
      data,
      signature: b64,
      chain: { trustAnchors: [anchor], at: new Date(anchor.notAfter.getTime() + 1000) },
    });
    expect(late.failures.map((f) => f.code)).toContain('PKI_CERT_EXPIRED');
    expect(verifyRawSignature({ certificate, data, signature: '!!' }).failures[0]?.code).toBe(
      'PKI_ASN1_INVALID',
    );
    expect(
      verifyRawSignature({ certificate: new Uint8Array([0x30, 0x01]), data, signature: b64 }).failures[0]
        ?.code,
    ).toBe('PKI_ASN1_INVALID');
  });
});
