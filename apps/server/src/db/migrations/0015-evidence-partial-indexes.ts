import { MysqlAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * Evidence indexes over columns that are usually NULL — the patient blind indexes (a record without patient
 * fields: most history migrations, many integrations) and the Idempotency-Key (sent by few callers) — cover only
 * the rows that have a value (issue 7, `npm run bench:history`). Every lookup through them is an equality or IN on
 * the column, which implies it is not NULL, so PostgreSQL and SQLite answer the same queries from the partial
 * index (query-plan.int.test.ts); the uniqueness of Idempotency-Keys is unchanged, as NULLs never collided.
 * Each insert of a record without those values then maintains six indexes instead of nine: on PostgreSQL about
 * 30 µs of server CPU and 400 bytes of WAL less per record.
 *
 * MySQL/MariaDB have no partial indexes: their indexes stay as 0004/0013 made them.
 */
const PARTIAL = [
  {
    name: 'evidence_patient_time_idx',
    columns: ['project_id', 'kind', 'patient_id_idx', 'received_at', 'id'],
    column: 'patient_id_idx',
    unique: false,
  },
  {
    name: 'evidence_patient_name_time_idx',
    columns: ['project_id', 'kind', 'patient_name_idx', 'received_at', 'id'],
    column: 'patient_name_idx',
    unique: false,
  },
  {
    name: 'evidence_idempotency_uq',
    columns: ['app_id', 'idempotency_key'],
    column: 'idempotency_key',
    unique: true,
  },
] as const;

type Index = (typeof PARTIAL)[number];

/** Replaces an index by its full (`partial: false`) or partial form, under the same name. */
async function rebuild(db: Kysely<unknown>, ix: Index, partial: boolean): Promise<void> {
  await db.schema.dropIndex(ix.name).execute();
  let b = db.schema
    .createIndex(ix.name)
    .on('evidence')
    .columns([...ix.columns]);
  if (ix.unique) b = b.unique();
  if (partial) b = b.where(sql.ref(ix.column), 'is not', null);
  await b.execute();
}

export const evidencePartialIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    if (db.getExecutor().adapter instanceof MysqlAdapter) return;
    for (const ix of PARTIAL) await rebuild(db, ix, true);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    if (db.getExecutor().adapter instanceof MysqlAdapter) return;
    for (const ix of PARTIAL) await rebuild(db, ix, false);
  },
};
