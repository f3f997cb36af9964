import { describe, expect, it } from 'vitest';
import { makePackage, type Corruption } from './fixture.test-support.js';
import { FILES, verifyEvidencePackage, type PackageVerification } from './index.js';

const failed = (r: PackageVerification): string[] =>
  r.checks.filter((c) => c.status === 'fail').map((c) => `${c.part}#${c.check}`);

const EXPECTED: ReadonlyArray<[Corruption, string]> = [
  ['signature', `${FILES.signature}#cms`],
  ['signer-validity', `${FILES.certificates}#signer-validity`],
  ['signer-chain', `${FILES.certificates}#signer-chain`],
  ['timestamp-imprint', `${FILES.timestamp}#timestamp-imprint`],
  ['timestamp-signature', `${FILES.timestamp}#timestamp-signature`],
  ['timestamp-ess-cert-id', `${FILES.timestamp}#timestamp-ess-cert-id`],
  ['timestamp-tsa-eku', `${FILES.timestamp}#timestamp-tsa-eku`],
  ['timestamp-tsa-validity', `${FILES.timestamp}#timestamp-tsa-validity`],
  ['checkpoint-signature', `${FILES.checkpoint}#signature`],
  ['checkpoint-timestamp-imprint', `${FILES.checkpointTimestamp}#timestamp-imprint`],
  ['checkpoint-timestamp-chain', `${FILES.checkpointTimestamp}#timestamp-tsa-chain`],
  ['evidence-timestamp-imprint', `${FILES.evidenceTimestamp}#timestamp-imprint`],
  ['evidence-timestamp-chain', `${FILES.evidenceTimestamp}#timestamp-tsa-chain`],
  ['inclusion', `${FILES.inclusionProof}#inclusion`],
  ['seal', `${FILES.reportContent}#seal`],
  ['manifest-signature', `${FILES.manifestSignature}#signature`],
];

describe('offline verifier: every cryptographic check (Node provider)', () => {
  for (const signerKind of ['sm2', 'rsa', 'p256'] as const) {
    for (const format of ['cms', 'raw'] as const) {
      it(`a ${signerKind} ${format} package verifies in full against the root`, async () => {
        const { zip, rootPem } = await makePackage({ signerKind, format });
        const r = verifyEvidencePackage(zip, { root: rootPem });
        expect(failed(r)).toEqual([]);
        expect(r.valid).toBe(true);
        const sig = format === 'cms' ? 'cms' : 'raw-signature';
        expect(r.checks.find((c) => c.part === FILES.signature && c.check === sig)?.status).toBe('pass');
        const passed = new Set(
          r.checks.filter((c) => c.status === 'pass').map((c) => `${c.part}#${c.check}`),
        );
        for (const c of [
          `${FILES.certificates}#signer-validity`,
          `${FILES.certificates}#signer-chain`,
          `${FILES.timestamp}#timestamp-signature`,
          `${FILES.timestamp}#timestamp-imprint`,
          `${FILES.timestamp}#timestamp-ess-cert-id`,
          `${FILES.timestamp}#timestamp-tsa-eku`,
          `${FILES.timestamp}#timestamp-tsa-validity`,
          `${FILES.timestamp}#timestamp-tsa-chain`,
          `${FILES.checkpoint}#signature`,
          `${FILES.checkpointTimestamp}#timestamp-signature`,
          `${FILES.checkpointTimestamp}#timestamp-tsa-chain`,
          `${FILES.evidenceTimestamp}#timestamp-signature`,
          `${FILES.evidenceTimestamp}#timestamp-imprint`,
          `${FILES.evidenceTimestamp}#timestamp-tsa-chain`,
          `${FILES.inclusionProof}#inclusion`,
          `${FILES.reportContent}#seal`,
          `platform-root#root-pinned`,
        ])
          expect(passed.has(c), c).toBe(true);
        expect(r.checkpoint?.size).toBe(5);
      });
    }
  }

  for (const [corrupt, check] of EXPECTED) {
    it(`${corrupt}: fails ${check} by name`, async () => {
      const { zip, rootPem } = await makePackage({ corrupt });
      const r = verifyEvidencePackage(zip, { root: rootPem });
      expect(r.valid).toBe(false);
      expect(failed(r)).toContain(check);
    });
  }

  it("a detached CMS checked against the digest alone: its messageDigest must be the record's digest", async () => {
    const ok = await makePackage({ digestOnly: true });
    const r = verifyEvidencePackage(ok.zip, { root: ok.rootPem });
    expect(failed(r)).toEqual([]);
    expect(r.checks.find((c) => c.check === 'cms')?.detail).toContain('over the digest');
    const wrong = await makePackage({ digestOnly: 'wrong' });
    expect(failed(verifyEvidencePackage(wrong.zip, { root: wrong.rootPem }))).toContain(
      `${FILES.signature}#cms`,
    );
  });

  it('a raw signature over another original fails the signature check', async () => {
    const { zip, rootPem } = await makePackage({ format: 'raw', corrupt: 'signature', signerKind: 'p256' });
    expect(failed(verifyEvidencePackage(zip, { root: rootPem }))).toContain(
      `${FILES.signature}#raw-signature`,
    );
  });
});
