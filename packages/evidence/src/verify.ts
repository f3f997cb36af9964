/** The Node entry of the offline verifier: {@link verifyPackageWith} with the Node provider. */
import { nodeCrypto } from './node-provider.js';
import { verifyPackageWith, type PackageVerification, type VerifyPackageOptions } from './verify-core.js';

export type { PackageCheck, PackageVerification, VerifyPackageOptions } from './verify-core.js';

/** Verifies an evidence package with native SM2 and node:crypto; throws EvidenceError only for a non-package. */
export function verifyEvidencePackage(
  zip: Uint8Array,
  options: VerifyPackageOptions = {},
): PackageVerification {
  return verifyPackageWith(zip, options, nodeCrypto);
}
