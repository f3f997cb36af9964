import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import type { PkiErrorCode } from './errors.js';
import { addUnsignedAttribute, buildSignedData } from './signed-data-builder.js';
import { CMS_OID, parseSignedData, verifySignedData } from './signed-data.js';
import { signerFromPrivateKey } from './signer.js';
import { gmSm2Provider } from './sm2.js';
import { buildTimeStampReq } from './time-stamp-req.js';
import { parseTimeStampResp } from './time-stamp-resp.js';
import { replyTimeStamp } from './tsp-reply.js';

const content = new TextEncoder().encode('电子病历：患者王五，手术记录。');

const GEN = {
  rsa: {
    gen: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    md: ['-md', 'sha256'],
    req: ['-sha256'],
  },
  sm2: {
    gen: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'],
    md: ['-md', 'sm3', '-sigopt', 'distid:1234567812345678', '-vfyopt', 'distid:1234567812345678'],
    req: ['-sm3', '-sigopt', 'distid:1234567812345678'],
  },
} as const;

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
[req]
distinguished_name=dn
[dn]
[v3ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
[tsa]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping
[ee]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
`;

/** Root (2019–2040), a TSA (2019–2039), a doctor valid now and one whose certificate was valid only in 2020. */
function pki(key: keyof typeof GEN) {
  const dir = mkdtempSync(join(tmpdir(), `pki-cades-${key}-`));
  const run = (...args: string[]): string =>
    execFileSync('openssl', args, { cwd: dir, encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'] });
  mkdirSync(join(dir, 'new'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '3000\n');
  writeFileSync(join(dir, 'ca.cnf'), CNF);
  const { gen, md, req } = GEN[key];
  const cert = (name: string, ext: string, from: string, to: string): ParsedCertificate => {
    run('genpkey', ...gen, '-out', `${name}.key`);
    run(
      'req',
      '-new',
      '-key',
      `${name}.key`,
      ...req,
      '-subj',
      `/CN=${name}`,
      '-config',
      'ca.cnf',
      '-out',
      `${name}.csr`,
    );
    const self =
      name === 'ca' ? ['-selfsign', '-keyfile', 'ca.key'] : ['-keyfile', 'ca.key', '-cert', 'ca.pem'];
    run('ca', '-batch', '-config', 'ca.cnf', ...self, '-in', `${name}.csr`, '-out', `${name}.pem`, '-extensions', ext, '-startdate', from, '-enddate', to, ...md); // prettier-ignore
    return parseCertificate(readFileSync(join(dir, `${name}.pem`), 'utf8'));
  };
  const ca = cert('ca', 'v3ca', '20190101000000Z', '20400101000000Z');
  const tsa = cert('tsa', 'tsa', '20190101000000Z', '20390101000000Z');
  const doctor = cert('doctor', 'ee', '20190101000000Z', '20390101000000Z');
  const old = cert('old', 'ee', '20200101000000Z', '20210101000000Z');
  const signer = (name: string) => signerFromPrivateKey(readFileSync(join(dir, `${name}.key`), 'utf8'));
  return { dir, run, ca, tsa, doctor, old, signer, file: (f: string): string => join(dir, f) };
}

const codes = (r: { failures: readonly { code: PkiErrorCode }[] }): PkiErrorCode[] =>
  r.failures.map((f) => f.code);

describe('CAdES-T: openssl cms -sign + openssl ts -reply token over the signature value (RSA)', () => {
  const p = pki('rsa');
  writeFileSync(p.file('data'), content);
  writeFileSync(
    p.file('ts.cnf'),
    `[tsa]\ndefault_tsa=t\n[t]\nserial=${p.file('tsaserial')}\ncrypto_device=builtin\nsigner_cert=${p.file('tsa.pem')}\ncerts=${p.file('ca.pem')}\nsigner_key=${p.file('tsa.key')}\nsigner_digest=sha256\ndefault_policy=1.2.156.3000.1\ndigests=sha256\nclock_precision_digits=0\ness_cert_id_alg=sha256\n`,
  );
  writeFileSync(p.file('tsaserial'), '01\n');
  p.run('cms', '-sign', '-binary', '-nodetach', '-in', 'data', '-signer', 'doctor.pem', '-inkey', 'doctor.key', '-md', 'sha256', '-outform', 'DER', '-out', 'sig.p7s'); // prettier-ignore
  const cms = new Uint8Array(readFileSync(p.file('sig.p7s')));
  /** An openssl token over `bytes`. */
  const tokenOver = (bytes: Uint8Array, name: string): Uint8Array => {
    writeFileSync(p.file(`${name}.bin`), bytes);
    p.run('ts', '-query', '-data', `${name}.bin`, '-sha256', '-cert', '-out', `${name}.tsq`);
    p.run(
      'ts',
      '-reply',
      '-config',
      'ts.cnf',
      '-queryfile',
      `${name}.tsq`,
      '-token_out',
      '-out',
      `${name}.tst`,
    );
    return new Uint8Array(readFileSync(p.file(`${name}.tst`)));
  };
  const signature = parseSignedData(cms).signers[0]!.signature;

  it('finds and verifies the token; openssl cms -verify still accepts the message', () => {
    const stamped = addUnsignedAttribute(cms, 0, {
      oid: CMS_OID.timeStampToken,
      values: [tokenOver(signature, 'good')],
    });
    writeFileSync(p.file('stamped.p7s'), stamped);
    p.run('cms', '-verify', '-binary', '-inform', 'DER', '-in', 'stamped.p7s', '-CAfile', 'ca.pem', '-purpose', 'any', '-out', 'out.bin'); // prettier-ignore
    const r = verifySignedData(stamped, { trustAnchors: [p.ca] });
    expect(r.failures).toEqual([]);
    const s = r.signers[0]!;
    expect(s.timeStamps).toHaveLength(1);
    expect(s.timeStamps[0]?.valid).toBe(true);
    expect(s.timeStamps[0]?.policy).toBe('1.2.156.3000.1');
    expect(s.timeStamps[0]?.tsaCertificate?.subject).toBe('CN=tsa');
    // The path was validated at the token's time, not at the self-asserted signingTime.
    expect(s.validatedAt?.getTime()).toBe(s.timeStamps[0]?.genTime?.getTime());
  });

  it('a token over other bytes → PKI_TSP_IMPRINT_MISMATCH for that signer', () => {
    const stamped = addUnsignedAttribute(cms, 0, {
      oid: CMS_OID.timeStampToken,
      values: [tokenOver(content, 'wrong')],
    });
    const r = verifySignedData(stamped, { trustAnchors: [p.ca] });
    expect(codes(r)).toEqual(['PKI_TSP_IMPRINT_MISMATCH']);
    expect(r.failures[0]).toMatchObject({ signerIndex: 0, check: 'timeStamp[0].imprint' });
    expect(r.signers[0]?.validatedAt?.getTime()).toBe(r.signers[0]?.signingTime?.getTime());
  });

  it('a malformed token is a typed failure of the signer, not an exception', () => {
    const stamped = addUnsignedAttribute(cms, 0, {
      oid: CMS_OID.timeStampToken,
      values: [Uint8Array.of(0x30, 0x03, 0x06, 0x01, 0x00)],
    });
    const r = verifySignedData(stamped, { trustAnchors: [p.ca] });
    expect(r.valid).toBe(false);
    expect(r.failures[0]).toMatchObject({
      signerIndex: 0,
      code: 'PKI_ASN1_INVALID',
      check: 'timeStamp[0].parse',
    });
  });
});

describe('CAdES-T with SM2: our SM2 signature and SM2 TSA token', () => {
  const p = pki('sm2');
  const policy = { sm2: gmSm2Provider };

  it('a signer whose certificate has since expired verifies at the token time', () => {
    const genTime = new Date('2020-06-01T08:00:00Z');
    const cms = buildSignedData({
      content,
      signers: [{ signer: p.signer('old'), certificate: p.old, omitSignedAttributes: [CMS_OID.signingTime] }],
    });
    // Without a timestamp there is no time to validate at; at now the certificate has expired.
    expect(codes(verifySignedData(cms, { trustAnchors: [p.ca], policy }))).toEqual(['PKI_INVALID_ARGUMENT']);
    expect(codes(verifySignedData(cms, { trustAnchors: [p.ca], policy, at: new Date() }))).toEqual([
      'PKI_CERT_EXPIRED',
    ]);
    const sig = parseSignedData(cms).signers[0]!.signature;
    const resp = replyTimeStamp({
      request: buildTimeStampReq({ data: sig, hash: 'sm3' }).der,
      tsa: { signer: p.signer('tsa'), certificate: p.tsa },
      serialNumber: 1n,
      genTime,
      policy: '1.2.156.3000.1',
    });
    const token = parseTimeStampResp(resp).token!;
    const stamped = addUnsignedAttribute(cms, 0, { oid: CMS_OID.timeStampToken, values: [token] });
    const r = verifySignedData(stamped, { trustAnchors: [p.ca], policy });
    expect(r.failures).toEqual([]);
    expect(r.signers[0]?.validatedAt?.toISOString()).toBe(genTime.toISOString());
    expect(r.signers[0]?.timeStamps[0]?.hashAlgorithm).toBe('1.2.156.10197.1.401');
  });
});
