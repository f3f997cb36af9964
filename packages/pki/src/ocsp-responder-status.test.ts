import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crlRevocationSource, verifyChain } from './chain.js';
import { ocspRevocationSource } from './ocsp-source.js';
import { verifyOcspResponse } from './ocsp-verify.js';
import { TestPki, ocspResponse, type TestCertificate } from './testing/index.js';

/**
 * A delegated OCSP responder's own status (RFC 6960 §4.2.2.2.1): id-pkix-ocsp-nocheck honoured; without it,
 * reported as not checked, or checked against `responderRevocation`. Responses from TestPki and from
 * `openssl ocsp` signing with the same responder certificates.
 */
const dir = mkdtempSync(join(tmpdir(), 'pki-ocsp-nocheck-'));
const p = (f: string): string => join(dir, f);
const HOUR = 3_600_000;
const pki = new TestPki({ seed: 'ocsp-responder-status', kind: 'p256' });
const ca = pki.root({ subject: { CN: 'OCSP委托根CA' } });
const doctor = ca.leaf({ subject: { CN: '医生丙' } });
const noCheck = ca.ocspResponder({ subject: { CN: '响应器带nocheck' } });
const plain = ca.ocspResponder({ subject: { CN: '响应器无nocheck' }, extensions: { ocspNoCheck: false } });
const plainRevoked = ca.ocspResponder({
  subject: { CN: '已吊销响应器' },
  extensions: { ocspNoCheck: false },
});
const noCheckRevoked = ca.ocspResponder({ subject: { CN: '已吊销nocheck响应器' } });
for (const r of [plainRevoked, noCheckRevoked])
  ca.revoke(r, { at: new Date(pki.now.getTime() - HOUR), reason: 'keyCompromise' });
const crl = crlRevocationSource([ca.crl()]);
const at = new Date(pki.now.getTime() + HOUR);
const verify = (responder: TestCertificate | undefined, extra: object = {}) =>
  verifyOcspResponse({
    response: ocspResponse(ca, { certificates: [doctor], ...(responder ? { responder } : {}) }),
    certificate: doctor.cert,
    issuer: ca.cert,
    at,
    ...extra,
  });
const codes = (r: { failures: readonly { code: string }[] }): string[] => r.failures.map((f) => f.code);

describe('delegated responder status', () => {
  it('the test responders are as meant: nocheck or not', () => {
    expect([noCheck, plain, noCheckRevoked].map((r) => r.cert.ocspNoCheck)).toEqual([true, false, true]);
  });

  it('signed by the issuer: nothing to check', () => {
    const r = verify(undefined, { responderRevocation: { sources: [], mode: 'require' } });
    expect(r.failures).toEqual([]);
    expect(r.responderStatus?.status).toBe('issuer');
  });

  it('id-pkix-ocsp-nocheck: not checked, even when revocation data would say revoked', () => {
    expect(verify(noCheck).responderStatus?.status).toBe('nocheck');
    const r = verify(noCheckRevoked, { responderRevocation: { sources: [crl], mode: 'require' } });
    expect(r.failures).toEqual([]);
    expect(r.responderStatus?.status).toBe('nocheck');
    expect(r.responderStatus?.explanation).toContain('id-pkix-ocsp-nocheck');
  });

  it('without nocheck and no responderRevocation: accepted, reported as not checked', () => {
    const r = verify(plain);
    expect(r.failures).toEqual([]);
    expect(r.responderStatus?.status).toBe('not-checked');
    expect(r.responderStatus?.explanation).toMatch(/lacks id-pkix-ocsp-nocheck .*not checked/);
  });

  it('without nocheck, checked against responderRevocation: good passes, revoked → PKI_REVOKED', () => {
    const good = verify(plain, { responderRevocation: { sources: [crl], mode: 'require' } });
    expect(good.failures).toEqual([]);
    expect(good.responderStatus).toMatchObject({ status: 'good', answer: { source: 'crl' } });
    const revoked = verify(plainRevoked, { responderRevocation: { sources: [crl], mode: 'prefer' } });
    expect(revoked.failures.map((f) => [f.code, f.check, f.certificate])).toEqual([
      ['PKI_REVOKED', 'responderRevocation', plainRevoked.cert.subject],
    ]);
    expect(revoked.responderStatus?.answer?.reason).toBe('keyCompromise');
  });

  it("without nocheck and no answer: 'require' → PKI_REVOCATION_UNKNOWN, 'prefer' passes as unknown", () => {
    const req = verify(plain, { responderRevocation: { sources: [], mode: 'require' } });
    expect(codes(req)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    const pref = verify(plain, { responderRevocation: { sources: [], mode: 'prefer' } });
    expect(pref.failures).toEqual([]);
    expect(pref.responderStatus?.status).toBe('unknown');
  });

  it('responses made by openssl ocsp with either responder certificate', () => {
    const openssl = (...args: string[]): void => {
      execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
    };
    writeFileSync(p('ca.pem'), ca.pem);
    writeFileSync(p('doctor.pem'), doctor.pem);
    const expiry = '391231000000Z';
    writeFileSync(p('index.txt'), `V\t${expiry}\t\t${doctor.cert.serialHex.toUpperCase()}\tunknown\t/CN=x\n`);
    openssl('ocsp', '-issuer', 'ca.pem', '-cert', 'doctor.pem', '-no_nonce', '-reqout', 'req.der');
    for (const [name, responder, expected] of [
      ['nocheck', noCheck, 'nocheck'],
      ['plain', plain, 'not-checked'],
    ] as const) {
      writeFileSync(p(`${name}.pem`), responder.pem);
      writeFileSync(p(`${name}.key`), responder.privateKeyPem);
      openssl('ocsp', '-index', 'index.txt', '-rsigner', `${name}.pem`, '-rkey', `${name}.key`, '-CA', 'ca.pem',
        '-reqin', 'req.der', '-respout', `${name}.der`); // prettier-ignore
      const r = verifyOcspResponse({
        response: new Uint8Array(readFileSync(p(`${name}.der`))),
        certificate: doctor.cert,
        issuer: ca.cert,
        at: new Date(),
      });
      expect(r.failures).toEqual([]);
      expect(r.status).toBe('good');
      expect(r.responder?.subject).toBe(responder.cert.subject);
      expect(r.responderStatus?.status).toBe(expected);
    }
    // With a current CRL for the responder, openssl's plain-responder response is checked and passes.
    const r = verifyOcspResponse({
      response: new Uint8Array(readFileSync(p('plain.der'))),
      certificate: doctor.cert,
      issuer: ca.cert,
      at: new Date(),
      responderRevocation: {
        sources: [crlRevocationSource([ca.crl({ thisUpdate: new Date(Date.now() - HOUR) })])],
        mode: 'require',
      },
    });
    expect(r.failures).toEqual([]);
    expect(r.responderStatus?.status).toBe('good');
  });
});

describe('ocspRevocationSource passes responderRevocation', () => {
  const response = (responder: TestCertificate): Uint8Array =>
    ocspResponse(ca, { certificates: [doctor], responder });
  const chain = (source: ReturnType<typeof ocspRevocationSource>) =>
    verifyChain(doctor.cert, {
      trustAnchors: [ca.cert],
      at,
      revocation: { sources: [source], mode: 'require' },
    });

  it('a revoked delegated responder without nocheck: its response is rejected, the status unknown', () => {
    const checked = ocspRevocationSource([response(plainRevoked)], {
      responderRevocation: { sources: [crl], mode: 'require' },
    });
    const answer = checked.status(doctor.cert, ca.cert, at);
    expect(answer?.status).toBe('unknown');
    expect(answer?.explanation).toMatch(/PKI_REVOKED/);
    expect(chain(checked).failures.map((f) => f.code)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    // Unchecked (no responderRevocation), the same response is believed.
    const unchecked = ocspRevocationSource([response(plainRevoked)]);
    expect(unchecked.status(doctor.cert, ca.cert, at)?.status).toBe('good');
    expect(chain(unchecked).failures).toEqual([]);
  });

  it('a good delegated responder without nocheck passes the check; with nocheck it is not checked', () => {
    const responderRevocation = { sources: [crl], mode: 'require' } as const;
    const good = ocspRevocationSource([response(plain)], { responderRevocation });
    expect(good.status(doctor.cert, ca.cert, at)?.status).toBe('good');
    expect(chain(good).failures).toEqual([]);
    // nocheck: believed even though revocation data would call the responder revoked.
    const noCheckSource = ocspRevocationSource([response(noCheckRevoked)], { responderRevocation });
    expect(noCheckSource.status(doctor.cert, ca.cert, at)?.status).toBe('good');
    // Without any answer about the responder, 'require' rejects the response.
    const unknown = ocspRevocationSource([response(plain)], {
      responderRevocation: { sources: [], mode: 'require' },
    });
    expect(unknown.status(doctor.cert, ca.cert, at)?.explanation).toMatch(/PKI_REVOCATION_UNKNOWN/);
  });
});
