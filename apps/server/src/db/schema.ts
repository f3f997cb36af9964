/**
 * The database schema as Kysely types: one schema for SQLite, PostgreSQL and MySQL/MariaDB.
 *
 * Portable choices: ids are application-generated strings; times are ISO-8601 UTC strings with milliseconds
 * (`2026-11-24T12:00:00.000Z`, fixed width, so they sort and compare as text); JSON is stored as text;
 * 64-bit integers come back as strings from PostgreSQL and are normalised by the repos.
 */
import type { ColumnType, Generated } from 'kysely';

/** A bigint column: written as a number, read as number or string depending on the driver. */
export type BigIntColumn = ColumnType<number | string, number, number>;

export type ProjectStatus = 'active' | 'frozen';
/** Where a project's evidence files go: a content-addressed directory, or the database (small files). */
export type FileStorage = 'local' | 'database';
export type ApplicationStatus = 'active' | 'frozen';

export interface ProjectsTable {
  id: string;
  /** 项目编号: chosen by the administrator, unique. */
  number: string;
  name: string;
  status: ProjectStatus;
  /** Default 'local'. */
  file_storage: ColumnType<FileStorage, FileStorage | undefined, FileStorage>;
  created_at: string;
  updated_at: string;
}

/** Files stored in the database, by SM3 of their content. */
export interface FileBlobsTable {
  sm3: string;
  size: BigIntColumn;
  content: Uint8Array;
  created_at: string;
}

export interface ApplicationsTable {
  /** 接入编号 */
  id: string;
  project_id: string;
  name: string;
  vendor: string;
  status: ApplicationStatus;
  /** JSON array of strings. */
  default_tags: string;
  retention_years: number;
  /** Current SM2 public key, SubjectPublicKeyInfo DER in base64. */
  public_key: string;
  key_version: number;
  created_at: string;
  updated_at: string;
}

/** Every key an application ever had; the current one has revoked_at null. */
export interface ApplicationKeysTable {
  app_id: string;
  version: number;
  public_key: string;
  created_at: string;
  revoked_at: string | null;
}

export interface UsedNoncesTable {
  app_id: string;
  nonce: string;
  expires_at: string;
}

/** Columns shared by both hash-chained logs. */
export interface ChainColumns {
  seq: BigIntColumn;
  prev_hash: string;
  hash: string;
}

export interface ApiLogsTable extends ChainColumns {
  at: string;
  request_id: string;
  app_id: string | null;
  project_id: string | null;
  method: string;
  path: string;
  /** JSON: query parameters. */
  params: string;
  /** JSON: request headers, signature redacted. */
  headers: string;
  status: number;
  /** Response body, truncated to a bound. */
  response: string;
  duration_ms: number;
  error_code: string | null;
}

export interface OperationLogsTable extends ChainColumns {
  at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  project_id: string | null;
  /** JSON details of the change. */
  detail: string;
}

/** Data keys, each wrapped (SM4-GCM) by the key-encryption key; never stored in clear. */
export interface KeyStoreTable {
  name: string;
  /** base64 of the sealed key (`sm4Seal(kek, key, aad = name)`). */
  wrapped: string;
  created_at: string;
}

export type AdminUserStatus = 'active' | 'frozen';

/** Console users (administrators, operators, auditors). Passwords are scrypt hashes; certificates are bound. */
export interface AdminUsersTable {
  id: string;
  username: string;
  display_name: string;
  phone: string;
  email: string;
  department: string;
  status: AdminUserStatus;
  /** `scrypt$N$r$p$salt$hash` (base64), or null: no password login. */
  password_hash: string | null;
  /** 1 after a one-time password was issued: the user must set a new one first. */
  password_must_change: number;
  /** The bound login certificate, DER in base64. */
  cert_der: string | null;
  /** Hex SM3 of the certificate DER. */
  cert_fingerprint: string | null;
  cert_subject: string | null;
  cert_serial: string | null;
  cert_not_after: string | null;
  failed_logins: number;
  locked_until: string | null;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AdminRolesTable {
  id: string;
  name: string;
  description: string;
  /** 1 for the built-in roles (administrator, operator, auditor): not editable, not deletable. */
  builtin: number;
  /** JSON array of permission identifiers (`module:action`). */
  permissions: string;
  created_at: string;
  updated_at: string;
}

export interface AdminUserRolesTable {
  user_id: string;
  role_id: string;
}

/** Projects an operator works in. */
export interface AdminUserProjectsTable {
  user_id: string;
  project_id: string;
}

/** Console sessions; only hashes of the session token and CSRF token are stored. */
export interface AdminSessionsTable {
  /** Hex SHA-256 of the session token (the cookie value). */
  token_hash: string;
  csrf_hash: string;
  user_id: string;
  method: string;
  ip: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

/** One-time random challenges for certificate login. */
export interface AdminLoginChallengesTable {
  id: string;
  challenge: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** System configuration (系统配置): one JSON value per key; absent keys take their defaults. */
export interface SystemSettingsTable {
  key: string;
  value: string;
  updated_at: string;
}

export type EvidenceKind = 'signature' | 'digest' | 'file';

/** One evidence record (see migration 0004 and src/evidence/canonical.ts: the canonical record is built from these columns). */
export interface EvidenceTable {
  /** 数据编号 */
  id: string;
  kind: EvidenceKind;
  project_id: string;
  app_id: string;
  /** 业务流水号 */
  serial_number: string;
  business_type: string | null;
  source_system: string | null;
  department_code: string | null;
  department_name: string | null;
  /** Patient id and name: sealed with the field crypto, plus their blind indexes (exact-match search). */
  patient_id_enc: string | null;
  patient_id_idx: string | null;
  patient_name_enc: string | null;
  patient_name_idx: string | null;
  visit_number: string | null;
  signer: string | null;
  /** Digest data: 分类. */
  category: string | null;
  /** 'cms' | 'raw' for signature data. */
  signature_format: string | null;
  original_sm3: string | null;
  original_size: BigIntColumn | null;
  digest_algorithm: string | null;
  digest_value: string | null;
  signature_sm3: string | null;
  certificates_sm3: string | null;
  timestamp_sm3: string | null;
  file_sm3: string | null;
  file_size: BigIntColumn | null;
  file_name: string | null;
  content_type: string | null;
  file_storage: FileStorage | null;
  signed_at: string | null;
  received_at: string;
  /** Canonical JSON array of strings. */
  tags: string;
  /** Canonical JSON object. */
  metadata: string;
  /** Canonical JSON of the verification summary. */
  verification: string;
  dedupe_key: string;
  idempotency_key: string | null;
  /** Hex SM3 of the canonical record: the log leaf entry. */
  evidence_hash: string;
  log_index: BigIntColumn;
}

/** The bytes an evidence record names by SM3. */
export interface EvidencePayloadsTable {
  evidence_id: string;
  original: Uint8Array | null;
  signature: Uint8Array | null;
  /** Concatenated DER certificates. */
  certificates: Uint8Array | null;
  timestamp_token: Uint8Array | null;
}

/** The Merkle log's sequencing row (id 1): the next index to assign, the log hash and origin (see src/log). */
export interface LogStateTable {
  id: number;
  next_index: BigIntColumn;
  hash_alg: 'sm3' | 'sha256';
  origin: string;
}

/** The Merkle log's integration row (id 1): the size and root of the stored tree. */
export interface LogTreeTable {
  id: number;
  size: BigIntColumn;
  root_hash: Uint8Array | null;
  updated_at: string | null;
}

/** One row per hash chain, locked by its appenders on MySQL/MariaDB (migration 0016). */
export interface ChainLocksTable {
  name: 'api_logs' | 'operation_logs';
}

/** Sequenced log leaves: the entry bytes and their RFC 9162 leaf hash. */
export interface LogLeavesTable {
  idx: BigIntColumn;
  entry: Uint8Array;
  leaf_hash: Uint8Array;
}

/** Perfect-subtree nodes of the Merkle tree (leaves are level 0); write-once. */
export interface LogNodesTable {
  level: number;
  idx: BigIntColumn;
  hash: Uint8Array;
}

/** Every signed checkpoint (C2SP signed note), by tree size. */
export interface LogCheckpointsTable {
  size: BigIntColumn;
  root_hash: Uint8Array;
  note: string;
  created_at: string;
}

/** The platform TSA's RFC 3161 token over each checkpoint's note bytes, by tree size (src/log/stamper.ts). */
export interface LogCheckpointStampsTable {
  size: BigIntColumn;
  token: Uint8Array;
  created_at: string;
}

export interface Database {
  projects: ProjectsTable;
  applications: ApplicationsTable;
  application_keys: ApplicationKeysTable;
  used_nonces: UsedNoncesTable;
  api_logs: ApiLogsTable;
  operation_logs: OperationLogsTable;
  key_store: KeyStoreTable;
  file_blobs: FileBlobsTable;
  evidence: EvidenceTable;
  evidence_payloads: EvidencePayloadsTable;
  log_state: LogStateTable;
  log_tree: LogTreeTable;
  log_leaves: LogLeavesTable;
  log_nodes: LogNodesTable;
  log_checkpoints: LogCheckpointsTable;
  log_checkpoint_stamps: LogCheckpointStampsTable;
  admin_users: AdminUsersTable;
  admin_roles: AdminRolesTable;
  admin_user_roles: AdminUserRolesTable;
  admin_user_projects: AdminUserProjectsTable;
  admin_sessions: AdminSessionsTable;
  admin_login_challenges: AdminLoginChallengesTable;
  system_settings: SystemSettingsTable;
  chain_locks: ChainLocksTable;
}

/** Generated is re-exported for future tables with database-assigned keys. */
export type { Generated };
