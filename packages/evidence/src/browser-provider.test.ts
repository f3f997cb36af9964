/**
 * The browser provider, end to end in Node: `@yizheng/evidence/browser` bundled by vite with the aliases of
 * browser-aliases.ts (so @yizheng/pki runs on the node:crypto shim: WebCrypto through the replay oracle, the
 * TypeScript SM2/SM3 engine), then every package of crypto-checks.test.ts verified with that bundle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserVerifierAliases } from './browser-aliases.js';
import { makePackage, type Corruption } from './fixture.test-support.js';
import type { PackageVerification, VerifyPackageOptions } from './verify-core.js';

type BrowserVerify = (zip: Uint8Array, options?: VerifyPackageOptions) => Promise<PackageVerification>;

let dir: string;
let verify: BrowserVerify;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yz-evidence-browser-'));
  await build({
    configFile: false,
    logLevel: 'error',
    resolve: { alias: browserVerifierAliases() },
    build: {
      outDir: dir,
      emptyOutDir: true,
      minify: false,
      lib: { entry: join(import.meta.dirname, 'browser.ts'), formats: ['es'], fileName: 'verifier' },
    },
  });
  const mod = (await import(pathToFileURL(join(dir, 'verifier.js')).href)) as {
    verifyEvidencePackageInBrowser: BrowserVerify;
  };
  verify = mod.verifyEvidencePackageInBrowser;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failed = (r: PackageVerification): string[] =>
  r.checks.filter((c) => c.status === 'fail').map((c) => `${c.part}#${c.check}`);

describe('offline verifier with the browser provider (vite bundle)', () => {
  for (const signerKind of ['sm2', 'rsa', 'p256'] as const) {
    for (const format of ['cms', 'raw'] as const) {
      it(`a ${signerKind} ${format} package verifies in full`, async () => {
        const { zip, rootPem } = await makePackage({ signerKind, format });
        const r = await verify(zip, { root: rootPem });
        expect(failed(r)).toEqual([]);
        expect(r.checks.find((c) => c.check === 'signer-chain')?.status).toBe('pass');
        // The pushed token, the reinforcement stamp over the evidence hash, the checkpoint's stamp.
        expect(
          r.checks.filter((c) => c.check === 'timestamp-tsa-chain').map((c) => [c.part, c.status]),
        ).toEqual([
          ['timestamp.tsr', 'pass'],
          ['evidence-timestamp.tsr', 'pass'],
          ['log/checkpoint.tsr', 'pass'],
        ]);
      });
    }
  }

  const cases: ReadonlyArray<[Corruption, string, ('sm2' | 'rsa' | 'p256')?]> = [
    ['signature', 'signature.bin#cms', 'rsa'],
    ['signature', 'signature.bin#cms', 'p256'],
    ['signer-validity', 'certificates.pem#signer-validity', 'rsa'],
    ['signer-chain', 'certificates.pem#signer-chain', 'p256'],
    ['timestamp-imprint', 'timestamp.tsr#timestamp-imprint'],
    ['timestamp-signature', 'timestamp.tsr#timestamp-signature'],
    ['timestamp-ess-cert-id', 'timestamp.tsr#timestamp-ess-cert-id'],
    ['timestamp-tsa-eku', 'timestamp.tsr#timestamp-tsa-eku'],
    ['timestamp-tsa-validity', 'timestamp.tsr#timestamp-tsa-validity'],
    ['checkpoint-signature', 'log/checkpoint.txt#signature'],
    ['checkpoint-timestamp-imprint', 'log/checkpoint.tsr#timestamp-imprint'],
    ['checkpoint-timestamp-chain', 'log/checkpoint.tsr#timestamp-tsa-chain'],
    ['evidence-timestamp-imprint', 'evidence-timestamp.tsr#timestamp-imprint'],
    ['evidence-timestamp-chain', 'evidence-timestamp.tsr#timestamp-tsa-chain'],
    ['inclusion', 'log/inclusion-proof.json#inclusion'],
    ['seal', 'report/content.json#seal'],
    ['manifest-signature', 'manifest.sig#signature'],
  ];
  for (const [corrupt, check, signerKind] of cases) {
    it(`${corrupt}${signerKind ? ` (${signerKind})` : ''}: fails ${check} by name`, async () => {
      const { zip, rootPem } = await makePackage({ corrupt, ...(signerKind ? { signerKind } : {}) });
      const r = await verify(zip, { root: rootPem });
      expect(r.valid).toBe(false);
      expect(failed(r)).toContain(check);
    });
  }

  it('rejects what is not a zip with PACKAGE_UNREADABLE', async () => {
    await expect(verify(new TextEncoder().encode('not a zip'))).rejects.toMatchObject({
      code: 'PACKAGE_UNREADABLE',
    });
  });
});
