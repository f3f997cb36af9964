/**
 * Seed corpora for the fuzz targets, made at start by the `openssl` CLI in a temporary directory: certificates
 * (RSA, P-256, SM2 with distid), CMS SignedData (`openssl cms -sign`: attached, detached, without signed
 * attributes, two signers, BER), CRLs (`openssl ca -gencrl`), RFC 3161 responses (`openssl ts -reply`) and
 * OCSP responses (`openssl ocsp`). Nothing from the web, nothing committed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificate } from '../certificate.js';
import { buildSignedData } from '../signed-data-builder.js';
import { signerFromPrivateKey } from '../signer.js';
import { buildTimeStampReq } from '../time-stamp-req.js';
import { replyTimeStamp } from '../tsp-reply.js';

export interface Corpus {
  readonly certificate: readonly Uint8Array[];
  readonly cms: readonly Uint8Array[];
  readonly crl: readonly Uint8Array[];
  readonly tsp: readonly Uint8Array[];
  readonly ocsp: readonly Uint8Array[];
  /** The content signed by the CMS seeds (for detached ones) and timestamped by the TSP seeds. */
  readonly content: Uint8Array;
  /** The certificates (and their issuers) the OCSP seeds answer for, DER. */
  readonly ocspSubjects: readonly { readonly certificate: Uint8Array; readonly issuer: Uint8Array }[];
  /** DER of the CAs (RSA, P-256, SM2) that issued the seeds' certificates, CRLs and OCSP responders. */
  readonly issuers: readonly Uint8Array[];
}

const EXT = `[req]
distinguished_name=dn
[dn]
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[ee]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
crlDistributionPoints=URI:http://ca.example/crl.der
authorityInfoAccess=OCSP;URI:http://ocsp.example/
certificatePolicies=1.2.156.112.1
subjectAltName=email:doctor@hospital.example,DNS:his.hospital.example
[tsa]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
[ocsp]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=OCSPSigning
`;

const KEYGEN = {
  rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  sm2: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'],
} as const;
type Kind = keyof typeof KEYGEN;
const SIGN: Record<Kind, string[]> = {
  rsa: ['-sha256'],
  p256: ['-sha256'],
  sm2: ['-sm3', '-sigopt', 'distid:1234567812345678'],
};
const VFY: Record<Kind, string[]> = { rsa: [], p256: [], sm2: ['-vfyopt', 'distid:1234567812345678'] };

/** Makes the seed corpora with openssl; the temporary directory is removed afterwards. */
export function makeCorpus(): Corpus {
  const dir = mkdtempSync(join(tmpdir(), 'pki-fuzz-corpus-'));
  const f = (n: string): string => join(dir, n);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  const read = (n: string): Uint8Array => new Uint8Array(readFileSync(f(n)));
  try {
    writeFileSync(f('ext.cnf'), EXT);
    const content = new TextEncoder().encode('住院病历：患者赵六，入院诊断：肺炎。fuzz seed\n');
    writeFileSync(f('data'), content);
    const certs: Uint8Array[] = [];
    for (const kind of Object.keys(KEYGEN) as Kind[]) {
      const k = (n: string): string => f(`${kind}-${n}`);
      openssl('genpkey', ...KEYGEN[kind], '-out', k('ca.key'));
      openssl(
        'req',
        '-x509',
        '-new',
        '-key',
        k('ca.key'),
        ...SIGN[kind],
        '-subj',
        `/C=CN/ST=北京/O=医证/OU=测试/CN=${kind} 根CA`,
        '-utf8',
        '-days',
        '3650',
        '-config',
        f('ext.cnf'),
        '-extensions',
        'ca',
        '-outform',
        'DER',
        '-out',
        k('ca.der'),
      );
      openssl('x509', '-inform', 'DER', '-in', k('ca.der'), '-out', k('ca.pem'));
      for (const ee of ['ee', 'tsa', 'ocsp']) {
        openssl('genpkey', ...KEYGEN[kind], '-out', k(`${ee}.key`));
        openssl(
          'req',
          '-new',
          '-key',
          k(`${ee}.key`),
          ...SIGN[kind],
          '-subj',
          `/C=CN/O=某某医院/CN=${kind} ${ee} 张三`,
          '-utf8',
          '-config',
          f('ext.cnf'),
          '-out',
          k(`${ee}.csr`),
        );
        openssl(
          'x509',
          '-req',
          '-in',
          k(`${ee}.csr`),
          ...VFY[kind],
          '-CA',
          k('ca.pem'),
          '-CAkey',
          k('ca.key'),
          '-CAcreateserial',
          ...SIGN[kind],
          '-extfile',
          f('ext.cnf'),
          '-extensions',
          ee,
          '-days',
          '365',
          '-out',
          k(`${ee}.pem`),
        );
        openssl('x509', '-in', k(`${ee}.pem`), '-outform', 'DER', '-out', k(`${ee}.der`));
        certs.push(read(`${kind}-${ee}.der`));
      }
      certs.push(read(`${kind}-ca.der`));
    }

    const cms: Uint8Array[] = [];
    let n = 0;
    const cmsSign = (signers: Kind[], flags: string[]): void => {
      const out = `cms${n++}.der`;
      openssl(
        'cms',
        '-sign',
        '-binary',
        '-in',
        f('data'),
        ...signers.flatMap((s) => ['-signer', f(`${s}-ee.pem`), '-inkey', f(`${s}-ee.key`)]),
        '-md',
        'sha256',
        '-outform',
        'DER',
        '-out',
        f(out),
        ...flags,
      );
      cms.push(read(out));
    };
    for (const kind of ['rsa', 'p256'] as const) {
      cmsSign([kind], ['-nodetach', '-certfile', f(`${kind}-ca.pem`)]);
      cmsSign([kind], []);
      cmsSign([kind], ['-nodetach', '-noattr']);
    }
    cmsSign(['rsa', 'p256'], ['-nodetach']);
    // BER (indefinite lengths, constructed OCTET STRING) via -stream.
    openssl(
      'cms',
      '-sign',
      '-binary',
      '-stream',
      '-nodetach',
      '-in',
      f('data'),
      '-signer',
      f('p256-ee.pem'),
      '-inkey',
      f('p256-ee.key'),
      '-outform',
      'DER',
      '-out',
      f('ber.der'),
    );
    cms.push(read('ber.der'));
    // SM2 (OpenSSL 3.0 cannot sign CMS with SM2): our builder, under both OID conventions, with and without
    // signed attributes.
    const sm2Signer = signerFromPrivateKey(readFileSync(f('sm2-ee.key'), 'utf8'));
    const sm2Cert = parseCertificate(read('sm2-ee.der'));
    for (const oids of ['rfc5652', 'gmt0010'] as const)
      for (const signedAttributes of [true, false])
        cms.push(
          buildSignedData({
            content,
            oids,
            signers: [{ signer: sm2Signer, certificate: sm2Cert, signedAttributes }],
          }),
        );

    // CRLs and OCSP responses from the RSA and P-256 CAs, the ee certificate revoked.
    const crl: Uint8Array[] = [];
    const ocsp: Uint8Array[] = [];
    const ocspSubjects: { certificate: Uint8Array; issuer: Uint8Array }[] = [];
    for (const kind of ['rsa', 'p256'] as const) {
      const k = (x: string): string => f(`${kind}-${x}`);
      writeFileSync(
        k('ca.cnf'),
        `[ca]\ndefault_ca=d\n[d]\ndatabase=${k('index.txt')}\ncrlnumber=${k('crlnumber')}\ndefault_md=sha256\ndefault_crl_days=30\n`,
      );
      writeFileSync(k('index.txt'), '');
      writeFileSync(k('crlnumber'), '1000\n');
      const ca = ['-config', k('ca.cnf'), '-keyfile', k('ca.key'), '-cert', k('ca.pem')];
      openssl('ca', ...ca, '-revoke', k('ee.pem'), '-crl_reason', 'keyCompromise');
      openssl('ca', ...ca, '-gencrl', '-out', k('crl.pem'));
      openssl('crl', '-in', k('crl.pem'), '-outform', 'DER', '-out', k('crl.der'));
      crl.push(read(`${kind}-crl.der`));
      for (const [cert, nonce] of [
        ['ee', '-nonce'],
        ['tsa', '-no_nonce'],
      ] as const) {
        openssl(
          'ocsp',
          '-issuer',
          k('ca.pem'),
          '-cert',
          k(`${cert}.pem`),
          nonce,
          '-reqout',
          k(`${cert}.req`),
        );
        openssl(
          'ocsp',
          '-index',
          k('index.txt'),
          '-rsigner',
          k('ocsp.pem'),
          '-rkey',
          k('ocsp.key'),
          '-CA',
          k('ca.pem'),
          '-reqin',
          k(`${cert}.req`),
          '-respout',
          k(`${cert}.resp`),
          '-ndays',
          '7',
        );
        ocsp.push(read(`${kind}-${cert}.resp`));
        ocspSubjects.push({ certificate: read(`${kind}-${cert}.der`), issuer: read(`${kind}-ca.der`) });
      }
    }

    // RFC 3161 responses from RSA and P-256 TSAs.
    const tsp: Uint8Array[] = [];
    for (const kind of ['rsa', 'p256'] as const) {
      const k = (x: string): string => f(`${kind}-${x}`);
      writeFileSync(k('serial'), '01\n');
      writeFileSync(
        k('ts.cnf'),
        `[tsa]\ndefault_tsa=t\n[t]\nserial=${k('serial')}\ncrypto_device=builtin\nsigner_cert=${k('tsa.pem')}\ncerts=${k('ca.pem')}\nsigner_key=${k('tsa.key')}\nsigner_digest=sha256\ndefault_policy=1.2.3.4.1\ndigests=sha256,sha384,sha512\naccuracy=secs:1,millisecs:500\nordering=yes\ntsa_name=yes\ness_cert_id_alg=sha256\n`,
      );
      for (const [i, flags] of [['-sha256', '-cert'], ['-sha256'], ['-sha512', '-no_nonce']].entries()) {
        openssl('ts', '-query', '-data', f('data'), ...flags, '-out', k(`q${i}.tsq`));
        openssl('ts', '-reply', '-config', k('ts.cnf'), '-queryfile', k(`q${i}.tsq`), '-out', k(`r${i}.tsr`));
        tsp.push(read(`${kind}-r${i}.tsr`));
      }
    }
    // An SM2/SM3 token from our TSA answer.
    const tsaCert = parseCertificate(read('sm2-tsa.der'));
    tsp.push(
      replyTimeStamp({
        request: buildTimeStampReq({ data: content, hash: 'sm3', nonce: 0x1234n }).der,
        tsa: { signer: signerFromPrivateKey(readFileSync(f('sm2-tsa.key'), 'utf8')), certificate: tsaCert },
        serialNumber: 7n,
        genTime: new Date(tsaCert.notBefore.getTime() + 1000),
        policy: '1.2.156.112.1',
      }),
    );
    return {
      certificate: certs,
      cms,
      crl,
      tsp,
      ocsp,
      ocspSubjects,
      content,
      issuers: (['rsa', 'p256', 'sm2'] as const).map((k) => read(`${k}-ca.der`)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
