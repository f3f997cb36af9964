/**
 * The steps of hot → cold archiving, each safe to repeat after a crash at any point:
 *
 * 1. {@link readHotUnits}: the records with everything they own — the `evidence` row, its `evidence_payloads`
 *    row, and for files kept in the database their `file_blobs` row.
 * 2. {@link copyToCold}: one cold transaction inserts what the cold side lacks (the project row first, for the
 *    foreign key); rows already there (copied by a run that died before step 4) are left as they are.
 * 3. {@link verifyColdCopies}: reads the cold side back and recomputes every hash — the canonical record against
 *    the evidence hash, each payload against the SM3 the record names, the file blob against its address — and
 *    compares every column and byte with the hot copy. Any difference throws COLD_COPY_MISMATCH and nothing hot
 *    is touched.
 * 4. {@link markAndRemoveHot}: one hot transaction writes the `cold_moves` rows and (when no retention is asked)
 *    deletes the hot copies; the archive cleanup deletes the others when their retention has passed.
 *
 * A crash before 4 leaves the records hot (and maybe also cold, identical): the next run copies nothing again
 * and goes on. A crash inside 4 rolls it back. The Merkle log is never touched: a record's leaf stays on the hot
 * side and verification reads it there.
 */
import { sm3, toHex } from '@yizheng/gm';
import type { Kysely, Selectable } from 'kysely';
import { isoTime } from '../context.js';
import type { Database, FileBlobsTable, ProjectsTable } from '../db/schema.js';
import { YzError } from '../errors.js';
import { evidenceHash } from '../evidence/canonical.js';
import type { EvidenceRow, NewEvidenceRow, PayloadRow } from '../modules/evidence/repo.js';
import { recordColumns } from '../modules/evidence/service.js';
import { coldTablesDb } from './cold-tables.js';

export interface ArchiveUnit {
  row: EvidenceRow;
  payload: PayloadRow | undefined;
  /** The file's `file_blobs` row for a file kept in the database (undefined when the hot side no longer has it). */
  blob: Selectable<FileBlobsTable> | undefined;
}

const CHUNK = 200;
const BIGINTS = ['original_size', 'file_size', 'log_index'] as const;
const PAYLOAD_PARTS = [
  ['original', 'original_sm3'],
  ['signature', 'signature_sm3'],
  ['certificates', 'certificates_sm3'],
  ['timestamp_token', 'timestamp_sm3'],
] as const;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Numbers for the bigint columns (PostgreSQL returns them as strings). */
export function normalised(r: EvidenceRow): EvidenceRow {
  const out = { ...r };
  for (const k of BIGINTS) if (out[k] !== null) out[k] = Number(out[k]);
  return out;
}

const orNumber = (v: number | string | null): number | null => (v === null ? null : Number(v));

function insertable(r: EvidenceRow): NewEvidenceRow {
  return {
    ...r,
    original_size: orNumber(r.original_size),
    file_size: orNumber(r.file_size),
    log_index: Number(r.log_index),
  };
}

const bytes = (b: Uint8Array | null | undefined): Buffer | null =>
  b === null || b === undefined ? null : Buffer.from(b);

function isDbFile(r: EvidenceRow): r is EvidenceRow & { file_sm3: string } {
  return r.kind === 'file' && r.file_storage === 'database' && r.file_sm3 !== null;
}

async function byIds<T extends { id?: string; evidence_id?: string; sm3?: string }>(
  ids: readonly string[],
  read: (chunk: string[]) => Promise<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  for (const c of chunks(ids)) out.push(...(await read(c)));
  return out;
}

async function evidenceOf(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, EvidenceRow>> {
  const rows = await byIds(ids, (c) => db.selectFrom('evidence').selectAll().where('id', 'in', c).execute());
  return new Map(rows.map((r) => [r.id, normalised(r)]));
}

async function payloadsOf(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, PayloadRow>> {
  const rows = await byIds(ids, (c) =>
    db.selectFrom('evidence_payloads').selectAll().where('evidence_id', 'in', c).execute(),
  );
  return new Map(rows.map((r) => [r.evidence_id, r]));
}

async function blobsOf(
  db: Kysely<Database>,
  addresses: readonly string[],
): Promise<Map<string, Selectable<FileBlobsTable>>> {
  const rows = await byIds([...new Set(addresses)], (c) =>
    db.selectFrom('file_blobs').selectAll().where('sm3', 'in', c).execute(),
  );
  return new Map(rows.map((r) => [r.sm3, r]));
}

/** The hot records of these ids (missing ids are left out), in the order given. */
export async function readHotUnits(hot: Kysely<Database>, ids: readonly string[]): Promise<ArchiveUnit[]> {
  const rows = await evidenceOf(hot, ids);
  const payloads = await payloadsOf(hot, ids);
  const blobs = await blobsOf(
    hot,
    [...rows.values()].filter(isDbFile).map((r) => r.file_sm3),
  );
  return ids.flatMap((id) => {
    const row = rows.get(id);
    if (row === undefined) return [];
    return [{ row, payload: payloads.get(id), blob: isDbFile(row) ? blobs.get(row.file_sm3) : undefined }];
  });
}

/** Copies what the cold side lacks, in one cold transaction; returns how many records were inserted. */
export async function copyToCold(options: {
  hot: Kysely<Database>;
  cold: Kysely<Database>;
  units: readonly ArchiveUnit[];
}): Promise<number> {
  const { hot, cold, units } = options;
  if (units.length === 0) return 0;
  const projectIds = [...new Set(units.map((u) => u.row.project_id))];
  const projects: Selectable<ProjectsTable>[] = await hot
    .selectFrom('projects')
    .selectAll()
    .where('id', 'in', projectIds)
    .execute();
  return cold.transaction().execute(async (trx) => {
    const haveProjects = new Set(
      (await trx.selectFrom('projects').select('id').where('id', 'in', projectIds).execute()).map(
        (p) => p.id,
      ),
    );
    const newProjects = projects.filter((p) => !haveProjects.has(p.id));
    if (newProjects.length > 0) await trx.insertInto('projects').values(newProjects).execute();
    const ids = units.map((u) => u.row.id);
    const have = new Set(
      (await byIds(ids, (c) => trx.selectFrom('evidence').select('id').where('id', 'in', c).execute())).map(
        (r) => r.id,
      ),
    );
    const fresh = units.filter((u) => !have.has(u.row.id));
    for (const c of chunks(fresh)) {
      await trx
        .insertInto('evidence')
        .values(c.map((u) => insertable(u.row)))
        .execute();
      const payloads = c.flatMap((u) => (u.payload ? [u.payload] : []));
      if (payloads.length > 0)
        await trx
          .insertInto('evidence_payloads')
          .values(
            payloads.map((p) => ({
              evidence_id: p.evidence_id,
              original: bytes(p.original),
              signature: bytes(p.signature),
              certificates: bytes(p.certificates),
              timestamp_token: bytes(p.timestamp_token),
            })),
          )
          .execute();
    }
    const blobs = new Map(units.flatMap((u) => (u.blob ? [[u.blob.sm3, u.blob] as const] : [])));
    if (blobs.size > 0) {
      const present = new Set(
        (
          await byIds([...blobs.keys()], (c) =>
            trx.selectFrom('file_blobs').select('sm3').where('sm3', 'in', c).execute(),
          )
        ).map((b) => b.sm3),
      );
      for (const b of blobs.values())
        if (!present.has(b.sm3))
          await trx
            .insertInto('file_blobs')
            .values({
              sm3: b.sm3,
              size: Number(b.size),
              content: Buffer.from(b.content),
              created_at: b.created_at,
            })
            .execute();
    }
    return fresh.length;
  });
}

function mismatch(id: string, what: string): never {
  throw new YzError('COLD_COPY_MISMATCH', `${id}: ${what}`);
}

const sameBytes = (a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean =>
  (a ?? null) === null
    ? (b ?? null) === null
    : (b ?? null) !== null && Buffer.from(a!).equals(Buffer.from(b!));

/**
 * Reads the cold copies back and checks them (see the file comment); throws COLD_COPY_MISMATCH naming the first
 * record and part that differs.
 */
export async function verifyColdCopies(options: {
  cold: Kysely<Database>;
  units: readonly ArchiveUnit[];
}): Promise<void> {
  const { cold, units } = options;
  const ids = units.map((u) => u.row.id);
  const rows = await evidenceOf(cold, ids);
  const payloads = await payloadsOf(cold, ids);
  const blobs = await blobsOf(
    cold,
    units.flatMap((u) => (isDbFile(u.row) ? [u.row.file_sm3] : [])),
  );
  for (const u of units) {
    const id = u.row.id;
    const c = rows.get(id);
    if (c === undefined) mismatch(id, 'the record is missing on the cold side');
    for (const k of Object.keys(u.row) as (keyof EvidenceRow)[])
      if (u.row[k] !== c[k]) mismatch(id, `column ${k} differs`);
    if (toHex(evidenceHash(recordColumns(c))) !== u.row.evidence_hash)
      mismatch(id, 'the cold record does not hash to its evidence hash');
    const p = payloads.get(id);
    for (const [part, hashColumn] of PAYLOAD_PARTS) {
      const coldBytes = p?.[part] ?? null;
      if (!sameBytes(u.payload?.[part], coldBytes)) mismatch(id, `payload ${part} differs`);
      const expected = c[hashColumn];
      if (coldBytes !== null && expected !== null && toHex(sm3(new Uint8Array(coldBytes))) !== expected)
        mismatch(id, `payload ${part} does not match its SM3`);
    }
    if (isDbFile(c)) {
      const b = blobs.get(c.file_sm3);
      if (b === undefined) mismatch(id, 'the file blob is missing on the cold side');
      if (toHex(sm3(new Uint8Array(b.content))) !== c.file_sm3)
        mismatch(id, 'the file blob does not match its SM3');
    }
  }
}

/** Deletes the hot copies of these records (payloads, rows, and file blobs no other hot record uses). */
export async function deleteHotCopies(trx: Kysely<Database>, units: readonly ArchiveUnit[]): Promise<void> {
  const ids = units.map((u) => u.row.id);
  for (const c of chunks(ids)) {
    await trx.deleteFrom('evidence_payloads').where('evidence_id', 'in', c).execute();
    await trx.deleteFrom('evidence').where('id', 'in', c).execute();
  }
  const addresses = [...new Set(units.flatMap((u) => (isDbFile(u.row) ? [u.row.file_sm3] : [])))];
  for (const c of chunks(addresses)) {
    const used = new Set(
      (
        await trx
          .selectFrom('evidence')
          .select('file_sm3')
          .where('file_sm3', 'in', c)
          .where('file_storage', '=', 'database')
          .execute()
      ).map((r) => r.file_sm3),
    );
    const unused = c.filter((a) => !used.has(a));
    if (unused.length > 0) await trx.deleteFrom('file_blobs').where('sm3', 'in', unused).execute();
  }
}

/**
 * One hot transaction: a `cold_moves` row per verified record, and with no retention the hot copies deleted.
 * Returns how many hot copies were deleted.
 */
export async function markAndRemoveHot(options: {
  hot: Kysely<Database>;
  units: readonly ArchiveUnit[];
  strategy: { id: string; hot_retention_days: number };
  now: number;
}): Promise<number> {
  const { hot, units, strategy, now } = options;
  if (units.length === 0) return 0;
  const at = isoTime(now);
  const deleteNow = strategy.hot_retention_days === 0;
  await hot.transaction().execute(async (trx) => {
    for (const c of chunks(units))
      await coldTablesDb(trx)
        .insertInto('cold_moves')
        .values(
          c.map((u) => ({
            evidence_id: u.row.id,
            strategy_id: strategy.id,
            project_id: u.row.project_id,
            kind: u.row.kind,
            received_at: u.row.received_at,
            evidence_hash: u.row.evidence_hash,
            verified_at: at,
            delete_after: isoTime(now + strategy.hot_retention_days * 86_400_000),
            hot_deleted_at: deleteNow ? at : null,
          })),
        )
        .execute();
    if (deleteNow) await deleteHotCopies(trx, units);
  });
  return deleteNow ? units.length : 0;
}
