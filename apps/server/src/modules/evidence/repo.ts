/** SQL for evidence records and their payloads. */
import { PostgresAdapter, sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Database, EvidenceKind, EvidencePayloadsTable, EvidenceTable } from '../../db/schema.js';
import { listThrough, mapThrough, readThrough } from '../../lifecycle/read-through.js';

export type EvidenceRow = Selectable<EvidenceTable>;
export type NewEvidenceRow = Insertable<EvidenceTable>;
export type PayloadRow = Selectable<EvidencePayloadsTable>;

/** Rows per INSERT statement (bounded well below every dialect's bind-parameter limit). */
const CHUNK = 200;

export async function insertEvidence(
  db: Kysely<Database>,
  rows: readonly NewEvidenceRow[],
  payloads: readonly PayloadRow[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK)
    await db
      .insertInto('evidence')
      .values(rows.slice(i, i + CHUNK))
      .execute();
  const withBytes = payloads.filter(
    (p) =>
      p.original !== null || p.signature !== null || p.certificates !== null || p.timestamp_token !== null,
  );
  for (let i = 0; i < withBytes.length; i += CHUNK)
    await db
      .insertInto('evidence_payloads')
      .values(
        withBytes.slice(i, i + CHUNK).map((p) => ({
          evidence_id: p.evidence_id,
          original: p.original === null ? null : Buffer.from(p.original),
          signature: p.signature === null ? null : Buffer.from(p.signature),
          certificates: p.certificates === null ? null : Buffer.from(p.certificates),
          timestamp_token: p.timestamp_token === null ? null : Buffer.from(p.timestamp_token),
        })),
      )
      .execute();
}

export function findByDedupeKey(
  db: Kysely<Database>,
  appId: string,
  dedupeKey: string,
): Promise<EvidenceRow | undefined> {
  // An archived record is still the first one (lifecycle/read-through.ts): no second copy on the hot side.
  return readThrough(db, (d) =>
    d
      .selectFrom('evidence')
      .selectAll()
      .where('app_id', '=', appId)
      .where('dedupe_key', '=', dedupeKey)
      .executeTakeFirst(),
  );
}

export function findByIdempotencyKey(
  db: Kysely<Database>,
  appId: string,
  key: string,
): Promise<EvidenceRow | undefined> {
  return readThrough(db, (d) =>
    d
      .selectFrom('evidence')
      .selectAll()
      .where('app_id', '=', appId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst(),
  );
}

/** Keys per lookup statement (bounded well below every dialect's bind-parameter limit). */
const LOOKUP_CHUNK = 500;

/**
 * One application's records whose `column` is one of `keys`, chunked, answered from the unique index on
 * (app_id, column) whatever the planner knows.
 * - PostgreSQL: one probe per key (a LATERAL subquery with both columns equal, fenced by OFFSET 0 so that it is
 *   not flattened into a join). With the IN form, a table not yet ANALYZEd (the first minute of a new
 *   database, or after a bulk load) looks a few rows big, so the planner read the index on app_id alone
 *   and filtered the application's every row by the IN list: a lookup that grew with the table.
 * - SQLite, MySQL/MariaDB: the IN form, which their planners answer from the unique index.
 */
async function findByKeys(
  d: Kysely<Database>,
  appId: string,
  column: 'dedupe_key' | 'idempotency_key',
  keys: readonly string[],
): Promise<EvidenceRow[]> {
  const out: EvidenceRow[] = [];
  const pg = d.getExecutor().adapter instanceof PostgresAdapter;
  // dedupe_key is char(64), idempotency_key varchar: the key compared as the column's own type, so that its
  // index applies.
  const key = column === 'dedupe_key' ? sql`k.key::bpchar` : sql`k.key`;
  for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
    const chunk = keys.slice(i, i + LOOKUP_CHUNK);
    if (pg) {
      const r = await sql<EvidenceRow>`SELECT e.* FROM unnest(${chunk}::text[]) AS k(key)
        CROSS JOIN LATERAL (SELECT * FROM evidence WHERE app_id = ${appId} AND ${sql.ref(column)} = ${key}
          OFFSET 0) AS e`.execute(d);
      out.push(...r.rows);
    } else
      out.push(
        ...(await d
          .selectFrom('evidence')
          .selectAll()
          .where('app_id', '=', appId)
          .where(column, 'in', chunk)
          .execute()),
      );
  }
  return out;
}

/** Records of these dedupe keys, by key. */
export async function findByDedupeKeys(
  db: Kysely<Database>,
  appId: string,
  keys: readonly string[],
): Promise<Map<string, EvidenceRow>> {
  return mapThrough(db, keys, async (d, ks) => {
    const out = new Map<string, EvidenceRow>();
    for (const r of await findByKeys(d, appId, 'dedupe_key', ks)) out.set(r.dedupe_key, r);
    return out;
  });
}

/** Records of these Idempotency-Keys, by key. */
export async function findByIdempotencyKeys(
  db: Kysely<Database>,
  appId: string,
  keys: readonly string[],
): Promise<Map<string, EvidenceRow>> {
  return mapThrough(db, keys, async (d, ks) => {
    const out = new Map<string, EvidenceRow>();
    for (const r of await findByKeys(d, appId, 'idempotency_key', ks))
      if (r.idempotency_key !== null) out.set(r.idempotency_key, r);
    return out;
  });
}

export function findEvidence(
  db: Kysely<Database>,
  where: { id: string; kind: EvidenceKind; projectId: string },
): Promise<EvidenceRow | undefined> {
  // Hot first, then the cold database when one is attached (lifecycle/read-through.ts).
  return readThrough(db, (d) =>
    d
      .selectFrom('evidence')
      .selectAll()
      .where('id', '=', where.id)
      .where('kind', '=', where.kind)
      .where('project_id', '=', where.projectId)
      .executeTakeFirst(),
  );
}

export async function findPayload(db: Kysely<Database>, id: string): Promise<PayloadRow | undefined> {
  return readThrough(db, (d) =>
    d.selectFrom('evidence_payloads').selectAll().where('evidence_id', '=', id).executeTakeFirst(),
  );
}

export interface EvidenceFilter {
  kind: EvidenceKind;
  projectId: string;
  id?: string | undefined;
  appId?: string | undefined;
  serialNumber?: string | undefined;
  patientIdIndex?: string | undefined;
  patientNameIndex?: string | undefined;
  /** received_at ≥ from (ISO). */
  from?: string | undefined;
  /** received_at < to (ISO). */
  to?: string | undefined;
  /** Keyset cursor: rows strictly after (received_at, id) in descending order. */
  after?: { receivedAt: string; id: string } | undefined;
  limit: number;
}

/** Newest first, ties broken by id (descending): a stable order for keyset pagination. */
export function listEvidence(db: Kysely<Database>, f: EvidenceFilter): Promise<EvidenceRow[]> {
  // Both sides merged in this order when a cold database is attached (lifecycle/read-through.ts).
  return listThrough(db, f.limit, (d) => listOn(d, f));
}

function listOn(db: Kysely<Database>, f: EvidenceFilter): Promise<EvidenceRow[]> {
  return listEvidenceQuery(db, f).execute();
}

/** The listing's SELECT on one database, unexecuted (the tests EXPLAIN it). */
export function listEvidenceQuery(db: Kysely<Database>, f: EvidenceFilter) {
  let q = db
    .selectFrom('evidence')
    .selectAll()
    .where('project_id', '=', f.projectId)
    .where('kind', '=', f.kind);
  if (f.id !== undefined) q = q.where('id', '=', f.id);
  if (f.appId !== undefined) q = q.where('app_id', '=', f.appId);
  if (f.serialNumber !== undefined) q = q.where('serial_number', '=', f.serialNumber);
  if (f.patientIdIndex !== undefined) q = q.where('patient_id_idx', '=', f.patientIdIndex);
  if (f.patientNameIndex !== undefined) q = q.where('patient_name_idx', '=', f.patientNameIndex);
  if (f.from !== undefined) q = q.where('received_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('received_at', '<', f.to);
  const after = f.after;
  if (after !== undefined)
    q = q.where((eb) =>
      eb.or([
        eb('received_at', '<', after.receivedAt),
        eb.and([eb('received_at', '=', after.receivedAt), eb('id', '<', after.id)]),
      ]),
    );
  return q.orderBy('received_at', 'desc').orderBy('id', 'desc').limit(f.limit);
}
