/**
 * `rebuildStats` over every source on every available database: API calls in `api_logs` and in the Redis
 * buffer's period tables (`api_log_YYYYMM`), evidence records on the hot side and archived to the cold database
 * (attached for read-through or passed in), a record kept hot during its retention counted once.
 */
import { sql, type Insertable, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePeriodTable } from '../audit/api-log-periods.js';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import type { Database, EvidenceKind, EvidenceTable } from '../db/schema.js';
import { attachColdDatabase } from '../lifecycle/read-through.js';
import { createApplication } from '../modules/applications/service.js';
import { createProject } from '../modules/projects/service.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { rebuildStats } from './repo.js';

/** 2026-11-10 12:00 in Shanghai. */
const NOV = Date.UTC(2026, 10, 10, 4, 0);
/** 2026-12-15 12:00 in Shanghai. */
const DEC = Date.UTC(2026, 11, 15, 4, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const HASH = '0'.repeat(64);

let n = 0;
let projectId = '';
let appId = '';
function evidenceRow(id: string, kind: EvidenceKind, at: number): Insertable<EvidenceTable> {
  n++;
  return {
    id,
    kind,
    project_id: projectId,
    app_id: appId,
    serial_number: `S-${id}`,
    business_type: null,
    source_system: null,
    department_code: null,
    department_name: null,
    patient_id_enc: null,
    patient_id_idx: null,
    patient_name_enc: null,
    patient_name_idx: null,
    visit_number: null,
    signer: null,
    category: null,
    signature_format: null,
    original_sm3: null,
    original_size: null,
    digest_algorithm: null,
    digest_value: null,
    signature_sm3: null,
    certificates_sm3: null,
    timestamp_sm3: null,
    file_sm3: null,
    file_size: null,
    file_name: null,
    content_type: null,
    file_storage: null,
    signed_at: null,
    received_at: iso(at),
    tags: '[]',
    metadata: '{}',
    verification: '{}',
    dedupe_key: n.toString(16).padStart(64, '0'),
    idempotency_key: null,
    evidence_hash: HASH,
    log_index: n,
  };
}

function apiLogRow(seq: number, at: number, signed: boolean) {
  const app = signed ? appId : null;
  return {
    seq,
    at: iso(at),
    request_id: `req-${seq}`,
    app_id: app,
    project_id: app === null ? null : projectId,
    method: 'POST',
    path: '/api/v1/digests',
    params: '{}',
    headers: '{}',
    status: 201,
    response: '{}',
    duration_ms: 1,
    error_code: null,
    prev_hash: HASH,
    hash: HASH,
  };
}

async function counts(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('stats_daily').selectAll().execute();
  const out: Record<string, number> = {};
  for (const r of rows) out[`${r.kind} ${r.day}`] = Number(r.count);
  return out;
}

describe.each(testDialects())('statistics rebuild on %s', (dialect) => {
  let hotTdb: TestDatabase;
  let coldTdb: TestDatabase;
  let hot: Db;
  let cold: Db;

  beforeAll(async () => {
    hotTdb = await createTestDatabase(dialect);
    coldTdb = await createTestDatabase(dialect);
    hot = await openDatabase(hotTdb.config);
    cold = await openDatabase(coldTdb.config);
    await migrateToLatest(hot.kysely);
    await migrateToLatest(cold.kysely);
    const ctx = { db: hot.kysely, now: () => NOV, actor: 'test' };
    projectId = (await createProject({ ctx, number: 'P-STATS', name: '统计' })).id;
    appId = (await createApplication({ ctx, project: 'P-STATS', name: 'HIS', vendor: '厂商' })).application
      .id;
    // The cold side holds the project and application of the records archived to it.
    for (const table of ['projects', 'applications'] as const) {
      const rows = await hot.kysely.selectFrom(table).selectAll().execute();
      await cold.kysely.insertInto(table).values(rows).execute();
    }
    await hot.kysely
      .insertInto('evidence')
      .values([
        evidenceRow('ev_hot1', 'signature', DEC),
        evidenceRow('ev_kept', 'digest', NOV), // archived, still hot for its retention
      ])
      .execute();
    await cold.kysely
      .insertInto('evidence')
      .values([
        evidenceRow('ev_kept', 'digest', NOV),
        evidenceRow('ev_cold1', 'digest', NOV),
        evidenceRow('ev_cold2', 'file', NOV),
      ])
      .execute();
    // API calls: two in api_logs, three flushed by the buffer into period tables (one unauthenticated).
    await hot.kysely
      .insertInto('api_logs')
      .values([apiLogRow(1, NOV, true), apiLogRow(2, NOV, true)])
      .execute();
    const nov = await ensurePeriodTable(hot.kysely, '202611', NOV);
    const dec = await ensurePeriodTable(hot.kysely, '202612', DEC);
    const insert = (table: string, rows: ReturnType<typeof apiLogRow>[]) =>
      hot.kysely
        .insertInto(table as 'api_logs')
        .values(rows)
        .execute();
    await insert(nov, [apiLogRow(3, NOV, true)]);
    await insert(dec, [apiLogRow(4, DEC, true), apiLogRow(5, DEC, false)]);
  });
  afterAll(async () => {
    await hot.close();
    await cold.close();
    await hotTdb.drop();
    await coldTdb.drop();
  });

  it('counts API calls from api_logs and every period table', async () => {
    const r = await rebuildStats(hot.kysely, { cold: undefined });
    expect(await counts(hot.kysely)).toEqual({
      'signature 2026-12-15': 1,
      'digest 2026-11-10': 1,
      'api_call 2026-11-10': 3,
      'api_call 2026-12-15': 1,
    });
    expect(r.events).toBe(2 + 4);
    const yearly = await hot.kysely
      .selectFrom('stats_yearly')
      .select(['kind', 'count'])
      .where('kind', '=', 'api_call')
      .execute();
    expect(yearly.map((y) => Number(y.count))).toEqual([4]);
  });

  it('counts records archived to the cold database once, passed in or attached for read-through', async () => {
    const expected = {
      'signature 2026-12-15': 1,
      'digest 2026-11-10': 2, // ev_kept (hot and cold) once, ev_cold1
      'file 2026-11-10': 1,
      'api_call 2026-11-10': 3,
      'api_call 2026-12-15': 1,
    };
    const passed = await rebuildStats(hot.kysely, { cold: cold.kysely });
    expect(await counts(hot.kysely)).toEqual(expected);
    expect(passed.events).toBe(4 + 4);
    await sql`DELETE FROM stats_daily`.execute(hot.kysely);
    const detach = attachColdDatabase(hot.kysely, cold.kysely);
    try {
      expect((await rebuildStats(hot.kysely)).events).toBe(8);
      expect(await counts(hot.kysely)).toEqual(expected);
    } finally {
      detach();
    }
    const monthly = await hot.kysely
      .selectFrom('stats_monthly')
      .select(['kind', 'month', 'count'])
      .where('kind', '=', 'digest')
      .execute();
    expect(monthly.map((m) => [m.month, Number(m.count)])).toEqual([['2026-11', 2]]);
  });
});
