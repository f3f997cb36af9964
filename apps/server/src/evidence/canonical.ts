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
import { sm3 } from '@yizheng/gm';
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

/** The record as a value for the generic canonical JSON (the reference the direct serialiser must equal). */
export function recordValue(c: RecordColumns): Record<string, CanonicalValue> {
  return {
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
}

const text = (v: unknown): boolean => v === null || typeof v === 'string';
const count = (v: unknown): boolean => v === null || Number.isSafeInteger(v);

/** Whether every column has the type the record declares (then the direct serialiser applies). */
function wellTyped(c: RecordColumns): boolean {
  return (
    typeof c.id === 'string' &&
    typeof c.kind === 'string' &&
    typeof c.project_id === 'string' &&
    typeof c.app_id === 'string' &&
    typeof c.serial_number === 'string' &&
    text(c.business_type) &&
    text(c.source_system) &&
    text(c.department_code) &&
    text(c.department_name) &&
    text(c.patient_id_idx) &&
    text(c.patient_name_idx) &&
    text(c.visit_number) &&
    text(c.signer) &&
    text(c.category) &&
    text(c.signature_format) &&
    text(c.original_sm3) &&
    count(c.original_size) &&
    text(c.digest_algorithm) &&
    text(c.digest_value) &&
    text(c.signature_sm3) &&
    text(c.certificates_sm3) &&
    text(c.timestamp_sm3) &&
    text(c.file_sm3) &&
    count(c.file_size) &&
    text(c.file_name) &&
    text(c.content_type) &&
    text(c.signed_at) &&
    typeof c.received_at === 'string' &&
    typeof c.tags === 'string' &&
    typeof c.metadata === 'string' &&
    typeof c.verification === 'string'
  );
}

/**
 * The canonical record text. For well-typed columns (always, from the ingest path) it is ONE `JSON.stringify`
 * of an object literal whose keys are written in sorted order: JSON.stringify keeps the insertion order of
 * non-index keys and escapes strings exactly as canonical JSON does, and safe integers print alike, so the
 * bytes equal `canonicalJson(recordValue(c))` (canonical.test.ts checks that over random records) without
 * sorting keys or joining per-field strings. Anything else goes through the generic serialiser.
 */
export function canonicalRecord(c: RecordColumns): string {
  if (!wellTyped(c)) return canonicalJson(recordValue(c));
  return JSON.stringify({
    appId: c.app_id,
    businessType: c.business_type,
    category: c.category,
    certificatesSm3: c.certificates_sm3,
    contentType: c.content_type,
    departmentCode: c.department_code,
    departmentName: c.department_name,
    digestAlgorithm: c.digest_algorithm,
    digestValue: c.digest_value,
    fileName: c.file_name,
    fileSize: c.file_size,
    fileSm3: c.file_sm3,
    id: c.id,
    kind: c.kind,
    metadata: c.metadata,
    originalSize: c.original_size,
    originalSm3: c.original_sm3,
    patientIdIndex: c.patient_id_idx,
    patientNameIndex: c.patient_name_idx,
    projectId: c.project_id,
    receivedAt: c.received_at,
    serialNumber: c.serial_number,
    signatureFormat: c.signature_format,
    signatureSm3: c.signature_sm3,
    signedAt: c.signed_at,
    signer: c.signer,
    sourceSystem: c.source_system,
    tags: c.tags,
    timestampSm3: c.timestamp_sm3,
    type: RECORD_TYPE,
    verification: c.verification,
    visitNumber: c.visit_number,
  });
}

const utf8 = new TextEncoder();

export function recordBytes(c: RecordColumns): Uint8Array {
  return utf8.encode(canonicalRecord(c));
}

/** SM3 of the canonical record: 32 bytes, the log leaf entry (the text is hashed as UTF-8, as recordBytes). */
export function evidenceHash(c: RecordColumns): Uint8Array {
  return sm3(canonicalRecord(c));
}

/** Lower-case hex of bytes (as `toHex`, natively). */
export function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Hex SM3 of bytes (or of a string's UTF-8). */
export function sm3Hex(data: Uint8Array | string): string {
  return hexOf(sm3(data));
}

/**
 * The key that makes "the same evidence pushed twice by one application" one record: SM3 over the kind, the
 * serial number and the evidence itself (signature bytes, digest value, or file content hash).
 */
export function dedupeKey(kind: EvidenceKind, serialNumber: string, evidence: string): string {
  return sm3Hex(canonicalJson([kind, serialNumber, evidence]));
}
