import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../chain.js';
import { buildOcspRequest } from '../ocsp-request.js';
import { parseOcspResponse } from '../ocsp-response.js';
import { ocspRevocationSource } from '../ocsp-source.js';
import { verifyOcspResponse } from '../ocsp-verify.js';
import { gmSm2Provider } from '../sm2.js';
import { ocspResponse } from './ocsp-response.js';
import { TestPki } from './test-pki.js';

describe.each(['sm2', 'p256'] as const)('ocspResponse from a %s test CA', (kind) => {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const pki = new TestPki({ seed: `ocsp-${kind}`, kind, now });
  const root = pki.root();
  const ca = root.intermediate();
  const doctor = ca.leaf({ subject: { CN: '张医生' } });
  const nurse = ca.leaf({ subject: { CN: '李护士' } });
  ca.revoke(nurse, { reason: 'keyCompromise', at: new Date(now.getTime() - 3_600_000) });
  const responder = ca.ocspResponder();
  const policy = { sm2: gmSm2Provider };

  it('reports good and revoked (with reason) as the CA says, signed by the delegated responder', () => {
    const der = ocspResponse(ca, { certificates: [doctor, nurse], responder });
    const good = verifyOcspResponse({
      response: der,
      certificate: doctor.cert,
      issuer: ca.cert,
      at: now,
      policy,
    });
    expect(good.failures).toEqual([]);
    expect(good.status).toBe('good');
    expect(good.responder?.subject).toBe(responder.cert.subject);
    const revoked = verifyOcspResponse({
      response: der,
      certificate: nurse.cert,
      issuer: ca.cert,
      at: now,
      policy,
    });
    expect([revoked.status, revoked.reason]).toEqual(['revoked', 'keyCompromise']);
    // In chain validation through ocspRevocationSource.
    const source = ocspRevocationSource([der], { policy });
    const chain = (c: typeof doctor) =>
      verifyChain(c.cert, {
        trustAnchors: [root.cert],
        intermediates: [ca.cert],
        at: now,
        policy,
        revocation: { sources: [source], mode: 'prefer' },
      });
    expect(chain(doctor).failures).toEqual([]);
    expect(chain(nurse).failures.map((f) => f.code)).toEqual(['PKI_REVOKED']);
  });

  it('answers a request as asked (SHA-256 CertIDs, nonce echoed); a foreign CertID is unknown', () => {
    const other = new TestPki({ seed: 'other', kind, now }).root().leaf();
    const req = buildOcspRequest({
      entries: [
        { certificate: doctor.cert, issuer: ca.cert },
        { certificate: other.cert, issuer: root.cert },
      ],
      nonce: true,
      hash: 'sha256',
    });
    const der = ocspResponse(ca, { request: req.der, responderId: 'key' });
    const parsed = parseOcspResponse(der).basic!;
    expect(parsed.responses.map((r) => r.status)).toEqual(['good', 'unknown']);
    expect(parsed.responses[0]?.certId.hashAlgorithm).toBe('2.16.840.1.101.3.4.2.1');
    const r = verifyOcspResponse({
      response: der,
      certificate: doctor.cert,
      issuer: ca.cert,
      at: now,
      nonce: req.nonce!,
      policy,
    });
    expect(r.failures).toEqual([]);
    expect(r.responder?.subject).toBe(ca.cert.subject);
  });

  // The openssl cross-check runs on the P-256 PKI (openssl ocsp takes no SM2 ID for verification).
  if (kind === 'p256')
    it('openssl ocsp verifies a response to its own request', () => {
      const dir = mkdtempSync(join(tmpdir(), 'pki-toolkit-ocsp-'));
      const f = (n: string): string => join(dir, n);
      writeFileSync(f('root.pem'), root.pem);
      writeFileSync(f('ca.pem'), ca.pem);
      writeFileSync(f('doctor.pem'), doctor.pem);
      writeFileSync(f('nurse.pem'), nurse.pem);
      writeFileSync(f('ocsp.pem'), responder.pem);
      const openssl = (...args: string[]) => spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      expect(
        openssl('ocsp', '-issuer', 'ca.pem', '-cert', 'doctor.pem', '-cert', 'nurse.pem', '-reqout', 'q.der')
          .status,
      ).toBe(0);
      writeFileSync(
        f('r.der'),
        ocspResponse(ca, { request: new Uint8Array(readFileSync(f('q.der'))), responder }),
      );
      const v = openssl(
        'ocsp',
        '-respin',
        'r.der',
        '-reqin',
        'q.der',
        '-CAfile',
        'root.pem',
        '-verify_other',
        'ca.pem',
      );
      expect(v.stderr).toContain('Response verify OK');
      const s = openssl('ocsp', '-respin', 'r.der', '-issuer', 'ca.pem', '-cert', 'doctor.pem', '-cert', 'nurse.pem', '-no_nonce', '-CAfile', 'root.pem', '-verify_other', 'ca.pem'); // prettier-ignore
      expect(s.stdout).toContain('doctor.pem: good');
      expect(s.stdout).toContain('nurse.pem: revoked');
      expect(s.stdout).toContain('Reason: keyCompromise');
    });
});
