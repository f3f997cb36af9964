import { sm2, sm3, toHex } from '@yizheng/gm';
import {
  createLogHasher,
  InMemoryNodeStore,
  integrate,
  inclusionProof,
  createSm2NoteSigner,
  signCheckpoint,
} from '@yizheng/ledger';
import { buildCertificate, signerFromSm2Key, toPem } from '@yizheng/pki';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { buildEvidencePackage, FILES, isEvidenceError, verifyEvidencePackage } from './index.js';
import { canonicalJson } from './canonical-json.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ORIGIN = 'test.yizheng/log';
const now = new Date('2026-11-24T12:00:00Z');

/** A platform (root + signing key), a 5-leaf SM3 log, and a package for leaf 3 built as the server does. */
async function fixture() {
  const rootKey = sm2.generateKeyPair().privateKey;
  const platformKey = sm2.generateKeyPair().privateKey;
  const rootDer = buildCertificate({
    subject: { CN: '根' },
    serial: 1n,
    notBefore: now,
    notAfter: new Date(now.getTime() + 1e10),
    signer: signerFromSm2Key(rootKey),
    extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ['keyCertSign'] } },
  });
  const platformDer = buildCertificate({
    subject: { CN: '平台' },
    issuer: rootDer,
    subjectPublicKeyInfo: platformKey.publicKey.toSpki(),
    serial: 2n,
    notBefore: now,
    notAfter: new Date(now.getTime() + 1e10),
    signer: signerFromSm2Key(rootKey),
  });
  const original = enc('住院病历首页 原文');
  const record = canonicalJson({ id: 'sig_X', originalSm3: toHex(sm3(original)), signatureFormat: null });
  const recordBytes = enc(record);
  const evidenceHash = sm3(recordBytes);
  const hasher = createLogHasher('sm3', (d) => sm3(d));
  const store = new InMemoryNodeStore();
  const entries = [enc('a'), enc('b'), enc('c'), evidenceHash, enc('e')];
  const integrated = await integrate(
    hasher,
    store,
    0,
    entries.map((e) => hasher.hashLeaf(e)),
  );
  store.putNodes(integrated.nodes);
  const root = integrated.root;
  const proof = await inclusionProof(hasher, store, 3, 5);
  const signer = createSm2NoteSigner(
    { sm2, sm3 },
    { name: ORIGIN, privateKey: platformKey, publicKey: platformKey.publicKey },
  );
  const note = signCheckpoint({ origin: ORIGIN, size: 5, rootHash: root }, [signer]);
  const view = { recordId: 'sig_X', version: 1 };
  const viewBytes = enc(canonicalJson(view));
  const files: Record<string, Uint8Array> = {
    [FILES.record]: recordBytes,
    [FILES.original]: original,
    [FILES.inclusionProof]: enc(
      JSON.stringify({ hash: 'sm3', index: 3, treeSize: 5, proof: proof.map((h) => toHex(h)) }),
    ),
    [FILES.checkpoint]: enc(note),
    [FILES.platformChain]: enc(toPem(platformDer, 'CERTIFICATE') + toPem(rootDer, 'CERTIFICATE')),
    [FILES.reportContent]: enc(
      JSON.stringify({
        view,
        seal: {
          contentSm3: toHex(sm3(viewBytes)),
          signature: Buffer.from(sm2.sign(platformKey, viewBytes)).toString('base64'),
        },
      }),
    ),
    [FILES.reportPdf]: enc('%PDF-1.7 …'),
    [FILES.verification]: enc('{"intact":true}'),
  };
  const zip = buildEvidencePackage({
    recordId: 'sig_X',
    kind: 'signature',
    evidenceHash: toHex(evidenceHash),
    logHash: 'sm3',
    logOrigin: ORIGIN,
    createdAt: now.toISOString(),
    files,
    sign: (d) => sm2.sign(platformKey, d),
  });
  return { zip, rootPem: toPem(rootDer, 'CERTIFICATE') };
}

function alter(zip: Uint8Array, name: string, change: (b: Uint8Array) => Uint8Array): Uint8Array {
  const files = unzipSync(zip);
  files[name] = new Uint8Array(change(files[name]!));
  return zipSync(files);
}
const flipLast = (b: Uint8Array): Uint8Array => {
  const c = b.slice();
  c[c.length - 1] = c[c.length - 1]! ^ 0x01;
  return c;
};

describe('evidence package', () => {
  it('verifies with nothing but the package and the root', async () => {
    const { zip, rootPem } = await fixture();
    const r = verifyEvidencePackage(zip, { root: rootPem });
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.rootPinned).toBe(true);
    expect(r.checks.find((c) => c.check === 'inclusion')?.status).toBe('pass');
    expect(r.checks.find((c) => c.check === 'seal')?.status).toBe('pass');
  });

  it('names the part when any single file is altered', async () => {
    const { zip, rootPem } = await fixture();
    for (const name of Object.keys(unzipSync(zip))) {
      const r = verifyEvidencePackage(alter(zip, name, flipLast), { root: rootPem });
      expect(r.valid, name).toBe(false);
      expect(r.failedParts, name).toContain(name);
    }
  });

  it('fails on another root, a removed file and an added file', async () => {
    const { zip } = await fixture();
    const other = await fixture();
    const r = verifyEvidencePackage(zip, { root: other.rootPem });
    expect(r.failedParts).toEqual(['platform-root']);
    const files = Object.fromEntries(Object.entries(unzipSync(zip)).filter(([n]) => n !== FILES.original));
    expect(verifyEvidencePackage(zipSync(files)).failedParts).toContain(FILES.original);
    const extra = unzipSync(zip);
    extra['extra.txt'] = strToU8('x');
    expect(verifyEvidencePackage(zipSync(extra)).failedParts).toEqual(['extra.txt']);
  });

  it('PACKAGE_UNREADABLE for what is not a zip; PACKAGE_FORMAT for a zip without a manifest', () => {
    const err = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(
      isEvidenceError(
        err(() => verifyEvidencePackage(enc('not a zip'))),
        'PACKAGE_UNREADABLE',
      ),
    ).toBe(true);
    expect(
      isEvidenceError(
        err(() => verifyEvidencePackage(zipSync({ 'a.txt': enc('a') }))),
        'PACKAGE_FORMAT',
      ),
    ).toBe(true);
  });
});
