/**
 * What an evidence report (凭证报告) shows: a plain, already-resolved view of one record. The renderer
 * (render.ts) turns it into PDF bytes and does nothing else; the service that builds it decides what is shown
 * (patient identifiers arrive masked, times as ISO-8601 UTC strings).
 *
 * Every field is JSON (strings, integers, booleans, arrays, objects), so the view is also the exact content the
 * platform signs (seal.ts: SM2 over SM3 of its canonical JSON) and what an evidence package carries beside the PDF.
 */
export type ReportLocale = 'zh-CN' | 'en-US';

export type EvidenceKind = 'signature' | 'digest' | 'file';

/** One line of the verification table. `status` drives the colour and the word shown (通过 / 未通过 / 不适用). */
export interface ReportCheck {
  /** Stable check name, e.g. `signature`, `certificate-chain`, `timestamp`, `evidence-hash`, `log-inclusion`. */
  name: string;
  status: 'pass' | 'fail' | 'skip';
  /** Optional human detail (may be in either language). */
  detail?: string;
}

export interface ReportCertificate {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** SM3 of the certificate DER, hex. */
  sm3: string;
}

export interface ReportTimestamp {
  /** TSTInfo.genTime, ISO-8601 UTC. */
  genTime: string;
  /** The TSA's subject (or tsa GeneralName). */
  tsa: string;
  serialNumber: string;
  policy: string;
  /** Hash algorithm of the message imprint, e.g. `SM3`, `SHA-256`. */
  hashAlgorithm: string;
}

export interface ReportHash {
  /** What was hashed, a stable name: `original`, `signature`, `certificates`, `timestamp`, `file`, `digest`, `evidence`. */
  name: string;
  algorithm: string;
  value: string;
}

export interface ReportLog {
  /** Leaf index of the record in the Merkle log. */
  index: number;
  /** Tree size of the checkpoint the proof is against (absent while the leaf awaits integration). */
  treeSize?: number;
  /** Root hash of that tree, hex. */
  rootHash?: string;
  /** Audit path, hex hashes from the leaf upwards. */
  inclusionProof: string[];
  /** The signed checkpoint (C2SP signed note text). */
  checkpoint?: string;
}

export interface ReportView {
  /** Report format version (bumped when the signed content changes shape). */
  version: 1;
  locale: ReportLocale;
  /** The issuing unit (config): its name. */
  unitName: string;
  recordId: string;
  kind: EvidenceKind;
  project: { id: string; name: string };
  application: { id: string; name: string };
  serialNumber: string;
  businessType?: string;
  sourceSystem?: string;
  department?: string;
  /** Already masked (mask.ts), never the clear identifier. */
  patient?: { name?: string; id?: string; visitNumber?: string };
  signer?: string;
  signatureFormat?: string;
  /** The signing time claimed or proven (ISO-8601 UTC). */
  signedAt?: string;
  receivedAt: string;
  file?: { name: string; size: number; contentType: string };
  digest?: { category?: string; algorithm: string; value: string };
  certificate?: ReportCertificate;
  timestamp?: ReportTimestamp;
  /** Digest records: the platform TSA's reinforcement timestamp over the evidence hash (digest-timestamp job). */
  reinforcementTimestamp?: ReportTimestamp;
  hashes: ReportHash[];
  checks: ReportCheck[];
  /** Overall result at generation time. */
  valid: boolean;
  log: ReportLog;
  /** Public verification page for this record (the QR code opens it). */
  verifyUrl: string;
  /** When the report was generated (ISO-8601 UTC); also the PDF's CreationDate, so rendering is reproducible. */
  generatedAt: string;
}

/** The platform's signature over the report content (seal.ts). */
export interface ReportSeal {
  algorithm: 'SM3withSM2';
  /** SM3 of the canonical JSON of the ReportView, hex. */
  contentSm3: string;
  /** DER SM2 signature (user ID 1234567812345678) over the canonical JSON, base64. */
  signature: string;
  /** SM3 of the platform's SubjectPublicKeyInfo (or certificate), hex: which key signed. */
  keyId: string;
}
