import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from './certificate.js';
import { PkiError, isPkiError, type PkiErrorCode } from './errors.js';
import { parseOcspRequest } from './ocsp-request.js';
import { parseOcspResponse } from './ocsp-response.js';
import { verifyOcspResponse } from './ocsp-verify.js';
import { buildTimeStampReq, parseTimeStampReq } from './time-stamp-req.js';
import { buildTimeStampResp, parseTimeStampResp, parseTimeStampToken } from './time-stamp-resp.js';
import { verifyTimeStampToken } from './tsp-verify.js';
import { buildTstInfo, integerBytes, integerValue, parseTstInfo } from './tst-info.js';

const run = (cwd: string, ...args: string[]): string =>
  execFileSync('openssl', args, { cwd, encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'] });

const data = new TextEncoder().encode('出院小结：患者李四，2026-11-30 出院。');

const KEYS = {
  rsa: ['-newkey', 'rsa:2048'],
  p256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
} as const;
type KeyName = keyof typeof KEYS;

const EXT = `[req]
distinguished_name=dn
[dn]
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[tsa]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
`;

/** An openssl TSA: root CA, TSA certificate (critical timeStamping EKU), and an `openssl ts` config. */
function opensslTsa(key: KeyName) {
  const dir = mkdtempSync(join(tmpdir(), `pki-tsa-${key}-`));
  writeFileSync(join(dir, 'ext.cnf'), EXT);
  writeFileSync(join(dir, 'data'), data);
  run(
    dir,
    'req',
    '-x509',
    ...KEYS[key],
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    `/CN=时间戳根CA ${key}`,
    '-utf8',
    '-days',
    '3650',
    '-config',
    'ext.cnf',
    '-extensions',
    'ca',
  );
  run(
    dir,
    'req',
    '-new',
    ...KEYS[key],
    '-nodes',
    '-keyout',
    'tsa.key',
    '-out',
    'tsa.csr',
    '-subj',
    `/O=医证/CN=时间戳服务 ${key}`,
    '-utf8',
    '-config',
    'ext.cnf',
  );
  run(
    dir,
    'x509',
    '-req',
    '-in',
    'tsa.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    '4660',
    '-out',
    'tsa.pem',
    '-days',
    '365',
    '-extfile',
    'ext.cnf',
    '-extensions',
    'tsa',
  );
  writeFileSync(join(dir, 'serial'), '0100\n');
  writeFileSync(
    join(dir, 'ts.cnf'),
    `[tsa]
default_tsa=t
[t]
serial=${join(dir, 'serial')}
crypto_device=builtin
signer_cert=${join(dir, 'tsa.pem')}
certs=${join(dir, 'ca.pem')}
signer_key=${join(dir, 'tsa.key')}
signer_digest=sha256
default_policy=1.2.3.4.1
other_policies=1.2.3.4.5
digests=sha1,sha256,sha384,sha512
accuracy=secs:1,millisecs:500,microsecs:100
clock_precision_digits=3
ordering=yes
tsa_name=yes
ess_cert_id_chain=no
ess_cert_id_alg=${key === 'rsa' ? 'sha1' : 'sha256'}
`,
  );
  const file = (f: string): string => join(dir, f);
  return {
    dir,
    file,
    ca: parseCertificate(readFileSync(file('ca.pem'), 'utf8')),
    tsa: parseCertificate(readFileSync(file('tsa.pem'), 'utf8')),
  };
}

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

const codes = (r: { failures: readonly { code: PkiErrorCode }[] }): PkiErrorCode[] =>
  r.failures.map((f) => f.code);

function codeOf(f: () => unknown): PkiErrorCode | 'no error' | 'untyped' {
  try {
    f();
    return 'no error';
  } catch (e) {
    return isPkiError(e) ? e.code : 'untyped';
  }
}

describe('TSTInfo and INTEGER helpers', () => {
  it('round-trips integers, including sign octets', () => {
    for (const v of [0n, 1n, 127n, 128n, 255n, 256n, -1n, -128n, -129n, 2n ** 64n + 5n]) {
      expect(integerValue(integerBytes(v))).toBe(v);
    }
    expect([...integerBytes(128n)]).toEqual([0, 128]);
    expect([...integerBytes(-128n)]).toEqual([0x80]);
  });

  it('builds and parses a TSTInfo with accuracy, ordering, nonce and tsa name', () => {
    const tsaName = opensslTsaOnce().tsa.subjectDer;
    const der = buildTstInfo({
      policy: '1.2.156.1',
      hash: 'sm3',
      hashedMessage: new Uint8Array(32).fill(7),
      serialNumber: 2n ** 70n,
      genTime: new Date('2026-12-01T08:00:00.250Z'),
      accuracy: { millis: 5 },
      ordering: true,
      nonce: 42n,
      tsaName,
    });
    const t = parseTstInfo(der);
    expect(t.policy).toBe('1.2.156.1');
    expect(t.hashAlgorithm).toBe('1.2.156.10197.1.401');
    expect(t.serialNumber).toBe(2n ** 70n);
    expect(t.genTime.toISOString()).toBe('2026-12-01T08:00:00.250Z');
    expect(t.accuracy).toEqual({ seconds: 0, millis: 5, micros: 0 });
    expect(t.ordering).toBe(true);
    expect(t.nonce).toBe(42n);
    expect(t.tsa).toBe('CN=时间戳服务 rsa,O=医证');
    // DER: GeneralizedTime without trailing zeros, accuracy without a seconds field.
    expect(Buffer.from(der).includes(Buffer.from('20261201080000.25Z'))).toBe(true);
    expect(openssl_asn1parse(der)).toContain('GENERALIZEDTIME   :20261201080000.25Z');
  });

  it('refuses an out-of-range accuracy (PKI_INVALID_ARGUMENT)', () => {
    const base = {
      policy: '1.2.3',
      hash: 'sha256' as const,
      hashedMessage: sha256(data),
      serialNumber: 1n,
      genTime: new Date(),
    };
    expect(codeOf(() => buildTstInfo({ ...base, accuracy: { millis: 1000 } }))).toBe('PKI_INVALID_ARGUMENT');
    expect(codeOf(() => buildTstInfo({ ...base, accuracy: { seconds: -1 } }))).toBe('PKI_INVALID_ARGUMENT');
    expect(parseTstInfo(buildTstInfo({ ...base, accuracy: { micros: 999 } })).accuracy).toEqual({
      seconds: 0,
      millis: 0,
      micros: 999,
    });
  });

  it('rejects a non-DER TSTInfo with a typed error', () => {
    const der = buildTstInfo({
      policy: '1.2.3',
      hash: 'sha256',
      hashedMessage: sha256(data),
      serialNumber: 1n,
      genTime: new Date(),
    });
    const ber = Uint8Array.from([0x30, 0x81, der.length - 2, ...der.subarray(2)]);
    expect(codeOf(() => parseTstInfo(ber))).toBe('PKI_ASN1_INVALID');
  });
});

let onceTsa: ReturnType<typeof opensslTsa> | undefined;
function opensslTsaOnce(): ReturnType<typeof opensslTsa> {
  onceTsa ??= opensslTsa('rsa');
  return onceTsa;
}

function openssl_asn1parse(der: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'pki-asn1-'));
  writeFileSync(join(dir, 'x.der'), der);
  return run(dir, 'asn1parse', '-inform', 'DER', '-in', 'x.der');
}

describe('TimeStampReq', () => {
  it('parses openssl ts -query requests (sha256, sha512, nonce, policy, certReq)', () => {
    const { dir, file } = opensslTsaOnce();
    run(dir, 'ts', '-query', '-data', 'data', '-sha256', '-cert', '-tspolicy', '1.2.3.4.5', '-out', 'q1.tsq');
    const q = parseTimeStampReq(readFileSync(file('q1.tsq')));
    expect(q.hash).toBe('sha256');
    expect(Buffer.from(q.hashedMessage).equals(Buffer.from(sha256(data)))).toBe(true);
    expect(q.policy).toBe('1.2.3.4.5');
    expect(q.certReq).toBe(true);
    expect(q.nonce).toBeTypeOf('bigint');
    const text = run(dir, 'ts', '-query', '-in', 'q1.tsq', '-text');
    const nonceHex = /Nonce: (0x[0-9A-F]+)/i.exec(text)?.[1];
    expect(q.nonce).toBe(BigInt(nonceHex ?? '0'));

    run(dir, 'ts', '-query', '-data', 'data', '-sha512', '-no_nonce', '-out', 'q2.tsq');
    const q2 = parseTimeStampReq(readFileSync(file('q2.tsq')));
    expect(q2.hash).toBe('sha512');
    expect(q2.nonce).toBeUndefined();
    expect(q2.certReq).toBe(false);
    expect(q2.policy).toBeUndefined();
  });

  it('builds requests openssl reads back', () => {
    const { dir, file } = opensslTsaOnce();
    const req = buildTimeStampReq({
      data,
      hash: 'sha256',
      nonce: 0x1234567890abcdefn,
      policy: '1.2.156.777.1',
    });
    writeFileSync(file('ours.tsq'), req.der);
    const text = run(dir, 'ts', '-query', '-in', 'ours.tsq', '-text');
    expect(text).toContain('Policy OID: 1.2.156.777.1');
    expect(text).toContain('Nonce: 0x1234567890ABCDEF');
    expect(text).toContain('Certificate required: yes');
    // openssl answers our request, and checks its answer against it (imprint, nonce).
    const plain = buildTimeStampReq({ data, hash: 'sha256', nonce: 0xfedcba9876543210n });
    writeFileSync(file('ours2.tsq'), plain.der);
    run(dir, 'ts', '-reply', '-config', 'ts.cnf', '-queryfile', 'ours2.tsq', '-out', 'ours2.tsr');
    run(dir, 'ts', '-verify', '-queryfile', 'ours2.tsq', '-in', 'ours2.tsr', '-CAfile', 'ca.pem');
    run(dir, 'ts', '-verify', '-data', 'data', '-in', 'ours2.tsr', '-CAfile', 'ca.pem');
    const random = buildTimeStampReq({ digest: sha256(data), hash: 'sha256', nonce: true });
    expect(random.nonce).toBeTypeOf('bigint');
    expect(parseTimeStampReq(random.der).nonce).toBe(random.nonce);
    expect(codeOf(() => buildTimeStampReq({ digest: new Uint8Array(5), hash: 'sha256' }))).toBe(
      'PKI_INVALID_ARGUMENT',
    );
    expect(buildTimeStampReq({ data, hash: 'sm3' }).hashedMessage).toEqual(
      new Uint8Array(createHash('sm3').update(data).digest()),
    );
  });

  it('rejects malformed requests with typed errors', () => {
    expect(codeOf(() => parseTimeStampReq(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])))).toBe(
      'PKI_ASN1_INVALID',
    );
    expect(codeOf(() => parseTimeStampReq(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])))).toBe(
      'PKI_ASN1_INVALID',
    );
  });
});

describe.each(['rsa', 'p256'] as const)('openssl ts -reply (%s) verified by ours', (key) => {
  const tsa = opensslTsa(key);
  let n = 0;
  /** Query + reply with openssl; returns the response DER and the request's nonce. */
  function reply(
    queryArgs: string[],
    replyArgs: string[] = [],
  ): { resp: Uint8Array; nonce: bigint | undefined } {
    const q = `q${n}.tsq`;
    const r = `r${n++}.tsr`;
    run(tsa.dir, 'ts', '-query', '-data', 'data', '-cert', ...queryArgs, '-out', q);
    run(tsa.dir, 'ts', '-reply', '-config', 'ts.cnf', '-queryfile', q, '-out', r, ...replyArgs);
    return {
      resp: new Uint8Array(readFileSync(tsa.file(r))),
      nonce: parseTimeStampReq(readFileSync(tsa.file(q))).nonce,
    };
  }

  it('a sha256 token verifies: imprint, nonce, signature, ESSCertID, EKU, chain at genTime', () => {
    const { resp, nonce } = reply(['-sha256']);
    run(tsa.dir, 'ts', '-verify', '-data', 'data', '-in', `r${n - 1}.tsr`, '-CAfile', 'ca.pem');
    const r = verifyTimeStampToken({
      token: resp,
      data,
      trustAnchors: [tsa.ca],
      nonce: nonce ?? 0n,
      requestPolicy: '1.2.3.4.1',
    });
    expect(r.failures).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.policy).toBe('1.2.3.4.1');
    const text = run(tsa.dir, 'ts', '-reply', '-in', `r${n - 1}.tsr`, '-text');
    expect(r.serialNumber).toBe(BigInt(/Serial number: (0x[0-9A-F]+)/i.exec(text)?.[1] ?? '-1'));
    expect(r.accuracy).toEqual({ seconds: 1, millis: 500, micros: 100 });
    expect(r.ordering).toBe(true);
    expect(r.tsa).toBe(`CN=时间戳服务 ${key},O=医证`);
    expect(r.tsaCertificate?.subject).toBe(tsa.tsa.subject);
    expect(r.chain?.map((c) => c.subject)).toEqual([tsa.tsa.subject, tsa.ca.subject]);
    expect(Math.abs((r.genTime?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  it('verifies by digest, as a bare token, and with sha384/sha512 imprints', () => {
    const { resp } = reply(['-sha384']);
    const token = parseTimeStampResp(resp).token;
    expect(token).toBeDefined();
    const digest = new Uint8Array(createHash('sha384').update(data).digest());
    expect(
      verifyTimeStampToken({ token: token ?? new Uint8Array(), digest, trustAnchors: [tsa.ca] }).failures,
    ).toEqual([]);
    const r512 = reply(['-sha512']);
    expect(verifyTimeStampToken({ token: r512.resp, data }).failures).toEqual([]);
  });

  it('a token without certificates verifies when the TSA certificate is supplied', () => {
    const { resp } = reply(['-sha256'].concat([]), []);
    // Make a certReq=false query: openssl then leaves the certificates out.
    run(tsa.dir, 'ts', '-query', '-data', 'data', '-sha256', '-out', 'nocert.tsq');
    run(tsa.dir, 'ts', '-reply', '-config', 'ts.cnf', '-queryfile', 'nocert.tsq', '-out', 'nocert.tsr');
    const bare = new Uint8Array(readFileSync(tsa.file('nocert.tsr')));
    expect(parseTimeStampToken(bare).signedData.certificates).toHaveLength(0);
    expect(codes(verifyTimeStampToken({ token: bare, data }))).toEqual(['PKI_CMS_NO_SIGNER_CERT']);
    const r = verifyTimeStampToken({ token: bare, data, intermediates: [tsa.tsa], trustAnchors: [tsa.ca] });
    expect(r.failures).toEqual([]);
    expect(resp.length).toBeGreaterThan(bare.length);
  });

  it('imprint mismatch → PKI_TSP_IMPRINT_MISMATCH', () => {
    const { resp } = reply(['-sha256']);
    const r = verifyTimeStampToken({ token: resp, data: new TextEncoder().encode('篡改后的病历') });
    expect(codes(r)).toEqual(['PKI_TSP_IMPRINT_MISMATCH']);
    expect(r.failures[0]?.check).toBe('imprint');
  });

  it('nonce mismatch → PKI_TSP_NONCE_MISMATCH', () => {
    const { resp, nonce } = reply(['-sha256']);
    expect(codes(verifyTimeStampToken({ token: resp, data, nonce: (nonce ?? 0n) + 1n }))).toEqual([
      'PKI_TSP_NONCE_MISMATCH',
    ]);
    const noNonce = reply(['-sha256', '-no_nonce']);
    expect(codes(verifyTimeStampToken({ token: noNonce.resp, data, nonce: 5n }))).toEqual([
      'PKI_TSP_NONCE_MISMATCH',
    ]);
  });

  it('policy: another accepted policy is reported; a differing one → PKI_TSP_POLICY_MISMATCH', () => {
    const { resp } = reply(['-sha256', '-tspolicy', '1.2.3.4.5']);
    expect(verifyTimeStampToken({ token: resp, data, requestPolicy: '1.2.3.4.5' }).policy).toBe('1.2.3.4.5');
    expect(codes(verifyTimeStampToken({ token: resp, data, requestPolicy: '1.2.3.4.1' }))).toEqual([
      'PKI_TSP_POLICY_MISMATCH',
    ]);
  });

  it('a SHA-1 imprint is rejected by default (PKI_TSP_HASH_WEAK), accepted when allowed', () => {
    const { resp } = reply(['-sha1']);
    expect(codes(verifyTimeStampToken({ token: resp, data }))).toEqual(['PKI_TSP_HASH_WEAK']);
    expect(verifyTimeStampToken({ token: resp, data, allowSha1: true }).failures).toEqual([]);
  });

  it('a rejection response → PKI_TSP_STATUS with the failure bits', () => {
    const { resp } = reply(['-sha256', '-tspolicy', '1.9.9.9']);
    const parsed = parseTimeStampResp(resp);
    expect(parsed.statusName).toBe('rejection');
    expect(parsed.failInfo).toEqual(['unacceptedPolicy']);
    expect(codeOf(() => parseTimeStampToken(resp))).toBe('PKI_TSP_STATUS');
    const r = verifyTimeStampToken({ token: resp, data });
    expect(codes(r)).toEqual(['PKI_TSP_STATUS']);
  });

  it('the chain is checked: another root (same name, other key) fails', () => {
    const { resp } = reply(['-sha256']);
    const other = opensslTsaOnce().ca;
    const r = verifyTimeStampToken({ token: resp, data, trustAnchors: [other] });
    expect(r.valid).toBe(false);
    expect(codes(r)).toEqual([key === 'rsa' ? 'PKI_CERT_SIGNATURE_INVALID' : 'PKI_UNTRUSTED_ROOT']);
  });

  it('a tampered TSTInfo → PKI_CMS_DIGEST_MISMATCH; garbage → typed parse failure', () => {
    const { resp } = reply(['-sha256']);
    const tampered = Uint8Array.from(resp);
    const tst = parseTimeStampToken(resp).tstInfo.der;
    const at = Buffer.from(resp).indexOf(Buffer.from(tst));
    // Flip a byte inside the hashedMessage (the last 32 bytes of the messageImprint).
    const imprintAt = Buffer.from(tst).indexOf(Buffer.from(sha256(data)));
    tampered[at + imprintAt] = (tampered[at + imprintAt] ?? 0) ^ 1;
    const r = verifyTimeStampToken({
      token: tampered,
      digest: parseTimeStampToken(tampered).tstInfo.hashedMessage,
    });
    expect(codes(r)).toContain('PKI_CMS_DIGEST_MISMATCH');
    expect(codes(verifyTimeStampToken({ token: resp.subarray(0, 100), data }))).toEqual(['PKI_ASN1_INVALID']);
  });
});

describe('TimeStampResp build/parse', () => {
  it('encodes PKIFailureInfo bits as openssl reads them', () => {
    const der = buildTimeStampResp({
      status: 'rejection',
      statusString: ['不支持的策略'],
      failInfo: ['badAlg', 'unacceptedPolicy', 'unacceptedExtension'],
    });
    const p = parseTimeStampResp(der);
    expect(p.statusName).toBe('rejection');
    expect(p.statusStrings).toEqual(['不支持的策略']);
    expect(p.failInfo).toEqual(['badAlg', 'unacceptedPolicy', 'unacceptedExtension']);
    const dir = mkdtempSync(join(tmpdir(), 'pki-tsr-'));
    writeFileSync(join(dir, 'r.tsr'), der);
    const text = run(dir, 'ts', '-reply', '-in', 'r.tsr', '-text');
    expect(text).toContain('Status: Rejected.');
    expect(text).toContain('unrecognized or unsupported algorithm identifier');
    expect(text).toContain('requested TSA policy is not supported');
    expect(text).toContain('requested extension is not supported');
  });
});

describe('hostile input: single-byte mutations of openssl TSP artefacts only ever yield typed results', () => {
  const tsa = opensslTsa('p256');
  run(tsa.dir, 'ts', '-query', '-data', 'data', '-sha256', '-cert', '-out', 'm.tsq');
  run(tsa.dir, 'ts', '-reply', '-config', 'ts.cnf', '-queryfile', 'm.tsq', '-out', 'm.tsr');
  const query = new Uint8Array(readFileSync(tsa.file('m.tsq')));
  const resp = new Uint8Array(readFileSync(tsa.file('m.tsr')));

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

  it('verifyTimeStampToken never throws; no mutation of TSTInfo, signed attributes, signature or TSA certificate verifies', () => {
    const token = parseTimeStampToken(resp);
    const signer = token.signedData.signers[0]!;
    const tsaCert = token.signedData.certificates.find((c) => c.subject === tsa.tsa.subject)!;
    const regions = [token.tstInfo.der, signer.signedAttrs!.subarray(1), signer.signature, tsaCert.der].map(
      (r) => {
        const start = Buffer.from(resp).indexOf(Buffer.from(r));
        expect(start).toBeGreaterThan(0);
        return [start, start + r.length] as const;
      },
    );
    let checked = 0;
    for (const [at, m] of mutations(resp)) {
      const r = verifyTimeStampToken({ token: m, data, trustAnchors: [tsa.ca] });
      for (const f of r.failures) expect(f.code).toMatch(/^PKI_/);
      if (regions.some(([s, e]) => at >= s && at < e)) {
        checked++;
        expect(r.valid).toBe(false);
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('parseTimeStampReq / parseTimeStampResp throw only PkiErrors', () => {
    for (const [bytes, parse] of [
      [query, parseTimeStampReq],
      [resp, parseTimeStampResp],
      [resp, parseTimeStampToken],
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

describe('hostile sizes reach the TSP and OCSP parsers as typed errors, quickly', () => {
  const deep = new Uint8Array(20_000);
  for (let i = 0; i < 10_000; i++) deep.set([0x30, 0x80], 2 * i);
  const huge = new Uint8Array([0x30, 0x84, 0x04, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01]);
  const viaResult = (r: { valid: boolean; failures: readonly { code: PkiErrorCode }[] }): void => {
    if (!r.valid) throw new PkiError(r.failures[0]?.code ?? 'PKI_INVALID_ARGUMENT', 'invalid');
  };
  it.each([
    ['TimeStampReq', (b: Uint8Array) => parseTimeStampReq(b)],
    ['TimeStampResp', (b: Uint8Array) => parseTimeStampResp(b)],
    ['TimeStampToken', (b: Uint8Array) => parseTimeStampToken(b)],
    ['TSTInfo', (b: Uint8Array) => parseTstInfo(b)],
    ['verifyTimeStampToken', (b: Uint8Array) => viaResult(verifyTimeStampToken({ token: b, data }))],
    ['OCSPRequest', (b: Uint8Array) => parseOcspRequest(b)],
    ['OCSPResponse', (b: Uint8Array) => parseOcspResponse(b)],
    [
      'verifyOcspResponse',
      (b: Uint8Array) => {
        const c = opensslTsaOnce();
        viaResult(verifyOcspResponse({ response: b, certificate: c.tsa, issuer: c.ca, at: new Date() }));
      },
    ],
  ])('%s: 10,000-deep nesting and a 64 MiB length field', (_name, parse) => {
    opensslTsaOnce();
    const t0 = performance.now();
    expect(['PKI_DEPTH_LIMIT', 'PKI_ASN1_INVALID']).toContain(codeOf(() => parse(deep)));
    expect(codeOf(() => parse(huge))).toBe('PKI_ASN1_INVALID');
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
