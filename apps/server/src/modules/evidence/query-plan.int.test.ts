/**
 * The evidence listing's query plans (issue 4 Speed): each exact-match filter is answered from its own index,
 * which also yields the listing order, so no plan walks a whole project's time index to avoid a sort — checked on
 * SQLite without ANALYZE statistics (the planner's least informed state) and on PostgreSQL when it is configured.
 */
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/schema.js';
import { openMigrated } from '../../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/databases.js';
import { listEvidenceQuery, type EvidenceFilter } from './repo.js';

const base: EvidenceFilter = { kind: 'signature', projectId: 'prj_plan', limit: 51 };
const CASES: { name: string; filter: Partial<EvidenceFilter>; index: string }[] = [
  { name: 'serial number', filter: { serialNumber: 'SN-1' }, index: 'evidence_serial_time_idx' },
  {
    name: 'app + serial + time',
    filter: { appId: 'app_x', serialNumber: 'SN-1', from: '2025-01-01', to: '2026-12-31' },
    index: 'evidence_serial_time_idx',
  },
  {
    name: 'patient id + time',
    filter: { patientIdIndex: 'a'.repeat(64), from: '2025-01-01', to: '2026-12-31' },
    index: 'evidence_patient_time_idx',
  },
  {
    name: 'patient name',
    filter: { patientNameIndex: 'b'.repeat(64) },
    index: 'evidence_patient_name_time_idx',
  },
  {
    name: 'patient id, next page',
    filter: { patientIdIndex: 'a'.repeat(64), after: { receivedAt: '2026-06-01', id: 'sig_1' } },
    index: 'evidence_patient_time_idx',
  },
];

describe.each(testDialects().filter((d) => d !== 'mysql'))('evidence query plans on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: { kysely: Kysely<Database>; close(): Promise<void> };

  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openMigrated(tdb.config);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  for (const c of CASES)
    it(`${c.name} → ${c.index}`, async () => {
      const q = listEvidenceQuery(db.kysely, { ...base, ...c.filter }).compile();
      const explain = dialect === 'sqlite' ? 'EXPLAIN QUERY PLAN ' : 'EXPLAIN ';
      const rows = await db.kysely.transaction().execute(async (trx) => {
        // An empty table makes a sequential scan the cheapest plan: rule it out to see the index choice.
        if (dialect === 'postgres') await sql`SET LOCAL enable_seqscan = off`.execute(trx);
        return (await trx.executeQuery(CompiledQuery.raw(explain + q.sql, [...q.parameters]))).rows;
      });
      const text = JSON.stringify(rows);
      expect(text).toContain(c.index);
    });
});
