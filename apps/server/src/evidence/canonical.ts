/**
 * The canonical evidence record: deterministic JSON (`audit/canonical-json.ts`: sorted keys, no whitespace,
 * integers only) of the stored columns of an `evidence` row, and the evidence hash = SM3(UTF-8 canonical bytes),
 * which is the entry of the record's Merkle-log leaf.
 *
 *   {"appId":…,"businessType":…,"category":…,"certificatesSm3":…,"contentType":…,"departmentCode":…,
 *    "departmentName":…,"digestAlgorithm":…,"digestValue":…,"fileName":…,"fileSize":…,"fileSm3":…,"id":…,
 *    "kind":…,"metadata":"<canonical JSON text>","originalSize":…,"originalSm3":…,"patientIdIndex":…,
 *    "patientNameIndex":…,"projectId":…,"receivedAt":…,"serialNumber":…,"signatureFormat":…,"signatureSm3":…,
 *    "signedAt":…,"signer":…,"sourceSystem":…,"tags":"<canonical JSON text>","timestampSm3":…,
 *    "type":"yizheng-evidence/1","verification":"<canonical JSON text>","visitNumber":…}
 *
 * Absent values are `null`. Bytes (original, signature, certificates, timestamp token, file) enter by their hex
 * SM3, so the record stays small and each stored blob can be checked against it. Patient id and name enter by
 * their blind index (HMAC-SM3), never in clear; their sealed values are checked against the index on `verify`.
 * Nothing that is not in the record (idempotency key, log index, file storage kind) can change its hash.
 */
import { sm3, toHex } from '@yizheng/gm';
import { canonicalJson, type CanonicalValue } from '../audit/canonical-json.js';
import type { EvidenceKind } from '../db/schema.js';

export const RECORD_TYPE = 'yizheng-evidence/1';

/** The columns the record is built from (numbers already normalised). */
export interface RecordColumns {
  id: string;
  kind: EvidenceKind;
  project_id: string;
  app_id: string;
  serial_number: string;
  business_type: string | null;
  source_system: string | null;
  department_code: string | null;
  department_name: string | null;
  patient_id_idx: string | null;
  patient_name_idx: string | null;
  visit_number: string | null;
  signer: string | null;
  category: string | null;
  signature_format: string | null;
  original_sm3: string | null;
  original_size: number | null;
  digest_algorithm: string | null;
  digest_value: string | null;
  signature_sm3: string | null;
  certificates_sm3: string | null;
  timestamp_sm3: string | null;
  file_sm3: string | null;
  file_size: number | null;
  file_name: string | null;
  content_type: string | null;
  signed_at: string | null;
  received_at: string;
  tags: string;
  metadata: string;
  verification: string;
}

export function canonicalRecord(c: RecordColumns): string {
  const record: Record<string, CanonicalValue> = {
    type: RECORD_TYPE,
    id: c.id,
    kind: c.kind,
    projectId: c.project_id,
    appId: c.app_id,
    serialNumber: c.serial_number,
    businessType: c.business_type,
    sourceSystem: c.source_system,
    departmentCode: c.department_code,
    departmentName: c.department_name,
    patientIdIndex: c.patient_id_idx,
    patientNameIndex: c.patient_name_idx,
    visitNumber: c.visit_number,
    signer: c.signer,
    category: c.category,
    signatureFormat: c.signature_format,
    originalSm3: c.original_sm3,
    originalSize: c.original_size,
    digestAlgorithm: c.digest_algorithm,
    digestValue: c.digest_value,
    signatureSm3: c.signature_sm3,
    certificatesSm3: c.certificates_sm3,
    timestampSm3: c.timestamp_sm3,
    fileSm3: c.file_sm3,
    fileSize: c.file_size,
    fileName: c.file_name,
    contentType: c.content_type,
    signedAt: c.signed_at,
    receivedAt: c.received_at,
    tags: c.tags,
    metadata: c.metadata,
    verification: c.verification,
  };
  return canonicalJson(record);
}

export function recordBytes(c: RecordColumns): Uint8Array {
  return new TextEncoder().encode(canonicalRecord(c));
}

/** SM3 of the canonical record: 32 bytes, the log leaf entry. */
export function evidenceHash(c: RecordColumns): Uint8Array {
  return sm3(recordBytes(c));
}

export function sm3Hex(bytes: Uint8Array): string {
  return toHex(sm3(bytes));
}

/**
 * The key that makes "the same evidence pushed twice by one application" one record: SM3 over the kind, the
 * serial number and the evidence itself (signature bytes, digest value, or file content hash).
 */
export function dedupeKey(kind: EvidenceKind, serialNumber: string, evidence: string): string {
  return sm3Hex(new TextEncoder().encode(canonicalJson([kind, serialNumber, evidence])));
}
