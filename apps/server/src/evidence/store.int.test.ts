/**
 * The evidence writer on every dialect (on PostgreSQL the one-statement path of pg-write.ts, elsewhere one
 * transaction): contiguous log indices with the right leaf hashes, payloads and statistics in the same commit,
 * and a batch that hits a unique index undoes its log reservation before the per-item fallback.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { nodeLogHasher } from '@yizheng/ledger/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { createEvidenceWriter, type PreparedEvidence } from './store.js';

const AT = '2026-03-31T17:00:00.000Z'; // Shanghai: 2026-04-01

function item(dedupe = randomBytes(32).toString('hex')): PreparedEvidence {
  const id = randomUUID();
  const hex = (): string => randomBytes(32).toString('hex');
  return {
    row: {
      id,
      kind: 'signature',
      project_id: 'p1',
      app_id: 'a1',
      serial_number: `SN${randomBytes(4).toString('hex')}`,
      business_type: null,
      source_system: null,
      department_code: null,
      department_name: '内科',
      patient_id_enc: null,
      patient_id_idx: null,
      patient_name_enc: null,
      patient_name_idx: null,
      visit_number: null,
      signer: 'CN=医生张三',
      category: null,
      signature_format: 'cms',
      original_sm3: hex(),
      original_size: 3,
      digest_algorithm: null,
      digest_value: null,
      signature_sm3: hex(),
      certificates_sm3: null,
      timestamp_sm3: null,
      file_sm3: null,
      file_size: null,
      file_name: null,
      content_type: null,
      file_storage: null,
      signed_at: null,
      received_at: AT,
      tags: '["a"]',
      metadata: '{"k":"v\\u0000"}',
      verification: '{}',
      dedupe_key: dedupe,
      idempotency_key: null,
      evidence_hash: hex(),
    },
    payload: {
      evidence_id: id,
      original: Uint8Array.of(0, 1, 255),
      signature: randomBytes(72),
      certificates: null,
      timestamp_token: null,
    },
    entry: randomBytes(32),
  };
}

for (const dialect of testDialects()) {
  describe(`evidence writer (${dialect})`, () => {
    let t: TestDatabase;
    let db: Db;
    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      db = await openDatabase(t.config);
      await migrateToLatest(db.kysely);
      await db.kysely
        .insertInto('projects')
        .values({ id: 'p1', number: 'P1', name: 'p', status: 'active', created_at: AT, updated_at: AT })
        .execute();
      await db.kysely
        .insertInto('applications')
        .values({
          id: 'a1',
          project_id: 'p1',
          name: 'a',
          vendor: 'v',
          status: 'active',
          default_tags: '[]',
          retention_years: 30,
          public_key: 'x',
          key_version: 1,
          created_at: AT,
          updated_at: AT,
        })
        .execute();
    });
    afterAll(async () => {
      await db.close();
      await t.drop();
    });

    it('stores a batch in one commit: contiguous indices, leaf hashes, payload bytes, counts', async () => {
      const w = createEvidenceWriter({ db: db.kysely });
      const items = Array.from({ length: 7 }, () => item());
      const stored = await Promise.all(items.map((i) => w.submit(i)));
      await w.close();
      expect(stored.map((s) => Number(s.row.log_index))).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(stored.every((s) => !s.duplicate)).toBe(true);
      const hasher = nodeLogHasher('sm3');
      const leaves = await db.kysely.selectFrom('log_leaves').selectAll().orderBy('idx').execute();
      expect(leaves.map((l) => Buffer.from(l.leaf_hash).toString('hex'))).toEqual(
        items.map((i) => Buffer.from(hasher.hashLeaf(i.entry)).toString('hex')),
      );
      const rows = await db.kysely.selectFrom('evidence').select(['id', 'log_index', 'metadata']).execute();
      expect(rows).toHaveLength(7);
      expect(rows.find((r) => r.id === items[3]!.row.id)?.metadata).toBe('{"k":"v\\u0000"}');
      const p = await db.kysely
        .selectFrom('evidence_payloads')
        .selectAll()
        .where('evidence_id', '=', items[0]!.row.id)
        .executeTakeFirstOrThrow();
      expect([...p.original!]).toEqual([0, 1, 255]);
      expect(p.certificates).toBeNull();
      const counts = await Promise.all(
        (['stats_daily', 'stats_monthly', 'stats_yearly'] as const).map((table) =>
          db.kysely.selectFrom(table).select('count').execute(),
        ),
      );
      expect(counts.map((c) => c.map((r) => Number(r.count)))).toEqual([[7], [7], [7]]);
      const state = await db.kysely.selectFrom('log_state').select('next_index').executeTakeFirstOrThrow();
      expect(Number(state.next_index)).toBe(7);
    });

    it('a batch with a stored dedupe key rolls back whole; each item then gets its own outcome', async () => {
      const [first] = await db.kysely.selectFrom('evidence').select('dedupe_key').limit(1).execute();
      const w = createEvidenceWriter({ db: db.kysely });
      const fresh = [item(), item()];
      const again = item(first!.dedupe_key);
      const out = await Promise.all([fresh[0]!, again, fresh[1]!].map((i) => w.submit(i)));
      await w.close();
      expect(out.map((o) => o.duplicate)).toEqual([false, true, false]);
      expect(out.map((o) => Number(o.row.log_index))).toEqual([7, Number(out[1]!.row.log_index), 8]);
      const state = await db.kysely.selectFrom('log_state').select('next_index').executeTakeFirstOrThrow();
      expect(Number(state.next_index)).toBe(9);
      const leaves = await db.kysely.selectFrom('log_leaves').select('idx').execute();
      expect(leaves).toHaveLength(9);
      const daily = await db.kysely.selectFrom('stats_daily').select('count').executeTakeFirstOrThrow();
      expect(Number(daily.count)).toBe(9);
    });
  });
}
