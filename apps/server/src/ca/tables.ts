import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** Tables of migration 0006-trust (and 0014-tsa-import's columns), kept beside the code that owns them (added to the Database type here). */
export type CaCertificatesTable = {
  name: string;
  role: 'root' | 'platform' | 'tsa';
  algorithm: 'sm2' | 'rsa' | 'p256';
  /** base64 DER. */
  der: string;
  /** `generated` by the internal CA, or `imported`. */
  origin: 'generated' | 'imported';
  created_at: string;
  /** Migration 0014-tsa-import: the name given at import. */
  label: string | null;
  /** Migration 0014-tsa-import: certificates above an imported one, JSON array of base64 DER. */
  chain: string | null;
};

export type TsaSerialsTable = {
  name: string;
  /** bigint: a string from PostgreSQL/MySQL, a number from SQLite. */
  next: number | string | bigint;
};

export type DownloadTokensTable = {
  token_id: string;
  used_at: string;
  expires_at: string;
};

export type TrustTables = {
  ca_certificates: CaCertificatesTable;
  tsa_serials: TsaSerialsTable;
  download_tokens: DownloadTokensTable;
};

export type TrustDb = Kysely<Database & TrustTables>;

export function trustDb(db: Kysely<Database>): TrustDb {
  return db.withTables<TrustTables>();
}
