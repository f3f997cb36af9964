import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageImprint, TimeStampReq, TimeStampReqVersion } from '@peculiar/asn1-tsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension, Extensions } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { checkValidity, parseCertificate, type ParsedCertificate } from './certificate.js';
import { PkiError, isPkiError, type PkiErrorCode } from './errors.js';
import { buildSignedData, signingCertificateV2Value } from './signed-data-builder.js';
import { signerFromPrivateKey, type Signer } from './signer.js';
import { gmSm2Provider } from './sm2.js';
import { buildTimeStampReq, parseTimeStampReq } from './time-stamp-req.js';
import { buildTimeStampResp, parseTimeStampResp, parseTimeStampToken } from './time-stamp-resp.js';
import { replyTimeStamp, type ReplyTimeStampOptions } from './tsp-reply.js';
import { verifyTimeStampToken } from './tsp-verify.js';
import { TSP_OID, buildTstInfo } from './tst-info.js';

const data = new TextEncoder().encode('检验报告：血常规，白细胞 6.2×10^9/L。');

const GEN = {
  rsa: { gen: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], sig: ['-md', 'sha256'] },
  p256: { gen: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], sig: ['-md', 'sha256'] },
  sm2: {
    gen: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'],
    sig: ['-md', 'sm3', '-sigopt', 'distid:1234567812345678', '-vfyopt', 'distid:1234567812345678'],
  },
} as const;
type KeyName = keyof typeof GEN;

const CNF = `[ca]
default_ca=d
[d]
dir=.
database=index.txt
serial=serial
new_certs_dir=new
certificate=ca.pem
private_key=ca.key
default_days=30
policy=p
utf8=yes
string_mask=utf8only
unique_subject=no
[p]
commonName=supplied
organizationName=optional
[req]
distinguished_name=dn
[dn]
[v3ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[tsa]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
[noncritical]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=timeStamping
[multi]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping,codeSigning
[noeku]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
`;

/**
 * An `openssl ca` TSA PKI: a root valid 2019–2040; TSA certificates (one key) — `tsa` valid now, `old` valid
 * only in 2020, and `noncritical` / `multi` / `noeku` with a wrong extendedKeyUsage.
 */
function tsaPki(key: KeyName) {
  const dir = mkdtempSync(join(tmpdir(), `pki-tsa-reply-${key}-`));
  const run = (...args: string[]): string =>
    execFileSync('openssl', args, { cwd: dir, encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'] });
  mkdirSync(join(dir, 'new'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '2000\n');
  writeFileSync(join(dir, 'ca.cnf'), CNF);
  writeFileSync(join(dir, 'data'), data);
  const { gen, sig } = GEN[key];
  const reqSig = key === 'sm2' ? ['-sm3', '-sigopt', 'distid:1234567812345678'] : ['-sha256'];
  run('genpkey', ...gen, '-out', 'ca.key');
  run('genpkey', ...gen, '-out', 'tsa.key');
  run(
    'req',
    '-new',
    '-key',
    'ca.key',
    ...reqSig,
    '-subj',
    `/CN=时间戳根 ${key}`,
    '-utf8',
    '-config',
    'ca.cnf',
    '-out',
    'ca.csr',
  );
  run(
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-selfsign',
    '-keyfile',
    'ca.key',
    '-in',
    'ca.csr',
    '-out',
    'ca.pem',
    '-extensions',
    'v3ca',
    '-startdate',
    '20190101000000Z',
    '-enddate',
    '20400101000000Z',
    ...sig,
  );
  run(
    'req',
    '-new',
    '-key',
    'tsa.key',
    ...reqSig,
    '-subj',
    `/O=医证/CN=TSA ${key}`,
    '-utf8',
    '-config',
    'ca.cnf',
    '-out',
    'tsa.csr',
  );
  const issue = (name: string, ext: string, dates: string[]): ParsedCertificate => {
    run(
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-keyfile',
      'ca.key',
      '-cert',
      'ca.pem',
      '-in',
      'tsa.csr',
      '-out',
      `${name}.pem`,
      '-extensions',
      ext,
      ...dates,
      ...sig,
    );
    return parseCertificate(readFileSync(join(dir, `${name}.pem`), 'utf8'));
  };
  const current = ['-startdate', '20190601000000Z', '-enddate', '20390101000000Z'];
  return {
    dir,
    run,
    file: (f: string): string => join(dir, f),
    ca: parseCertificate(readFileSync(join(dir, 'ca.pem'), 'utf8')),
    signer: signerFromPrivateKey(readFileSync(join(dir, 'tsa.key'), 'utf8')),
    tsa: issue('tsa', 'tsa', current),
    old: issue('old', 'tsa', ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z']),
    noncritical: issue('noncritical', 'noncritical', current),
    multi: issue('multi', 'multi', current),
    noeku: issue('noeku', 'noeku', current),
  };
}

const codes = (r: { failures: readonly { code: PkiErrorCode }[] }): PkiErrorCode[] =>
  r.failures.map((f) => f.code);

describe.each(['rsa', 'p256', 'sm2'] as const)('replyTimeStamp (%s)', (key) => {
  const pki = tsaPki(key);
  const policy = key === 'sm2' ? { sm2: gmSm2Provider } : {};
  const hash = key === 'sm2' ? ('sm3' as const) : ('sha256' as const);
  let serial = 1n;
  const reply = (request: Uint8Array, more: Partial<ReplyTimeStampOptions> = {}): Uint8Array =>
    replyTimeStamp({
      request,
      tsa: { signer: pki.signer, certificate: pki.tsa, chain: [pki.ca] },
      serialNumber: serial++,
      genTime: new Date(),
      policy: '1.2.156.3000.1',
      accuracy: { seconds: 1 },
      ordering: false,
      ...more,
    });

  it(`grants a ${hash} request; ours verifies (imprint, nonce, ESSCertIDv2, EKU, chain at genTime)`, () => {
    const req = buildTimeStampReq({ data, hash, nonce: true, algorithmPolicy: policy });
    const genTime = new Date('2026-12-01T10:20:30.456Z');
    const resp = reply(req.der, { genTime, serialNumber: 2n ** 64n + 1n });
    expect(parseTimeStampResp(resp).statusName).toBe('granted');
    const r = verifyTimeStampToken({
      token: resp,
      data,
      trustAnchors: [pki.ca],
      nonce: req.nonce ?? 0n,
      requestPolicy: undefined,
      policy,
    });
    expect(r.failures).toEqual([]);
    expect(r.genTime?.toISOString()).toBe(genTime.toISOString());
    expect(r.serialNumber).toBe(2n ** 64n + 1n);
    expect(r.policy).toBe('1.2.156.3000.1');
    expect(r.accuracy).toEqual({ seconds: 1, millis: 0, micros: 0 });
    expect(r.tsa).toBe(pki.tsa.subject);
    expect(r.chain?.length).toBe(2);
    expect(
      parseTimeStampToken(resp)
        .signedData.certificates.map((c) => c.subject)
        .sort(),
    ).toEqual([pki.tsa.subject, pki.ca.subject].sort());
  });

  it('a token whose TSA certificate has since expired verifies: validity is checked at genTime', () => {
    const req = buildTimeStampReq({ data, hash, algorithmPolicy: policy });
    const genTime = new Date('2020-06-01T00:00:00Z');
    const resp = replyTimeStamp({
      request: req.der,
      tsa: { signer: pki.signer, certificate: pki.old },
      serialNumber: 7n,
      genTime,
      policy: '1.2.156.3000.1',
    });
    expect(() => checkValidity(pki.old, new Date())).toThrow();
    const r = verifyTimeStampToken({ token: resp, data, trustAnchors: [pki.ca], policy });
    expect(r.failures).toEqual([]);
    expect(r.valid).toBe(true);
    // The same certificate used after it expired: PKI_CERT_EXPIRED, with or without a trust store.
    const late = replyTimeStamp({
      request: req.der,
      tsa: { signer: pki.signer, certificate: pki.old },
      serialNumber: 8n,
      genTime: new Date('2022-01-01T00:00:00Z'),
      policy: '1.2.156.3000.1',
    });
    expect(codes(verifyTimeStampToken({ token: late, data, trustAnchors: [pki.ca], policy }))).toEqual([
      'PKI_CERT_EXPIRED',
    ]);
    expect(codes(verifyTimeStampToken({ token: late, data, policy }))).toEqual(['PKI_CERT_EXPIRED']);
  });

  it('wrong extendedKeyUsage → PKI_EKU (not critical, not the sole purpose, absent)', () => {
    const req = buildTimeStampReq({ data, hash, algorithmPolicy: policy });
    for (const cert of [pki.noncritical, pki.multi, pki.noeku]) {
      const resp = reply(req.der, { tsa: { signer: pki.signer, certificate: cert } });
      const r = verifyTimeStampToken({ token: resp, data, trustAnchors: [pki.ca], policy });
      expect(codes(r)).toEqual(['PKI_EKU']);
      expect(r.failures[0]?.check).toBe('extKeyUsage');
      // 'lenient' only asks for timeStamping to be listed.
      const lenient = verifyTimeStampToken({
        token: resp,
        data,
        trustAnchors: [pki.ca],
        policy,
        tsaExtKeyUsage: 'lenient',
      });
      expect(codes(lenient)).toEqual(cert === pki.noeku ? ['PKI_EKU'] : []);
    }
  });

  it('ESSCertID binding: another certificate named, or none → PKI_TSP_CERT_BINDING', () => {
    const tst = buildTstInfo({
      policy: '1.2.3',
      hash,
      hashedMessage: buildTimeStampReq({ data, hash, algorithmPolicy: policy }).hashedMessage,
      serialNumber: 1n,
      genTime: new Date(),
    });
    const token = (extra: Parameters<typeof buildSignedData>[0]['signers'][0]): Uint8Array =>
      buildSignedData({ content: tst, eContentType: TSP_OID.tstInfo, signers: [extra] });
    const wrong = token({
      signer: pki.signer,
      certificate: pki.tsa,
      extraSignedAttributes: [
        { oid: TSP_OID.signingCertificateV2, values: [signingCertificateV2Value(pki.multi)] },
      ],
    });
    const r = verifyTimeStampToken({ token: wrong, data, policy });
    expect(codes(r)).toEqual(['PKI_TSP_CERT_BINDING']);
    const none = token({
      signer: pki.signer,
      certificate: pki.tsa,
      omitSignedAttributes: [TSP_OID.signingCertificateV2],
    });
    expect(codes(verifyTimeStampToken({ token: none, data, policy }))).toEqual(['PKI_TSP_CERT_BINDING']);
    // A tsa name that is not the TSA certificate's subject (RFC 3161 §2.4.2).
    const named = buildTstInfo({
      policy: '1.2.3',
      hash,
      hashedMessage: buildTimeStampReq({ data, hash, algorithmPolicy: policy }).hashedMessage,
      serialNumber: 1n,
      genTime: new Date(),
      tsaName: pki.ca.subjectDer,
    });
    const misnamed = buildSignedData({
      content: named,
      eContentType: TSP_OID.tstInfo,
      signers: [{ signer: pki.signer, certificate: pki.tsa }],
    });
    const rn = verifyTimeStampToken({ token: misnamed, data, policy });
    expect(codes(rn)).toEqual(['PKI_TSP_CERT_BINDING']);
    expect(rn.failures[0]?.check).toBe('tsaName');
    // The token verifies once the binding is right (the builder's default attribute).
    expect(
      verifyTimeStampToken({ token: token({ signer: pki.signer, certificate: pki.tsa }), data, policy })
        .failures,
    ).toEqual([]);
  });

  it('a token in GM/T 0010 form (signedData 1.2.156.10197.6.1.4.2.2, sm2sign) verifies', () => {
    const tst = buildTstInfo({
      policy: '1.2.156.3000.1',
      hash,
      hashedMessage: buildTimeStampReq({ data, hash, algorithmPolicy: policy }).hashedMessage,
      serialNumber: 3n,
      genTime: new Date(),
      tsaName: pki.tsa.subjectDer,
    });
    const gm = buildSignedData({
      content: tst,
      eContentType: TSP_OID.tstInfo,
      oids: 'gmt0010',
      signers: [{ signer: pki.signer, certificate: pki.tsa }],
    });
    expect(parseTimeStampToken(gm).signedData.contentType).toBe('1.2.156.10197.6.1.4.2.2');
    expect(verifyTimeStampToken({ token: gm, data, trustAnchors: [pki.ca], policy }).failures).toEqual([]);
  });

  it('imprint and nonce mismatches are reported on our tokens', () => {
    const req = buildTimeStampReq({ data, hash, nonce: 99n, algorithmPolicy: policy });
    const resp = reply(req.der);
    expect(codes(verifyTimeStampToken({ token: resp, data: data.subarray(1), nonce: 99n, policy }))).toEqual([
      'PKI_TSP_IMPRINT_MISMATCH',
    ]);
    expect(codes(verifyTimeStampToken({ token: resp, data, nonce: 98n, policy }))).toEqual([
      'PKI_TSP_NONCE_MISMATCH',
    ]);
  });
});

describe.each(['rsa', 'p256'] as const)('our replies (%s) pass openssl ts -verify', (key) => {
  const pki = tsaPki(key);
  it('answers openssl ts -query; openssl verifies against the query and the data', () => {
    pki.run('ts', '-query', '-data', 'data', '-sha256', '-cert', '-out', 'q.tsq');
    const resp = replyTimeStamp({
      request: new Uint8Array(readFileSync(pki.file('q.tsq'))),
      tsa: { signer: pki.signer, certificate: pki.tsa },
      serialNumber: 0x1234n,
      genTime: new Date(),
      policy: '1.2.156.3000.1',
      accuracy: { seconds: 1, millis: 250 },
      ordering: true,
    });
    writeFileSync(pki.file('r.tsr'), resp);
    pki.run('ts', '-verify', '-queryfile', 'q.tsq', '-in', 'r.tsr', '-CAfile', 'ca.pem');
    pki.run('ts', '-verify', '-data', 'data', '-in', 'r.tsr', '-CAfile', 'ca.pem');
    const text = pki.run('ts', '-reply', '-in', 'r.tsr', '-text');
    expect(text).toContain('Status: Granted.');
    expect(text).toContain('Serial number: 0x1234');
    expect(text).toContain('Accuracy: 0x01 seconds, 0xFA millis, unspecified micros');
    expect(text).toContain('Ordering: yes');
    expect(text).toContain('Policy OID: 1.2.156.3000.1');
    expect(text).toContain(`TSA: DirName:/CN=TSA ${key}/O=`);
    // A changed byte of the data fails openssl.
    writeFileSync(pki.file('data2'), data.subarray(1));
    const bad = spawnSync(
      'openssl',
      ['ts', '-verify', '-data', 'data2', '-in', 'r.tsr', '-CAfile', 'ca.pem'],
      {
        cwd: pki.dir,
        encoding: 'utf8',
      },
    );
    expect(bad.status).not.toBe(0);
  });

  it('certReq false: no certificates; openssl verifies with -untrusted', () => {
    pki.run('ts', '-query', '-data', 'data', '-sha512', '-out', 'q2.tsq');
    const resp = replyTimeStamp({
      request: new Uint8Array(readFileSync(pki.file('q2.tsq'))),
      tsa: { signer: pki.signer, certificate: pki.tsa },
      serialNumber: 5n,
      genTime: new Date(),
      policy: '1.2.156.3000.1',
    });
    expect(parseTimeStampToken(resp).signedData.certificates).toHaveLength(0);
    writeFileSync(pki.file('r2.tsr'), resp);
    pki.run(
      'ts',
      '-verify',
      '-queryfile',
      'q2.tsq',
      '-in',
      'r2.tsr',
      '-CAfile',
      'ca.pem',
      '-untrusted',
      'tsa.pem',
    );
  });
});

describe('replyTimeStamp rejects bad requests with the right PKIFailureInfo, never throws', () => {
  const pki = tsaPki('p256');
  const answer = (request: Uint8Array, more: Partial<ReplyTimeStampOptions> = {}) =>
    parseTimeStampResp(
      replyTimeStamp({
        request,
        tsa: { signer: pki.signer, certificate: pki.tsa },
        serialNumber: 1n,
        genTime: new Date(),
        policy: '1.2.156.3000.1',
        ...more,
      }),
    );
  const digest = new Uint8Array(createHash('sha256').update(data).digest());
  const rawReq = (fields: Partial<TimeStampReq>): Uint8Array =>
    new Uint8Array(
      AsnConvert.serialize(
        new TimeStampReq({
          version: TimeStampReqVersion.v1,
          messageImprint: new MessageImprint({
            hashAlgorithm: new AlgorithmIdentifier({ algorithm: '2.16.840.1.101.3.4.2.1' }),
            hashedMessage: new OctetString(digest),
          }),
          ...fields,
        }),
      ),
    );

  it('garbage, truncated or BER input → badDataFormat', () => {
    for (const bad of [
      new Uint8Array([1, 2, 3]),
      buildTimeStampReq({ data, hash: 'sha256' }).der.subarray(0, 20),
    ]) {
      const r = answer(bad);
      expect(r.statusName).toBe('rejection');
      expect(r.failInfo).toEqual(['badDataFormat']);
      expect(r.token).toBeUndefined();
    }
  });

  it('an unknown or unaccepted hash → badAlg; SHA-1 accepted only when listed', () => {
    const md5 = rawReq({
      messageImprint: new MessageImprint({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.2.5' }),
        hashedMessage: new OctetString(new Uint8Array(16)),
      }),
    });
    expect(answer(md5).failInfo).toEqual(['badAlg']);
    pki.run('ts', '-query', '-data', 'data', '-sha1', '-out', 'sha1.tsq');
    const sha1 = new Uint8Array(readFileSync(pki.file('sha1.tsq')));
    expect(answer(sha1).failInfo).toEqual(['badAlg']);
    expect(answer(sha1, { acceptedHashes: ['sha1', 'sha256'] }).statusName).toBe('granted');
    expect(
      answer(buildTimeStampReq({ data, hash: 'sha384' }).der, { acceptedHashes: ['sha256'] }).failInfo,
    ).toEqual(['badAlg']);
  });

  it('an imprint of the wrong length or a wrong version → badDataFormat', () => {
    const short = rawReq({
      messageImprint: new MessageImprint({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: '2.16.840.1.101.3.4.2.1' }),
        hashedMessage: new OctetString(new Uint8Array(20)),
      }),
    });
    expect(answer(short).failInfo).toEqual(['badDataFormat']);
    const v2 = rawReq({});
    expect([...v2.subarray(2, 5)]).toEqual([0x02, 0x01, 0x01]);
    v2[4] = 2;
    expect(answer(v2).failInfo).toEqual(['badDataFormat']);
  });

  it('an unaccepted policy → unacceptedPolicy; an accepted one is used', () => {
    const req = buildTimeStampReq({ data, hash: 'sha256', policy: '1.2.156.9999' }).der;
    expect(answer(req).failInfo).toEqual(['unacceptedPolicy']);
    const ok = answer(req, { acceptedPolicies: ['1.2.156.3000.1', '1.2.156.9999'] });
    expect(ok.statusName).toBe('granted');
    expect(parseTimeStampToken(ok.der).tstInfo.policy).toBe('1.2.156.9999');
  });

  it('an extension → unacceptedExtension (unless accepted)', () => {
    const ext = new Extensions([
      new Extension({
        extnID: '1.2.156.4242.1',
        critical: false,
        extnValue: new OctetString(Uint8Array.of(5, 0)),
      }),
    ]);
    const req = rawReq({ extensions: ext });
    expect(parseTimeStampReq(req).extensions).toEqual([{ oid: '1.2.156.4242.1', critical: false }]);
    expect(answer(req).failInfo).toEqual(['unacceptedExtension']);
    expect(answer(req, { acceptedExtensions: ['1.2.156.4242.1'] }).statusName).toBe('granted');
  });

  it('openssl reads our rejections; a signing failure is systemFailure; bad TSA options throw', () => {
    const resp = replyTimeStamp({
      request: buildTimeStampReq({ data, hash: 'sha256', policy: '1.2.156.9999' }).der,
      tsa: { signer: pki.signer, certificate: pki.tsa },
      serialNumber: 1n,
      genTime: new Date(),
      policy: '1.2.156.3000.1',
    });
    writeFileSync(pki.file('rej.tsr'), resp);
    const text = pki.run('ts', '-reply', '-in', 'rej.tsr', '-text');
    expect(text).toContain('Status: Rejected.');
    expect(text).toContain('the requested TSA policy is not supported by the TSA');
    const failing = (error: Error): Signer => ({
      ...pki.signer,
      sign: () => {
        throw error;
      },
    });
    const withSigner = (signer: Signer): Uint8Array =>
      replyTimeStamp({
        request: buildTimeStampReq({ data, hash: 'sha256' }).der,
        tsa: { signer, certificate: pki.tsa },
        serialNumber: 1n,
        genTime: new Date(),
        policy: '1.2.3',
      });
    // A typed failure of the signing key is answered as systemFailure …
    const sys = parseTimeStampResp(withSigner(failing(new PkiError('PKI_INVALID_ARGUMENT', 'HSM offline'))));
    expect(sys.statusName).toBe('rejection');
    expect(sys.failInfo).toEqual(['systemFailure']);
    // … while an untyped error (a bug) surfaces.
    expect(() => withSigner(failing(new Error('bug')))).toThrow('bug');
    let code: string = 'no error';
    try {
      replyTimeStamp({
        request: buildTimeStampReq({ data, hash: 'sha256' }).der,
        tsa: { signer: pki.signer, certificate: pki.tsa },
        serialNumber: -1n,
        genTime: new Date(),
        policy: '1.2.3',
      });
    } catch (e) {
      code = isPkiError(e) ? e.code : 'untyped';
    }
    expect(code).toBe('PKI_INVALID_ARGUMENT');
    expect(
      parseTimeStampResp(buildTimeStampResp({ status: 'rejection', failInfo: ['systemFailure'] })).failInfo,
    ).toEqual(['systemFailure']);
  });
});
