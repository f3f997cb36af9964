import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { verifyChain } from './chain.js';
import { isPkiError, type PkiErrorCode } from './errors.js';
import { buildOcspErrorResponse, buildOcspResponse } from './ocsp-builder.js';
import { buildOcspRequest, certIdMatches, certIdOf, parseOcspRequest } from './ocsp-request.js';
import { parseOcspResponse } from './ocsp-response.js';
import { ocspRevocationSource } from './ocsp-source.js';
import { verifyOcspResponse } from './ocsp-verify.js';
import { signerFromPrivateKey } from './signer.js';
import { gmSm2Provider } from './sm2.js';

const KEYS = {
  rsa: ['-newkey', 'rsa:2048'],
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
} as const;
type KeyName = keyof typeof KEYS;

const CNF = `[ca]
default_ca=d
[d]
dir=.
database=index.txt
serial=serial
new_certs_dir=new
certificate=ca.pem
private_key=ca.key
default_md=sha256
default_days=30
policy=p
utf8=yes
string_mask=utf8only
unique_subject=no
[p]
commonName=supplied
[req]
distinguished_name=dn
[dn]
[v3ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[v3ee]
basicConstraints=CA:FALSE
keyUsage=digitalSignature
[v3ocsp]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=OCSPSigning
[v3server]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
`;

/** An `openssl ca` with leaves a (good), b (revoked, keyCompromise), a delegated OCSP responder, a serverAuth cert. */
function opensslCa(key: KeyName) {
  const dir = mkdtempSync(join(tmpdir(), `pki-ocsp-${key}-`));
  const run = (...args: string[]): string =>
    execFileSync('openssl', args, { cwd: dir, encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'] });
  mkdirSync(join(dir, 'new'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'ca.cnf'), CNF);
  run(
    'req',
    '-x509',
    ...KEYS[key],
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    `/CN=在线状态测试CA ${key}`,
    '-utf8',
    '-days',
    '365',
    '-config',
    'ca.cnf',
    '-extensions',
    'v3ca',
  );
  const issue = (name: string, ext: string, extra: string[] = []): void => {
    run(
      'req',
      '-new',
      ...KEYS[key],
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
      '-config',
      'ca.cnf',
    );
    run(
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.pem`,
      '-extensions',
      ext,
      ...extra,
    );
  };
  issue('a', 'v3ee');
  issue('b', 'v3ee');
  issue('ocsp', 'v3ocsp');
  issue('server', 'v3server');
  issue('oldocsp', 'v3ocsp', ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']);
  run('ca', '-config', 'ca.cnf', '-revoke', 'b.pem', '-crl_reason', 'keyCompromise');
  // c: issued by the CA but not through `openssl ca`, so the responder does not know it.
  run(
    'req',
    '-new',
    ...KEYS[key],
    '-nodes',
    '-keyout',
    'c.key',
    '-out',
    'c.csr',
    '-subj',
    '/CN=c',
    '-config',
    'ca.cnf',
  );
  run(
    'x509',
    '-req',
    '-in',
    'c.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    '77',
    '-out',
    'c.pem',
    '-days',
    '30',
  );
  const cert = (n: string): ParsedCertificate =>
    parseCertificate(readFileSync(join(dir, `${n}.pem`), 'utf8'));
  return { dir, run, cert, file: (f: string): string => join(dir, f) };
}

const codes = (r: { failures: readonly { code: PkiErrorCode }[] }): PkiErrorCode[] =>
  r.failures.map((f) => f.code);
const DAY = 86_400_000;

describe.each(['rsa', 'p256'] as const)('OCSP with openssl (%s)', (key) => {
  const ca = opensslCa(key);
  const [root, a, b, c, ocsp] = ['ca', 'a', 'b', 'c', 'ocsp'].map(ca.cert) as [
    ParsedCertificate,
    ParsedCertificate,
    ParsedCertificate,
    ParsedCertificate,
    ParsedCertificate,
  ];
  let n = 0;
  /** openssl ocsp: request for `cert` (with a nonce unless told), answered from the index by `rsigner`. */
  function respond(cert: string, opts: { rsigner?: string; extra?: string[]; reqExtra?: string[] } = {}) {
    const req = `req${n}.der`;
    const resp = `resp${n++}.der`;
    ca.run('ocsp', '-issuer', 'ca.pem', '-cert', `${cert}.pem`, '-reqout', req, ...(opts.reqExtra ?? []));
    const signer = opts.rsigner ?? 'ocsp';
    ca.run(
      'ocsp',
      '-index',
      'index.txt',
      '-rsigner',
      `${signer}.pem`,
      '-rkey',
      `${signer}.key`,
      '-CA',
      'ca.pem',
      '-reqin',
      req,
      '-respout',
      resp,
      '-ndays',
      '1',
      ...(opts.extra ?? []),
    );
    return {
      req: new Uint8Array(readFileSync(ca.file(req))),
      resp: new Uint8Array(readFileSync(ca.file(resp))),
    };
  }
  const now = (): Date => new Date();

  it('parses openssl ocsp -reqout requests (CertID, nonce)', () => {
    const { req } = respond('a');
    const q = parseOcspRequest(req);
    expect(q.entries).toHaveLength(1);
    expect(certIdMatches(q.entries[0]!, a, root)).toBe(true);
    expect(certIdMatches(q.entries[0]!, b, root)).toBe(false);
    expect(q.nonce?.length).toBeGreaterThan(0);
    const text = ca.run('ocsp', '-reqin', `req${n - 1}.der`, '-req_text');
    expect(text.replace(/[\s:]/g, '').toLowerCase()).toContain(Buffer.from(q.nonce!).toString('hex'));
    ca.run(
      'ocsp',
      '-issuer',
      'ca.pem',
      '-sha256',
      '-cert',
      'a.pem',
      '-cert',
      'b.pem',
      '-no_nonce',
      '-reqout',
      'two.der',
    );
    const two = parseOcspRequest(readFileSync(ca.file('two.der')));
    expect(two.nonce).toBeUndefined();
    expect(two.entries.map((e) => e.hashAlgorithm)).toEqual([
      '2.16.840.1.101.3.4.2.1',
      '2.16.840.1.101.3.4.2.1',
    ]);
    expect(certIdMatches(two.entries[1]!, b, root)).toBe(true);
  });

  it('our requests are answered by openssl ocsp -index', () => {
    const built = buildOcspRequest({ entries: [{ certificate: a, issuer: root }], nonce: true });
    writeFileSync(ca.file('ours.req'), built.der);
    ca.run(
      'ocsp',
      '-index',
      'index.txt',
      '-rsigner',
      'ocsp.pem',
      '-rkey',
      'ocsp.key',
      '-CA',
      'ca.pem',
      '-reqin',
      'ours.req',
      '-respout',
      'ours.resp',
      '-ndays',
      '1',
    );
    const r = verifyOcspResponse({
      response: readFileSync(ca.file('ours.resp')),
      certificate: a,
      issuer: root,
      at: now(),
      nonce: built.nonce!,
    });
    expect(r.failures).toEqual([]);
    expect(r.status).toBe('good');
    expect(parseOcspRequest(built.der).nonce).toEqual(built.nonce);
  });

  it('openssl responses verify: good (delegated responder, nonce), revoked with reason, unknown', () => {
    const good = respond('a');
    const nonce = parseOcspRequest(good.req).nonce!;
    const r = verifyOcspResponse({ response: good.resp, certificate: a, issuer: root, at: now(), nonce });
    expect(r.failures).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.status).toBe('good');
    expect(r.responder?.subject).toBe('CN=ocsp');
    expect((r.nextUpdate?.getTime() ?? 0) - (r.thisUpdate?.getTime() ?? 0)).toBe(DAY);

    const revoked = respond('b');
    const rb = verifyOcspResponse({ response: revoked.resp, certificate: b, issuer: root, at: now() });
    expect(rb.failures).toEqual([]);
    expect(rb.status).toBe('revoked');
    expect(rb.reason).toBe('keyCompromise');
    expect(Math.abs((rb.revokedAt?.getTime() ?? 0) - Date.now())).toBeLessThan(10 * 60_000);

    const unknown = respond('c');
    const rc = verifyOcspResponse({ response: unknown.resp, certificate: c, issuer: root, at: now() });
    expect(rc.failures).toEqual([]);
    expect(rc.status).toBe('unknown');
  });

  it('the CA itself as responder, ResponderID byKey', () => {
    const { resp } = respond('a', { rsigner: 'ca', extra: ['-resp_key_id'] });
    expect('byKey' in (parseOcspResponse(resp).basic?.responderId ?? {})).toBe(true);
    const r = verifyOcspResponse({ response: resp, certificate: a, issuer: root, at: now() });
    expect(r.failures).toEqual([]);
    expect(r.responder?.subject).toBe(root.subject);
  });

  it('responder not authorised → PKI_OCSP_SIGNATURE_INVALID (no OCSPSigning EKU; not the issuer)', () => {
    const { resp } = respond('a', { rsigner: 'server' });
    const r = verifyOcspResponse({ response: resp, certificate: a, issuer: root, at: now() });
    expect(codes(r)).toEqual(['PKI_OCSP_SIGNATURE_INVALID']);
    expect(r.failures[0]?.check).toBe('responderExtKeyUsage');
    // Verified against another CA's certificate as issuer: CertID does not match, responder not issued by it.
    const other = opensslCa(key);
    const r2 = verifyOcspResponse({ response: resp, certificate: a, issuer: other.cert('ca'), at: now() });
    expect(codes(r2)).toEqual(['PKI_OCSP_SIGNATURE_INVALID', 'PKI_OCSP_CERT_ID_MISMATCH']);
    // No responder certificate included.
    const bare = respond('a', { extra: ['-resp_no_certs'] });
    expect(
      codes(verifyOcspResponse({ response: bare.resp, certificate: a, issuer: root, at: now() })),
    ).toEqual(['PKI_OCSP_SIGNATURE_INVALID']);
  });

  it('a tampered response → PKI_OCSP_SIGNATURE_INVALID', () => {
    const { resp } = respond('a');
    const parsed = parseOcspResponse(resp);
    const t = Uint8Array.from(resp);
    const at = Buffer.from(resp).indexOf(Buffer.from(parsed.basic!.tbs));
    // The last byte of tbsResponseData lies inside the nonce extension.
    const i = at + parsed.basic!.tbs.length - 1;
    t[i] = (t[i] ?? 0) ^ 1;
    const r = verifyOcspResponse({ response: t, certificate: a, issuer: root, at: now() });
    expect(codes(r)).toEqual(['PKI_OCSP_SIGNATURE_INVALID']);
    expect(r.failures[0]?.check).toBe('signature');
  });

  it('certID mismatch, window and nonce failures', () => {
    const { req, resp } = respond('a');
    expect(codes(verifyOcspResponse({ response: resp, certificate: b, issuer: root, at: now() }))).toEqual([
      'PKI_OCSP_CERT_ID_MISMATCH',
    ]);
    const later = new Date(Date.now() + 2 * DAY);
    expect(codes(verifyOcspResponse({ response: resp, certificate: a, issuer: root, at: later }))).toEqual([
      'PKI_OCSP_EXPIRED',
    ]);
    // A day before: the response is from later, and its responder's certificate did not exist yet.
    const earlier = new Date(Date.now() - DAY);
    expect(codes(verifyOcspResponse({ response: resp, certificate: a, issuer: root, at: earlier }))).toEqual([
      'PKI_CERT_NOT_YET_VALID',
      'PKI_OCSP_EXPIRED',
    ]);
    expect(
      verifyOcspResponse({ response: resp, certificate: a, issuer: root, at: earlier, acceptNewer: true })
        .failures,
    ).toEqual([]);
    const nonce = Uint8Array.from(parseOcspRequest(req).nonce!);
    nonce[0] = (nonce[0] ?? 0) ^ 0xff;
    expect(
      codes(verifyOcspResponse({ response: resp, certificate: a, issuer: root, at: now(), nonce })),
    ).toEqual(['PKI_OCSP_NONCE_MISMATCH']);
    const noNonce = respond('a', { reqExtra: ['-no_nonce'] });
    expect(
      codes(
        verifyOcspResponse({
          response: noNonce.resp,
          certificate: a,
          issuer: root,
          at: now(),
          nonce: Uint8Array.of(1),
        }),
      ),
    ).toEqual(['PKI_OCSP_NONCE_MISMATCH']);
  });

  it('a delegated responder certificate not valid at the time → PKI_CERT_EXPIRED', () => {
    const { resp } = respond('a', { rsigner: 'oldocsp' });
    const r = verifyOcspResponse({ response: resp, certificate: a, issuer: root, at: now() });
    expect(codes(r)).toEqual(['PKI_CERT_EXPIRED']);
  });

  it('unsuccessful responses → PKI_OCSP_STATUS; garbage → PKI_ASN1_INVALID', () => {
    for (const s of [
      'malformedRequest',
      'internalError',
      'tryLater',
      'sigRequired',
      'unauthorized',
    ] as const) {
      const der = buildOcspErrorResponse(s);
      expect(parseOcspResponse(der).statusName).toBe(s);
      expect(codes(verifyOcspResponse({ response: der, certificate: a, issuer: root, at: now() }))).toEqual([
        'PKI_OCSP_STATUS',
      ]);
    }
    writeFileSync(ca.file('trylater.der'), buildOcspErrorResponse('tryLater'));
    const tl = spawnSync('openssl', ['ocsp', '-respin', 'trylater.der', '-resp_text', '-noverify'], {
      cwd: ca.dir,
      encoding: 'utf8',
    });
    expect(tl.stdout + tl.stderr).toContain('Responder Error: trylater (3)');
    const { resp } = respond('a');
    expect(
      codes(verifyOcspResponse({ response: resp.subarray(0, 50), certificate: a, issuer: root, at: now() })),
    ).toEqual(['PKI_ASN1_INVALID']);
    let code: string = 'no error';
    try {
      parseOcspResponse(Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x00));
    } catch (e) {
      code = isPkiError(e) ? e.code : 'untyped';
    }
    expect(code).toBe('PKI_ASN1_INVALID');
  });

  it('our responses verify with openssl ocsp -respin -verify_other/-CAfile, and with ours', () => {
    const caSigner = signerFromPrivateKey(readFileSync(ca.file('ca.key'), 'utf8'));
    const ocspSigner = signerFromPrivateKey(readFileSync(ca.file('ocsp.key'), 'utf8'));
    const built = buildOcspRequest({ entries: [{ certificate: a, issuer: root }], nonce: true });
    writeFileSync(ca.file('q.der'), built.der);
    const t = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const cases = [
      { name: 'delegated', signer: ocspSigner, cert: ocsp, id: 'name' as const },
      { name: 'ca-bykey', signer: caSigner, cert: root, id: 'key' as const },
    ];
    for (const cs of cases) {
      const der = buildOcspResponse({
        signer: cs.signer,
        responderCertificate: cs.cert,
        responderId: cs.id,
        producedAt: t,
        nonce: parseOcspRequest(built.der).nonce!,
        responses: [
          {
            certificate: a,
            issuer: root,
            status: 'good',
            thisUpdate: t,
            nextUpdate: new Date(t.getTime() + DAY),
          },
          {
            certificate: b,
            issuer: root,
            status: 'revoked',
            revokedAt: new Date(t.getTime() - DAY),
            reason: 'cessationOfOperation',
            thisUpdate: t,
            nextUpdate: new Date(t.getTime() + DAY),
          },
          { certId: certIdOf(c, root, 'sha256'), status: 'unknown', thisUpdate: t },
        ],
      });
      writeFileSync(ca.file(`${cs.name}.der`), der);
      const opensslOcsp = (...args: string[]) =>
        spawnSync(
          'openssl',
          ['ocsp', '-respin', `${cs.name}.der`, '-CAfile', 'ca.pem', '-verify_other', 'ocsp.pem', ...args],
          {
            cwd: ca.dir,
            encoding: 'utf8',
          },
        );
      // Signature, responder and the nonce echoed against our request …
      const withNonce = opensslOcsp('-reqin', 'q.der');
      expect(withNonce.stderr).toContain('Response verify OK');
      expect(withNonce.status).toBe(0);
      // … and the statuses (-no_nonce: openssl would otherwise make a request of its own with a fresh nonce).
      const v = opensslOcsp('-issuer', 'ca.pem', '-cert', 'a.pem', '-cert', 'b.pem', '-no_nonce');
      expect(v.stderr).toContain('Response verify OK');
      expect(v.status).toBe(0);
      expect(v.stdout).toContain('a.pem: good');
      expect(v.stdout).toContain('b.pem: revoked');
      expect(ca.run('ocsp', '-respin', `${cs.name}.der`, '-resp_text', '-noverify')).toContain(
        'Revocation Reason: cessationOfOperation (0x5)',
      );
      const ra = verifyOcspResponse({
        response: der,
        certificate: a,
        issuer: root,
        at: new Date(),
        nonce: built.nonce!,
      });
      expect(ra.failures).toEqual([]);
      expect(ra.status).toBe('good');
      const rb = verifyOcspResponse({ response: der, certificate: b, issuer: root, at: new Date() });
      expect([rb.status, rb.reason]).toEqual(['revoked', 'cessationOfOperation']);
      const rc = verifyOcspResponse({ response: der, certificate: c, issuer: root, at: new Date() });
      expect(rc.failures).toEqual([]);
      expect(rc.status).toBe('unknown');
    }
  });
});

describe('ocspRevocationSource in chain validation', () => {
  const ca = opensslCa('p256');
  const [root, a, b, c, ocsp] = ['ca', 'a', 'b', 'c', 'ocsp'].map(ca.cert) as [
    ParsedCertificate,
    ParsedCertificate,
    ParsedCertificate,
    ParsedCertificate,
    ParsedCertificate,
  ];
  const answer = (name: string): Uint8Array => {
    ca.run('ocsp', '-issuer', 'ca.pem', '-cert', `${name}.pem`, '-reqout', `${name}.req`);
    ca.run('ocsp', '-index', 'index.txt', '-rsigner', 'ocsp.pem', '-rkey', 'ocsp.key', '-CA', 'ca.pem', '-reqin', `${name}.req`, '-respout', `${name}.resp`, '-ndays', '1'); // prettier-ignore
    return new Uint8Array(readFileSync(ca.file(`${name}.resp`)));
  };
  const source = ocspRevocationSource([answer('a'), answer('b'), answer('c')]);
  const validate = (cert: ParsedCertificate, sources = [source], at = new Date()) =>
    verifyChain(cert, { trustAnchors: [root], at, revocation: { sources, mode: 'require' } });

  it('good → valid; revoked → PKI_REVOKED with the reason; unknown → PKI_REVOCATION_UNKNOWN', () => {
    const ra = validate(a);
    expect(ra.failures).toEqual([]);
    expect(ra.revocation[0]?.status?.status).toBe('good');
    expect(ra.revocation[0]?.status?.source).toBe('ocsp');
    const rb = validate(b);
    expect(codes(rb)).toEqual(['PKI_REVOKED']);
    expect(rb.revocation[0]?.status?.reason).toBe('keyCompromise');
    expect(rb.revocation[0]?.explanation).toContain('keyCompromise');
    const rc = validate(c);
    expect(codes(rc)).toEqual(['PKI_REVOCATION_UNKNOWN']);
    expect(rc.revocation[0]?.explanation).toContain('does not know');
    // A certificate no response covers: the source has nothing to say.
    expect(source.status(ocsp, root, new Date())).toBeUndefined();
  });

  it('a response that does not verify gives no answer but its reasons', () => {
    const t = answer('a');
    const tampered = Uint8Array.from(t);
    const tbs = parseOcspResponse(t).basic!.tbs;
    const i = Buffer.from(t).indexOf(Buffer.from(tbs)) + tbs.length - 1;
    tampered[i] = (tampered[i] ?? 0) ^ 1;
    const s = ocspRevocationSource([tampered]).status(a, root, new Date());
    expect(s?.status).toBe('unknown');
    expect(s?.explanation).toContain('PKI_OCSP_SIGNATURE_INVALID');
    expect(codes(validate(a, [ocspRevocationSource([tampered])]))).toEqual(['PKI_REVOCATION_UNKNOWN']);
  });

  it('revoked after the validation time → good at that time; a later response covers an earlier time', () => {
    const signer = signerFromPrivateKey(readFileSync(ca.file('ocsp.key'), 'utf8'));
    const t = new Date(Math.floor(Date.now() / 1000) * 1000);
    const der = buildOcspResponse({
      signer,
      responderCertificate: ocsp,
      producedAt: t,
      responses: [
        {
          certificate: b,
          issuer: root,
          status: 'revoked',
          revokedAt: new Date(t.getTime() + 3_600_000),
          reason: 'superseded',
          thisUpdate: t,
          nextUpdate: new Date(t.getTime() + 2 * DAY),
        },
      ],
    });
    const s = ocspRevocationSource([der]);
    expect(s.status(b, root, new Date(t.getTime() + 60_000))?.status).toBe('good');
    const later = new Date(t.getTime() + 7_200_000);
    expect(s.status(b, root, later)).toMatchObject({
      status: 'revoked',
      reason: 'superseded',
      source: 'ocsp',
    });
    expect(codes(validate(b, [s], later))).toEqual(['PKI_REVOKED']);
    // Strictly (acceptNewer false), a response from after the validation time does not count.
    const strict = ocspRevocationSource([der], { acceptNewer: false });
    expect(strict.status(b, root, new Date(t.getTime() - 600_000))?.explanation).toContain(
      'PKI_OCSP_EXPIRED',
    );
  });

  it('rejects an unparseable response at construction with a typed error', () => {
    let code = 'no error';
    try {
      ocspRevocationSource([Uint8Array.of(0x30, 0x80)]);
    } catch (e) {
      code = isPkiError(e) ? e.code : 'untyped';
    }
    expect(code).toBe('PKI_ASN1_INVALID');
  });
});

describe('hostile input: single-byte mutations of openssl OCSP artefacts only ever yield typed results', () => {
  const ca = opensslCa('p256');
  const [root, a] = [ca.cert('ca'), ca.cert('a')];
  ca.run('ocsp', '-issuer', 'ca.pem', '-cert', 'a.pem', '-reqout', 'm.req');
  ca.run('ocsp', '-index', 'index.txt', '-rsigner', 'ocsp.pem', '-rkey', 'ocsp.key', '-CA', 'ca.pem', '-reqin', 'm.req', '-respout', 'm.resp', '-ndays', '1'); // prettier-ignore
  const req = new Uint8Array(readFileSync(ca.file('m.req')));
  const resp = new Uint8Array(readFileSync(ca.file('m.resp')));
  /** About 300 mutants: every `step`-th byte (offset varied) flipped in one or all bits. */
  const mutations = function* (bytes: Uint8Array): Generator<[number, Uint8Array]> {
    const step = Math.max(1, Math.ceil(bytes.length / 150));
    for (let i = 0; i < bytes.length; i += step) {
      for (const x of [0x01, 0xff]) {
        const at = Math.min(bytes.length - 1, i + (x === 0xff ? Math.floor(step / 2) : 0));
        const m = Uint8Array.from(bytes);
        m[at] = (m[at] ?? 0) ^ x;
        yield [at, m];
      }
    }
  };

  it('verifyOcspResponse never throws; no mutation of the signed data verifies', () => {
    const tbs = parseOcspResponse(resp).basic!.tbs;
    const start = Buffer.from(resp).indexOf(Buffer.from(tbs));
    let checked = 0;
    for (const [pos, m] of mutations(resp)) {
      const r = verifyOcspResponse({ response: m, certificate: a, issuer: root, at: new Date() });
      for (const f of r.failures) expect(f.code).toMatch(/^PKI_/);
      if (pos >= start && pos < start + tbs.length) {
        checked++;
        expect(r.valid).toBe(false);
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('parseOcspRequest / parseOcspResponse throw only PkiErrors', () => {
    for (const [bytes, parse] of [
      [req, parseOcspRequest],
      [resp, parseOcspResponse],
    ] as const) {
      for (const [, m] of mutations(bytes)) {
        try {
          parse(m);
        } catch (e) {
          expect(isPkiError(e)).toBe(true);
        }
      }
    }
  });
});

describe('OCSP with SM2 (SM3withSM2 responder, openssl ca certificates)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pki-ocsp-sm2-'));
  const run = (...args: string[]): string =>
    execFileSync('openssl', args, { cwd: dir, encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'] });
  mkdirSync(join(dir, 'new'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '5000\n');
  writeFileSync(join(dir, 'ca.cnf'), CNF);
  const sig = ['-md', 'sm3', '-sigopt', 'distid:1234567812345678', '-vfyopt', 'distid:1234567812345678'];
  const make = (name: string, ext: string): ParsedCertificate => {
    run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', `${name}.key`);
    run('req', '-new', '-key', `${name}.key`, '-sm3', '-sigopt', 'distid:1234567812345678', '-subj', `/CN=${name}`, '-config', 'ca.cnf', '-out', `${name}.csr`); // prettier-ignore
    const self =
      name === 'ca' ? ['-selfsign', '-keyfile', 'ca.key'] : ['-keyfile', 'ca.key', '-cert', 'ca.pem'];
    run('ca', '-batch', '-config', 'ca.cnf', ...self, '-in', `${name}.csr`, '-out', `${name}.pem`, '-extensions', ext, ...sig); // prettier-ignore
    return parseCertificate(readFileSync(join(dir, `${name}.pem`), 'utf8'));
  };
  const root = make('ca', 'v3ca');
  const leaf = make('leaf', 'v3ee');
  const responder = make('responder', 'v3ocsp');
  const policy = { sm2: gmSm2Provider };
  const signer = signerFromPrivateKey(readFileSync(join(dir, 'responder.key'), 'utf8'));

  it('a delegated SM2 responder: good with nonce verifies; SM2 needs the provider', () => {
    const t = new Date(Math.floor(Date.now() / 1000) * 1000);
    const nonce = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const der = buildOcspResponse({
      signer,
      responderCertificate: responder,
      producedAt: t,
      nonce,
      responses: [
        {
          certificate: leaf,
          issuer: root,
          hash: 'sm3',
          status: 'good',
          thisUpdate: t,
          nextUpdate: new Date(t.getTime() + DAY),
        },
      ],
    });
    expect(parseOcspResponse(der).basic?.signatureAlgorithm).toBe('1.2.156.10197.1.501');
    const r = verifyOcspResponse({
      response: der,
      certificate: leaf,
      issuer: root,
      at: new Date(),
      nonce,
      policy,
    });
    expect(r.failures).toEqual([]);
    expect(r.status).toBe('good');
    // Without an SM2 provider (node's crypto would hash with an empty ID), SM2 is unsupported, not "valid".
    expect(
      codes(verifyOcspResponse({ response: der, certificate: leaf, issuer: root, at: new Date() })),
    ).toEqual(['PKI_UNSUPPORTED_ALGORITHM']);
    // openssl parses our SM2 response.
    writeFileSync(join(dir, 'sm2.der'), der);
    expect(run('ocsp', '-respin', 'sm2.der', '-resp_text', '-noverify')).toContain('Cert Status: good');
  });
});
