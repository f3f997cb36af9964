import { MysqlAdapter, type Kysely, type Migration } from 'kysely';

/**
 * Evidence query indexes (issue 4 Speed, `npm run bench:query`): the exact-match lookups — serial number, patient
 * id and patient name blind indexes — also carry (received_at, id), the order every listing returns and its
 * keyset cursor walks. An equality lookup then reads its few rows already in order and stops at the page size,
 * and no planner (SQLite's in particular, before or without ANALYZE statistics) prefers walking the whole
 * project's time index to skip a sort: these indexes serve the filter and the order at once. They replace the
 * 0004 indexes of the same prefix.
 */
const REPLACED = [
  { old: 'evidence_serial_idx', name: 'evidence_serial_time_idx', column: 'serial_number' },
  { old: 'evidence_patient_idx', name: 'evidence_patient_time_idx', column: 'patient_id_idx' },
  { old: 'evidence_patient_name_idx', name: 'evidence_patient_name_time_idx', column: 'patient_name_idx' },
] as const;

/** DROP INDEX: MySQL names the table (`… ON evidence`), PostgreSQL and SQLite do not. */
async function drop(db: Kysely<unknown>, name: string): Promise<void> {
  const b = db.schema.dropIndex(name);
  await (db.getExecutor().adapter instanceof MysqlAdapter ? b.on('evidence') : b).execute();
}

export const evidenceIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const r of REPLACED) {
      await db.schema
        .createIndex(r.name)
        .on('evidence')
        .columns(['project_id', 'kind', r.column, 'received_at', 'id'])
        .execute();
      await drop(db, r.old);
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const r of REPLACED) {
      await db.schema.createIndex(r.old).on('evidence').columns(['project_id', 'kind', r.column]).execute();
      await drop(db, r.name);
    }
  },
};
