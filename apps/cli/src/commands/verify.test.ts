/**
 * `yizheng verify` over a package built with @yizheng/evidence's builder (a platform root and signing key made
 * with @yizheng/pki): exit 0 and a Chinese (or English) summary when intact; exit 1 naming the altered file;
 * exit 1 naming `platform-root` under another root; exit 2 for what is not a package.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2, sm3, toHex } from '@yizheng/gm';
import { buildEvidencePackage, canonicalJson, FILES } from '@yizheng/evidence';
import { buildCertificate, signerFromSm2Key, toPem } from '@yizheng/pki';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-verify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const now = new Date('2026-11-24T12:00:00Z');

function platform() {
  const rootKey = sm2.generateKeyPair().privateKey;
  const key = sm2.generateKeyPair().privateKey;
  const validity = { notBefore: now, notAfter: new Date(now.getTime() + 1e10) };
  const root = buildCertificate({
    subject: { CN: '医证根' },
    serial: 1n,
    ...validity,
    signer: signerFromSm2Key(rootKey),
    extensions: { basicConstraints: { ca: true } },
  });
  const cert = buildCertificate({
    subject: { CN: '医证平台' },
    issuer: root,
    subjectPublicKeyInfo: key.publicKey.toSpki(),
    serial: 2n,
    ...validity,
    signer: signerFromSm2Key(rootKey),
  });
  return {
    key,
    rootPem: toPem(root, 'CERTIFICATE'),
    chainPem: toPem(cert, 'CERTIFICATE') + toPem(root, 'CERTIFICATE'),
  };
}

const p = platform();
const original = enc('门诊病历 原文');
const record = enc(canonicalJson({ id: 'dig_1', originalSm3: toHex(sm3(original)) }));
const zip = buildEvidencePackage({
  recordId: 'dig_1',
  kind: 'digest',
  evidenceHash: toHex(sm3(record)),
  logHash: 'sm3',
  logOrigin: 'test/log',
  createdAt: now.toISOString(),
  files: { [FILES.record]: record, [FILES.original]: original, [FILES.platformChain]: enc(p.chainPem) },
  sign: (d) => sm2.sign(p.key, d),
});
const file = (name: string, data: Uint8Array | string): string => {
  const f = join(dir, name);
  writeFileSync(f, data);
  return f;
};
const pkg = file('ok.zip', zip);
const root = file('root.pem', p.rootPem);

describe('yizheng verify', () => {
  it('exit 0 with a Chinese summary for an intact package pinned to its root', async () => {
    const r = await cli('verify', pkg, '--root', root);
    expect(r.code).toBe(0);
    expect(r.out).toContain('结论：证据包完整有效。');
    expect(r.out).toContain('dig_1');
    expect(r.out).not.toContain('未指定 --root');
  });

  it('exit 1 naming the altered file (English on request)', async () => {
    const files = unzipSync(zip);
    files[FILES.original] = new Uint8Array(enc('门诊病历 改过'));
    const r = await cli('verify', file('bad.zip', zipSync(files)), '--root', root, '--lang', 'en-US');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Failed parts: .*original\.bin/);
  });

  it('exit 1 naming platform-root under another root; a note when no root is given', async () => {
    const other = file('other.pem', platform().rootPem);
    const r = await cli('verify', pkg, '--root', other);
    expect(r.code).toBe(1);
    expect(r.out).toContain('platform-root');
    const unpinned = await cli('verify', pkg);
    expect(unpinned.code).toBe(0);
    expect(unpinned.out).toContain('未指定 --root');
  });

  it('exit 2 for what is not a package, or an unknown --lang', async () => {
    expect((await cli('verify', file('x.zip', 'not a zip'))).code).toBe(2);
    expect((await cli('verify', file('y.zip', zipSync({ 'a.txt': enc('a') })))).code).toBe(2);
    expect((await cli('verify', pkg, '--lang', 'fr')).code).toBe(2);
    expect((await cli('verify', join(dir, 'missing.zip'))).code).toBe(2);
  });

  it('exit 1 naming a failed cryptographic check, in Chinese and by its stable name in --json', async () => {
    const signature = enc('not a CMS SignedData');
    const rec = enc(
      canonicalJson({ id: 'sig_1', signatureFormat: 'cms', signatureSm3: toHex(sm3(signature)) }),
    );
    const bad = buildEvidencePackage({
      recordId: 'sig_1',
      kind: 'signature',
      evidenceHash: toHex(sm3(rec)),
      logHash: 'sm3',
      logOrigin: 'test/log',
      createdAt: now.toISOString(),
      files: { [FILES.record]: rec, [FILES.signature]: signature, [FILES.platformChain]: enc(p.chainPem) },
      sign: (d) => sm2.sign(p.key, d),
    });
    const path = file('bad-cms.zip', bad);
    const r = await cli('verify', path, '--root', root);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/✗ 未通过\s+signature\.bin · CMS 签名验证 \[cms\]/);
    const json = JSON.parse((await cli('verify', path, '--root', root, '--json')).out) as {
      checks: { part: string; check: string; status: string }[];
    };
    expect(json.checks).toContainEqual(
      expect.objectContaining({ part: 'signature.bin', check: 'cms', status: 'fail' }),
    );
  });

  it('--json prints the machine-readable result', async () => {
    const r = await cli('verify', pkg, '--root', root, '--json');
    expect(JSON.parse(r.out)).toMatchObject({ valid: true, rootPinned: true, recordId: 'dig_1' });
  });
});
