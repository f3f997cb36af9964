/** `@yizheng/evidence`: the evidence package format, its builder, and the offline verifier. */
export * from './errors.js';
export {
  FILES,
  PACKAGE_FORMAT,
  PACKAGE_VERSION,
  type InclusionProofFile,
  type PackageManifest,
} from './format.js';
export { buildEvidencePackage, type BuildPackageOptions } from './build.js';
export {
  verifyEvidencePackage,
  type PackageCheck,
  type PackageVerification,
  type VerifyPackageOptions,
} from './verify.js';
export { verifyPackageWith, MAX_ENTRIES } from './verify-core.js';
export type { EvidenceCrypto } from './crypto.js';
export { nodeCrypto } from './node-provider.js';
export { checkLabel, CHECK_LABELS, type Lang } from './messages.js';
export { canonicalJson, type CanonicalValue } from './canonical-json.js';
export {
  LIVE_PART,
  RECORD_PART,
  verifyLiveConsistency,
  verifyRecordProof,
  type PublicCheckpoint,
  type PublicConsistency,
  type PublicRecordProof,
} from './live.js';
