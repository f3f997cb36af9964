/**
 * The evidence package (证据包): a zip whose every file is listed, with its SM3, in `manifest.json`, which the
 * platform signs (`manifest.sig`, SM2 over the manifest bytes, user ID 1234567812345678). Files:
 *
 *   manifest.json            this list + record id, kind, evidence hash, log hash; signed by the platform
 *   manifest.sig             DER SM2 signature over manifest.json
 *   record.json              the canonical record (UTF-8 bytes as hashed): SM3 = the evidence hash = the log entry
 *   original.bin             the original (原文), when stored
 *   signature.bin            the signature (CMS DER or raw value), when any
 *   certificates.pem         the signer's certificates
 *   timestamp.tsr            the RFC 3161 token, when any
 *   evidence-timestamp.tsr   the platform TSA's RFC 3161 token over the evidence hash (the digest-timestamp job's
 *                            reinforcement of a digest record, 摘要数据加固时间戳), when stamped
 *   file.bin                 the evidence file (file records)
 *   log/inclusion-proof.json { hash, index, treeSize, proof[] (hex) }: the leaf under the checkpoint
 *   log/checkpoint.txt       the signed checkpoint (C2SP signed note, platform SM2 key)
 *   log/checkpoint.tsr       the platform TSA's RFC 3161 token over the checkpoint note, when stamped
 *   platform-chain.pem       the platform signing certificate, then the internal root
 *   report/content.json      { view, seal }: the report content and the platform's seal over it
 *   report/report.pdf        the report (凭证报告)
 *   verification.json        the server's verification report when the package was made
 */
export const PACKAGE_FORMAT = 'yizheng-evidence-package';
export const PACKAGE_VERSION = 1;

export const FILES = {
  manifest: 'manifest.json',
  manifestSignature: 'manifest.sig',
  record: 'record.json',
  original: 'original.bin',
  signature: 'signature.bin',
  certificates: 'certificates.pem',
  timestamp: 'timestamp.tsr',
  evidenceTimestamp: 'evidence-timestamp.tsr',
  file: 'file.bin',
  inclusionProof: 'log/inclusion-proof.json',
  checkpoint: 'log/checkpoint.txt',
  checkpointTimestamp: 'log/checkpoint.tsr',
  platformChain: 'platform-chain.pem',
  reportContent: 'report/content.json',
  reportPdf: 'report/report.pdf',
  verification: 'verification.json',
} as const;

export interface PackageManifest {
  format: typeof PACKAGE_FORMAT;
  version: typeof PACKAGE_VERSION;
  recordId: string;
  kind: 'signature' | 'digest' | 'file';
  /** hex SM3 of record.json. */
  evidenceHash: string;
  /** The Merkle log's hash (RFC 9162 with SM3 or SHA-256). */
  logHash: 'sm3' | 'sha256';
  /** Log origin (first line of the checkpoint). */
  logOrigin: string;
  createdAt: string;
  /** file name → hex SM3 of its bytes (every file except manifest.json and manifest.sig). */
  files: Record<string, string>;
}

export interface InclusionProofFile {
  hash: 'sm3' | 'sha256';
  index: number;
  treeSize: number;
  proof: string[];
}
