/**
 * Row types of the cold-storage tables (migration 0010-cold-storage), joined to the main schema with
 * {@link coldTablesDb} (Kysely's `withTables`), as `lifecycle/tables.ts` does for the job tables.
 */
import type { Kysely } from 'kysely';
import type { Database, EvidenceKind } from '../db/schema.js';

/** A hot → cold migration strategy (迁移策略, seed §1.7). */
export interface ColdStrategiesTable {
  id: string;
  name: string;
  /** null: every project. */
  project_id: string | null;
  /** JSON array of {@link EvidenceKind}. */
  kinds: string;
  /** Records received more than this many days ago are archived. */
  age_days: number;
  /** Days the hot copy is kept after the cold copy was verified (0: deleted by the migration itself). */
  hot_retention_days: number;
  batch_size: number;
  /** `HH:MM` in `timezone`, or both null for any time. */
  window_start: string | null;
  window_end: string | null;
  timezone: string;
  enabled: number;
  created_at: string;
  updated_at: string;
}

/**
 * One row per record copied to the cold database and verified there (hot side). Written in the same hot
 * transaction that (with no retention) deletes the hot copy; the archive cleanup deletes the hot copy of the
 * others once `delete_after` has passed.
 */
export interface ColdMovesTable {
  evidence_id: string;
  strategy_id: string;
  project_id: string;
  kind: EvidenceKind;
  received_at: string;
  evidence_hash: string;
  verified_at: string;
  delete_after: string;
  /** null while the hot copy is kept. */
  hot_deleted_at: string | null;
}

export type ColdTables = {
  cold_strategies: ColdStrategiesTable;
  cold_moves: ColdMovesTable;
};

export type ColdTablesDatabase = Database & ColdTables;

export function coldTablesDb(db: Kysely<Database>): Kysely<ColdTablesDatabase> {
  return db.withTables<ColdTables>();
}
