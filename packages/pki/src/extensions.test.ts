import { describe, expect, it } from 'vitest';
import { isPkiError } from './errors.js';
import { parseCertificate } from './certificate.js';
import { parseCrl } from './crl.js';
import { TestPki } from './testing/test-pki.js';

const pki = new TestPki({ seed: 'extensions-hostile', kind: 'p256' });
const root = pki.root({ policies: [{ oid: '1.2.156.1.1', cps: 'http://cps.test', userNotice: '医疗用途' }] });
const ca = root.intermediate({
  crlUrl: 'http://ca.test/x.crl',
  ocspUrl: 'http://ocsp.test',
  caIssuersUrl: 'http://ca.test/ca.cer',
});
const leaf = ca.leaf({
  extensions: {
    subjectAltName: [
      { dns: 'a.test' },
      { ip: '192.168.1.1' },
      { uri: 'http://a.test' },
      { directoryName: { CN: '目录名' } },
    ],
    extra: [{ oid: '1.2.3.4', critical: false, value: Uint8Array.of(0x0c, 0x02, 0x41, 0x42) }],
  },
});
ca.revoke(leaf, { reason: 'superseded' });
const crl = ca.crl();

function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isPkiError(e) ? 'typed' : `untyped ${String(e)}`;
  }
}

describe('extension decoding on hostile input', () => {
  it('reads the directoryName SAN and policies of the toolkit certificates', () => {
    expect(leaf.cert.subjectAltName?.at(-1)).toEqual({ type: 'directoryName', value: 'CN=目录名' });
    expect(root.cert.certificatePolicies).toEqual([
      { oid: '1.2.156.1.1', cps: 'http://cps.test', userNotice: '医疗用途' },
    ]);
    expect(leaf.cert.authorityInfoAccess).toEqual({
      ocsp: ['http://ocsp.test'],
      caIssuers: ['http://ca.test/ca.cer'],
    });
  });

  it('every single-byte change of a certificate with every extension, and of a CRL, gives a result or a PkiError', () => {
    const bad: string[] = [];
    for (const [name, der, parse, flips] of [
      ['leaf', leaf.der, parseCertificate, [0xff]],
      ['crl', crl, parseCrl, [0xff]],
    ] as const) {
      for (let i = 0; i < der.length; i++) {
        for (const flip of flips) {
          const m = Uint8Array.from(der);
          m[i] = (m[i] ?? 0) ^ flip;
          const r = outcome(() => parse(m));
          if (r.startsWith('untyped')) bad.push(`${name}[${i}]^${flip}: ${r}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
