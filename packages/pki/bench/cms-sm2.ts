/**
 * CMS SM2 attached-signature verification per second (GM/T 0010 SignedData with signed attributes and the
 * signer certificate included, 1 KiB of content) against raw SM2 verification by `@yizheng/gm` (key imported
 * once) of the same signature over the same signed-attributes bytes, in the same run. The ratio says how much
 * CMS parsing, the messageDigest check and attribute handling cost on top of the curve.
 * - `cms-sm2-attached-verify`: `createCmsVerifier` (signer certificate and SM2 key cached);
 * - `cms-sm2-attached-verify-uncached`: `verifySignedData` on the bytes (everything parsed per call).
 * Both sides cycle through 32 different messages (other content, so other digests and signatures): what is
 * cached is the signer's certificate and key, as the issue defines, never a message. Each CMS verification
 * walks the whole message, hashes the content, checks messageDigest/contentType/signingTime and verifies
 * the signature. Operations per second are per CPU-second of the main thread where Linux tells it (`clock`
 * in each line; see compareOps), both sides measured in alternating slices. The last line is the issue's
 * figure.
 *
 * Before them, a `bound` line: what part of the cached verification is the curve, what part is SM3 of the
 * content (which messageDigest makes every verifier compute), and what is left for parsing, the attribute
 * checks and the lookups; and the ratio no CMS verifier could pass on this machine, one that did nothing but
 * the raw verification and that hash (`ceilingRatio`). Each figure comes from its own pair of alternating
 * slices against the raw verification, so the parts add up only roughly.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2, sm3 } from '@yizheng/gm';
import { parseCertificate, type ParsedCertificate } from '../src/certificate.js';
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

/** Distinct messages cycled through, so that nothing can be answered from a per-message cache. */
const MESSAGES = 32;

/** The benchmark's signer certificate and its {@link MESSAGES} SignedData messages (1 KiB of content each). */
export function cmsSm2Messages(): { certificate: ParsedCertificate; messages: Uint8Array[] } {
  const { key, cert } = opensslSm2Certificate();
  const certificate = parseCertificate(cert);
  const signer = signerFromPrivateKey(key);
  const base = new TextEncoder().encode('门诊病历'.repeat(86)).subarray(0, 1024);
  const messages = Array.from({ length: MESSAGES }, (_, i) => {
    const content = Uint8Array.from(base);
    content[0] = i; // another content, so another messageDigest and signature
    return buildSignedData({ content, signers: [{ signer, certificate }], oids: 'gmt0010' });
  });
  return { certificate, messages };
}

/** Where the time of one cached CMS verification goes (µs, main-thread CPU), and the ratio no verifier can pass. */
export interface CmsSm2Bound {
  readonly bound: 'cms-sm2-attached-verify';
  readonly rawVerifyUs: number;
  readonly contentSm3Us: number;
  readonly cmsVerifyUs: number;
  readonly restUs: number;
  readonly ceilingRatio: number;
}

export function benchCmsSm2(seconds = 3): { results: BenchResult[]; bound: CmsSm2Bound } {
  const { certificate, messages } = cmsSm2Messages();
  const policy = { sm2: gmSm2Provider };
  const verifier = createCmsVerifier({ policy: { sm2: cachedSm2Provider() } });
  // The reference: the same signatures over the same signed-attributes bytes, key imported once.
  const publicKey = sm2.importPublicKey(certificate.spki);
  const raws = messages.map((cms) => {
    const check = verifySignedData(cms, { policy });
    if (!check.valid) throw new Error(`self-check failed: ${JSON.stringify(check.failures)}`);
    if (!verifier.verify(cms).valid) throw new Error('cached verifier self-check failed');
    const sd = parseSignedData(cms);
    const si = sd.signers[0];
    if (!si?.signedAttrs || !sd.content) throw new Error('no signed attributes or no content');
    if (!sm2.verify(publicKey, si.signedAttrs, si.signature)) throw new Error('reference self-check failed');
    return { signed: si.signedAttrs, signature: si.signature, content: sd.content };
  });

  let r = 0;
  const raw = (): void => {
    const m = raws[r++ % MESSAGES];
    if (!m || !sm2.verify(publicKey, m.signed, m.signature)) throw new Error('raw verification failed');
  };
  let u = 0;
  let c = 0;
  const [ref1, uncached] = compareOps(
    raw,
    () => {
      const cms = messages[u++ % MESSAGES];
      if (!cms || !verifySignedData(cms, { policy }).valid) throw new Error('verification failed');
    },
    seconds,
  );
  const [ref2, cached] = compareOps(
    raw,
    () => {
      const cms = messages[c++ % MESSAGES];
      if (!cms || !verifier.verify(cms).valid) throw new Error('verification failed');
    },
    seconds,
  );
  let h = 0;
  const [ref3, hashes] = compareOps(
    raw,
    () => {
      const m = raws[h++ % MESSAGES];
      if (!m || sm3(m.content).length !== 32) throw new Error('sm3 failed');
    },
    seconds,
  );
  const us = (opsPerSecond: number): number => Number((1e6 / opsPerSecond).toFixed(2));
  const rawUs = us((ref2 + ref3) / 2);
  const bound: CmsSm2Bound = {
    bound: 'cms-sm2-attached-verify',
    rawVerifyUs: rawUs,
    contentSm3Us: us(hashes),
    cmsVerifyUs: us(cached),
    restUs: Number((us(cached) - rawUs - us(hashes)).toFixed(2)),
    ceilingRatio: Number((rawUs / (rawUs + us(hashes))).toFixed(3)),
  };
  return {
    results: [
      report('cms-sm2-attached-verify-uncached', uncached, ref1),
      report('cms-sm2-attached-verify', cached, ref2),
    ],
    bound,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, bound } = benchCmsSm2();
  console.log(JSON.stringify(bound));
  for (const r of results) console.log(JSON.stringify(r));
}
