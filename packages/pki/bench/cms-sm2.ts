/**
 * CMS SM2 attached-signature verification per second (GM/T 0010 SignedData with signed attributes and the
 * signer certificate included, 1 KiB of content) against raw SM2 verification by `@yizheng/gm` (key imported
 * once) of the same signature over the same signed-attributes bytes, in the same run. The ratio says how much
 * CMS parsing, the messageDigest check and attribute handling cost on top of the curve.
 * - `cms-sm2-attached-verify`: `createCmsVerifier` (signer certificate and SM2 key cached);
 * - `cms-sm2-attached-verify-uncached`: `verifySignedData` on the bytes (everything parsed per call).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2 } from '@yizheng/gm';
import { parseCertificate } from '../src/certificate.js';
import { cachedSm2Provider, createCmsVerifier } from '../src/cms-verifier.js';
import { buildSignedData } from '../src/signed-data-builder.js';
import { parseSignedData, verifySignedData } from '../src/signed-data.js';
import { signerFromPrivateKey } from '../src/signer.js';
import { gmSm2Provider } from '../src/sm2.js';
import { compareOps, report, type BenchResult } from './measure.js';

function opensslSm2Certificate(): { key: string; cert: Uint8Array } {
  const dir = mkdtempSync(join(tmpdir(), 'pki-bench-'));
  const f = (n: string): string => join(dir, n);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  try {
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', f('k.pem'));
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      f('k.pem'),
      '-sm3',
      '-sigopt',
      'distid:1234567812345678',
      '-subj',
      '/C=CN/O=某某医院/CN=医生张三',
      '-utf8',
      '-days',
      '30',
      '-outform',
      'DER',
      '-out',
      f('c.der'),
    );
    return { key: readFileSync(f('k.pem'), 'utf8'), cert: new Uint8Array(readFileSync(f('c.der'))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function benchCmsSm2(seconds = 3): BenchResult[] {
  const { key, cert } = opensslSm2Certificate();
  const certificate = parseCertificate(cert);
  const content = new TextEncoder().encode('门诊病历'.repeat(86)).subarray(0, 1024);
  const cms = buildSignedData({
    content,
    signers: [{ signer: signerFromPrivateKey(key), certificate }],
    oids: 'gmt0010',
  });
  const policy = { sm2: gmSm2Provider };
  const check = verifySignedData(cms, { policy });
  if (!check.valid) throw new Error(`self-check failed: ${JSON.stringify(check.failures)}`);
  const verifier = createCmsVerifier({ policy: { sm2: cachedSm2Provider() } });
  if (!verifier.verify(cms).valid) throw new Error('cached verifier self-check failed');

  // The reference: the same signature over the same bytes, key imported once.
  const si = parseSignedData(cms).signers[0];
  if (!si?.signedAttrs) throw new Error('no signed attributes');
  const signed = si.signedAttrs;
  const signature = si.signature;
  const publicKey = sm2.importPublicKey(certificate.spki);
  if (!sm2.verify(publicKey, signed, signature)) throw new Error('reference self-check failed');

  const raw = (): void => {
    if (!sm2.verify(publicKey, signed, signature)) throw new Error('raw verification failed');
  };
  const [ref1, uncached] = compareOps(
    raw,
    () => {
      if (!verifySignedData(cms, { policy }).valid) throw new Error('verification failed');
    },
    seconds,
  );
  const [ref2, cached] = compareOps(
    raw,
    () => {
      if (!verifier.verify(cms).valid) throw new Error('verification failed');
    },
    seconds,
  );
  return [
    report('cms-sm2-attached-verify-uncached', uncached, ref1),
    report('cms-sm2-attached-verify', cached, ref2),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of benchCmsSm2()) console.log(JSON.stringify(r));
}
