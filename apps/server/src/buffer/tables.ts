/**
 * Row types of the write-buffer and digest-artifact tables (migration 0011-write-buffer), joined to the main
 * schema with {@link bufferDb} (Kysely's `withTables`), the way lifecycle/tables.ts does.
 */
import type { Kysely } from 'kysely';
import type { ApiLogsTable, BigIntColumn, Database } from '../db/schema.js';

/** The buffered streams (one today: the API log; evidence counts are written in the evidence transaction). */
export type BufferStream = 'api_log';

export interface WriteBufferOffsetsTable {
  stream: BufferStream;
  /** The Redis stream id ('<ms>-<n>') of the last entry committed to the database. */
  last_id: string;
  /** The API-log chain head after that entry. */
  head_seq: BigIntColumn | null;
  head_hash: string | null;
  updated_at: string;
}

export interface ApiLogPeriodsTable {
  /** 'YYYYMM' (Asia/Shanghai). */
  period: string;
  table_name: string;
  /** The seq range held by the table (null while empty). */
  min_seq: BigIntColumn | null;
  max_seq: BigIntColumn | null;
  created_at: string;
}

export interface DigestArtifactsTable {
  evidence_id: string;
  /** The PDF evidence report in the file store, by SM3 (hex). */
  report_sm3: string | null;
  report_storage: 'local' | 'database' | null;
  report_size: BigIntColumn | null;
  report_at: string | null;
  /** DER RFC 3161 TimeStampToken from the platform TSA over the record's evidence hash. */
  timestamp_token: Uint8Array | null;
  timestamp_sm3: string | null;
  timestamp_gen_time: string | null;
  timestamp_at: string | null;
}

// A type alias (not an interface) so it satisfies `withTables`' Record constraint.
export type BufferTables = {
  write_buffer_offsets: WriteBufferOffsetsTable;
  api_log_periods: ApiLogPeriodsTable;
  digest_artifacts: DigestArtifactsTable;
};

export type BufferDatabase = Database & BufferTables;

export function bufferDb(db: Kysely<Database>): Kysely<BufferDatabase> {
  return db.withTables<BufferTables>();
}

/** An API-log period table (`api_log_YYYYMM`) has the columns of `api_logs`. */
export type ApiLogPeriodTable = ApiLogsTable;
