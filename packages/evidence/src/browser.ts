/**
 * `@yizheng/evidence/browser`: the offline verifier for the public verification page — the same checks as
 * `yizheng verify`, with the TypeScript SM2/SM3 engine and WebCrypto (RSA, ECDSA, SHA-1/384/512). Build it with
 * the aliases of `browser-aliases.ts` (node:crypto, node:net and `@yizheng/gm` → browser modules).
 */
import { installBuffer } from './browser/buffer.js';
import { browserCrypto } from './browser/provider.js';
import { runWithReplay } from './browser/replay.js';
import { verifyLiveConsistency, verifyRecordProof, type PublicRecordProof } from './live.js';
import type { PackageCheck } from './checks.js';
import { verifyPackageWith, type PackageVerification, type VerifyPackageOptions } from './verify-core.js';

export { EvidenceError, isEvidenceError, type EvidenceErrorCode } from './errors.js';
export { FILES, type PackageManifest } from './format.js';
export type { PackageCheck } from './checks.js';
export type { PackageVerification, VerifyPackageOptions } from './verify-core.js';
export { browserCrypto } from './browser/provider.js';
export { checkLabel, CHECK_LABELS, type Lang } from './messages.js';
export {
  LIVE_PART,
  RECORD_PART,
  type PublicCheckpoint,
  type PublicConsistency,
  type PublicRecordProof,
} from './live.js';

/** Verifies an evidence package in the browser; rejects with EvidenceError only for a non-package. */
export async function verifyEvidencePackageInBrowser(
  zip: Uint8Array,
  options: VerifyPackageOptions = {},
  subtle: SubtleCrypto = globalThis.crypto.subtle,
): Promise<PackageVerification> {
  installBuffer();
  return runWithReplay(subtle, () => verifyPackageWith(zip, options, browserCrypto));
}

/** The QR link's checks on a record's public proof material, in the browser. */
export async function verifyRecordProofInBrowser(
  proof: PublicRecordProof,
  root?: Uint8Array | string,
  subtle: SubtleCrypto = globalThis.crypto.subtle,
): Promise<PackageCheck[]> {
  installBuffer();
  return runWithReplay(subtle, () => verifyRecordProof(proof, browserCrypto, root));
}

/** The live consistency check, in the browser. */
export async function verifyLiveConsistencyInBrowser(
  o: Omit<Parameters<typeof verifyLiveConsistency>[0], 'crypto'>,
  subtle: SubtleCrypto = globalThis.crypto.subtle,
): Promise<PackageCheck[]> {
  installBuffer();
  return runWithReplay(subtle, () => verifyLiveConsistency({ ...o, crypto: browserCrypto }));
}
