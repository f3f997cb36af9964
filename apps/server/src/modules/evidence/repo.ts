/** SQL for evidence records and their payloads. */
import type { Insertable, Kysely, Selectable } from 'kysely';
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

/** Records of these dedupe keys (chunked IN lists), by key. */
export async function findByDedupeKeys(
  db: Kysely<Database>,
  appId: string,
  keys: readonly string[],
): Promise<Map<string, EvidenceRow>> {
  return mapThrough(db, keys, async (d, ks) => {
    const out = new Map<string, EvidenceRow>();
    for (let i = 0; i < ks.length; i += 500) {
      const chunk = ks.slice(i, i + 500);
      const rows = await d
        .selectFrom('evidence')
        .selectAll()
        .where('app_id', '=', appId)
        .where('dedupe_key', 'in', chunk)
        .execute();
      for (const r of rows) out.set(r.dedupe_key, r);
    }
    return out;
  });
}

/** Records of these Idempotency-Keys (chunked IN lists), by key. */
export async function findByIdempotencyKeys(
  db: Kysely<Database>,
  appId: string,
  keys: readonly string[],
): Promise<Map<string, EvidenceRow>> {
  return mapThrough(db, keys, async (d, ks) => {
    const out = new Map<string, EvidenceRow>();
    for (let i = 0; i < ks.length; i += 500) {
      const chunk = ks.slice(i, i + 500);
      const rows = await d
        .selectFrom('evidence')
        .selectAll()
        .where('app_id', '=', appId)
        .where('idempotency_key', 'in', chunk)
        .execute();
      for (const r of rows) if (r.idempotency_key !== null) out.set(r.idempotency_key, r);
    }
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
