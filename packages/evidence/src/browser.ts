/**
 * `@yizheng/evidence/browser`: the offline verifier for the public verification page — the same checks as
 * `yizheng verify`, with the TypeScript SM2/SM3 engine and WebCrypto (RSA, ECDSA, SHA-1/384/512). Build it with
 * the aliases of `browser-aliases.ts` (node:crypto, node:net and `@yizheng/gm` → browser modules).
 */
import { installBuffer } from './browser/buffer.js';
import { browserCrypto } from './browser/provider.js';
import { runWithReplay } from './browser/replay.js';
import { verifyPackageWith, type PackageVerification, type VerifyPackageOptions } from './verify-core.js';

export { EvidenceError, isEvidenceError, type EvidenceErrorCode } from './errors.js';
export { FILES, type PackageManifest } from './format.js';
export type { PackageCheck } from './checks.js';
export type { PackageVerification, VerifyPackageOptions } from './verify-core.js';
export { browserCrypto } from './browser/provider.js';
export { checkLabel, CHECK_LABELS, type Lang } from './messages.js';

/** Verifies an evidence package in the browser; rejects with EvidenceError only for a non-package. */
export async function verifyEvidencePackageInBrowser(
  zip: Uint8Array,
  options: VerifyPackageOptions = {},
  subtle: SubtleCrypto = globalThis.crypto.subtle,
): Promise<PackageVerification> {
  installBuffer();
  return runWithReplay(subtle, () => verifyPackageWith(zip, options, browserCrypto));
}
