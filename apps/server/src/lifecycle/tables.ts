/**
 * Row types of the data-lifecycle tables (migration 0007-lifecycle). They are kept here rather than in
 * `db/schema.ts` and joined to the main schema with {@link lifecycleDb} (Kysely's `withTables`).
 */
import type { Kysely } from 'kysely';
import type { BigIntColumn, Database } from '../db/schema.js';

export interface JobStateTable {
  job_id: string;
  description: string;
  default_schedule: string;
  /** null: the default schedule. */
  schedule: string | null;
  enabled: number;
  /** Set by "run now" on any server or the CLI; the manager holding the job clears it when it starts the run. */
  run_requested_at: string | null;
  updated_at: string;
}

export interface JobLeasesTable {
  job_id: string;
  holder: string;
  acquired_at: string;
  expires_at: string;
}

export type JobOutcome = 'running' | 'succeeded' | 'failed' | 'interrupted';
export type JobTrigger = 'schedule' | 'manual';

export interface JobRunsTable {
  id: string;
  job_id: string;
  trigger: JobTrigger;
  holder: string;
  started_at: string;
  ended_at: string | null;
  outcome: JobOutcome;
  /** JSON object of counters (processed, migrated, failed, …). */
  counts: string | null;
  error: string | null;
}

export type HistorySourceKind = 'postgres' | 'mysql' | 'sqlite';

export interface HistorySourcesTable {
  id: string;
  name: string;
  kind: HistorySourceKind;
  /** The connection URL sealed with the field crypto. */
  url_sealed: string;
  source_table: string;
  /** JSON {@link import('../modules/history/mapping.js').ColumnMapping}. */
  mapping: string;
  created_at: string;
  updated_at: string;
}

export type HistoryLevel = 'format' | 'signature' | 'full';
export type HistoryTaskStatus = 'pending' | 'running' | 'paused' | 'completed' | 'failed';

export interface HistoryTasksTable {
  id: string;
  source_id: string;
  app_id: string;
  level: HistoryLevel;
  /** `HH:MM` in the server's time zone, or null for any time. */
  window_start: string | null;
  window_end: string | null;
  rows_per_second: number;
  batch_size: number;
  status: HistoryTaskStatus;
  /** The last source key migrated (rows are read in key order); null before the first batch. */
  cursor: string | null;
  total: BigIntColumn | null;
  migrated: BigIntColumn;
  duplicates: BigIntColumn;
  failed: BigIntColumn;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface HistoryFailuresTable {
  task_id: string;
  source_key: string;
  code: string;
  reason: string;
  at: string;
}

// A type alias (not an interface) so it satisfies `withTables`' Record constraint.
export type LifecycleTables = {
  job_state: JobStateTable;
  job_leases: JobLeasesTable;
  job_runs: JobRunsTable;
  history_sources: HistorySourcesTable;
  history_tasks: HistoryTasksTable;
  history_failures: HistoryFailuresTable;
};

export type LifecycleDatabase = Database & LifecycleTables;

/** The main database handle (or a transaction) seen with the lifecycle tables. */
export function lifecycleDb(db: Kysely<Database>): Kysely<LifecycleDatabase> {
  return db.withTables<LifecycleTables>();
}
