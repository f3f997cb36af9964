/**
 * Test artefacts for the evidence API, made by the openssl CLI in the test itself (RSA and SM2 certificates, RSA
 * CMS attached/detached, raw SM2 signatures, an RFC 3161 TSA answering `openssl ts -reply`) and by
 * `@yizheng/pki`'s builder for SM2 CMS (openssl 3.0 cannot make SM2 CMS).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2, type Sm2PrivateKey } from '@yizheng/gm';
import {
  CMS_OID,
  addUnsignedAttribute,
  buildSignedData,
  fromPem,
  parseSignedData,
  signerFromSm2Key,
} from '@yizheng/pki';

export interface Pki {
  dir: string;
  openssl(...args: string[]): Buffer;
  file(name: string): Buffer;
  /** DER of a PEM file. */
  der(name: string): Uint8Array;
  rsaCaPem: string;
  rsaLeafDer: Uint8Array;
  /** A second, unrelated CA and a leaf under it (for "untrusted"). */
  otherLeafDer: Uint8Array;
  /** A non-CA certificate that issued a leaf (for "chain invalid"). */
  notCaPem: string;
  underNotCaDer: Uint8Array;
  sm2Key: Sm2PrivateKey;
  sm2CertDer: Uint8Array;
  sm2CertPem: string;
  tsaCaPem: string;
  rsaCmsAttached(data: Uint8Array): Uint8Array;
  rsaCmsDetached(data: Uint8Array, signer?: 'leaf' | 'other' | 'notca'): Uint8Array;
  sm2Cms(data: Uint8Array, options?: { detached?: boolean; tokenOverSignature?: boolean }): Uint8Array;
  sm2Raw(data: Uint8Array): Uint8Array;
  /** An RFC 3161 token (TimeStampToken DER) over `data`, by `openssl ts -reply`. */
  timestamp(data: Uint8Array): Uint8Array;
}

const EXT = `[req]
distinguished_name=dn
[dn]
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[leaf]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[tsa]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
`;

let counter = 0;

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'yz-evpki-'));
  const openssl = (...args: string[]): Buffer =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = (name: string): Buffer => readFileSync(join(dir, name));
  const der = (name: string): Uint8Array => fromPem(file(name).toString('latin1'));
  writeFileSync(join(dir, 'ext.cnf'), EXT);
  const rsa = ['-newkey', 'rsa:2048', '-nodes'];
  const ca = (name: string, cn: string) =>
    openssl(
      'req',
      '-x509',
      ...rsa,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-subj',
      `/CN=${cn}`,
      '-utf8',
      '-days',
      '3650',
      '-config',
      'ext.cnf',
      '-extensions',
      'ca',
    );
  const issue = (name: string, cn: string, caName: string, ext: string, keyArgs = rsa) => {
    openssl(
      'req',
      '-new',
      ...keyArgs,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
      '-utf8',
      '-config',
      'ext.cnf',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.pem`,
      '-CAkey',
      `${caName}.key`,
      '-set_serial',
      String(4096 + ++counter),
      '-out',
      `${name}.pem`,
      '-days',
      '3650',
      '-extfile',
      'ext.cnf',
      '-extensions',
      ext,
    );
  };
  ca('rsaca', '医证测试根CA');
  issue('rsaleaf', '张医生', 'rsaca', 'leaf');
  ca('otherca', '其他根CA');
  issue('otherleaf', '李医生', 'otherca', 'leaf');
  // A CA:FALSE certificate used as an issuer.
  openssl(
    'req',
    '-x509',
    ...rsa,
    '-keyout',
    'notca.key',
    '-out',
    'notca.pem',
    '-subj',
    '/CN=不是CA',
    '-days',
    '3650',
    '-config',
    'ext.cnf',
    '-extensions',
    'leaf',
  );
  issue('undernotca', '王医生', 'notca', 'leaf');

  // SM2: a self-signed certificate made by openssl (SM3withSM2, ID 1234567812345678).
  openssl('genpkey', '-algorithm', 'SM2', '-out', 'sm2.key');
  openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    'sm2.key',
    '-sm3',
    '-sigopt',
    'distid:1234567812345678',
    '-subj',
    '/CN=赵医生 SM2',
    '-utf8',
    '-days',
    '3650',
    '-config',
    'ext.cnf',
    '-extensions',
    'leaf',
    '-out',
    'sm2.pem',
  );
  const sm2Key = sm2.importPrivateKey(file('sm2.key').toString('latin1'));
  const sm2CertPem = file('sm2.pem').toString('latin1');
  const sm2CertDer = fromPem(sm2CertPem);

  // TSA (RSA), openssl ts.
  ca('tsaca', '时间戳根CA');
  issue('tsa', '时间戳服务', 'tsaca', 'tsa');
  writeFileSync(join(dir, 'serial'), '0100\n');
  writeFileSync(
    join(dir, 'ts.cnf'),
    `[tsa]
default_tsa=t
[t]
serial=${join(dir, 'serial')}
crypto_device=builtin
signer_cert=${join(dir, 'tsa.pem')}
certs=${join(dir, 'tsaca.pem')}
signer_key=${join(dir, 'tsa.key')}
signer_digest=sha256
default_policy=1.2.3.4.1
digests=sha256,sha384,sha512
accuracy=secs:1
ordering=yes
tsa_name=yes
ess_cert_id_alg=sha256
`,
  );

  let n = 0;
  const tmp = (bytes: Uint8Array): string => {
    const name = `in-${++n}.bin`;
    writeFileSync(join(dir, name), bytes);
    return name;
  };
  const cmsSign = (data: Uint8Array, who: string, detached: boolean): Uint8Array => {
    const input = tmp(data);
    const out = `cms-${n}.der`;
    openssl(
      'cms',
      '-sign',
      '-binary',
      '-in',
      input,
      '-signer',
      `${who}.pem`,
      '-inkey',
      `${who}.key`,
      '-outform',
      'DER',
      '-out',
      out,
      ...(detached ? [] : ['-nodetach']),
    );
    return new Uint8Array(file(out));
  };
  const timestamp = (data: Uint8Array): Uint8Array => {
    const input = tmp(data);
    openssl('ts', '-query', '-data', input, '-sha256', '-cert', '-out', `q-${n}.tsq`);
    openssl(
      'ts',
      '-reply',
      '-config',
      'ts.cnf',
      '-queryfile',
      `q-${n}.tsq`,
      '-token_out',
      '-out',
      `t-${n}.der`,
    );
    return new Uint8Array(file(`t-${n}.der`));
  };
  return {
    dir,
    openssl,
    file,
    der,
    rsaCaPem: file('rsaca.pem').toString('latin1'),
    rsaLeafDer: der('rsaleaf.pem'),
    otherLeafDer: der('otherleaf.pem'),
    notCaPem: file('notca.pem').toString('latin1'),
    underNotCaDer: der('undernotca.pem'),
    sm2Key,
    sm2CertDer,
    sm2CertPem,
    tsaCaPem: file('tsaca.pem').toString('latin1'),
    rsaCmsAttached: (data) => cmsSign(data, 'rsaleaf', false),
    rsaCmsDetached: (data, signer = 'leaf') =>
      cmsSign(data, signer === 'leaf' ? 'rsaleaf' : signer === 'other' ? 'otherleaf' : 'undernotca', true),
    sm2Cms: (data, options = {}) => {
      let cms = buildSignedData({
        content: data,
        detached: options.detached ?? false,
        signers: [{ signer: signerFromSm2Key(sm2Key), certificate: sm2CertDer }],
      });
      if (options.tokenOverSignature) {
        // CAdES-T: an RFC 3161 token over the signer's signature value, as an unsigned attribute.
        const sigTlv = signatureValueOf(cms);
        cms = addUnsignedAttribute(cms, 0, { oid: CMS_OID.timeStampToken, values: [timestamp(sigTlv)] });
      }
      return cms;
    },
    sm2Raw: (data) => {
      const input = tmp(data);
      return new Uint8Array(
        openssl(
          'pkeyutl',
          '-sign',
          '-rawin',
          '-digest',
          'sm3',
          '-pkeyopt',
          'distid:1234567812345678',
          '-inkey',
          'sm2.key',
          '-in',
          input,
        ),
      );
    },
    timestamp,
  };
}

function signatureValueOf(cms: Uint8Array): Uint8Array {
  return parseSignedData(cms).signers[0]!.signature;
}
