/**
 * The evidence write on PostgreSQL as ONE statement: the log counter bump, the leaves, the records, their
 * payloads and (without the Redis buffer) the three statistics upserts are data-modifying CTEs of a single
 * `WITH … SELECT`, sent as one round trip and committed on its own (autocommit: a single statement is atomic
 * and, with `synchronous_commit = on`, durable when its reply arrives).
 *
 * Why: the general path (store.ts) takes about ten sequential round trips (BEGIN, the counter, leaves, records,
 * payloads, three stats tables, COMMIT). Under ingest load the event loop is busy verifying SM2 signatures, so
 * every round trip waits for the next loop turn; as the counter row stays locked until COMMIT, the log's
 * appenders serialise on those waits. One round trip per group commit keeps the lock short.
 *
 * The statement text is a constant (no query building per batch). The records and the statistics travel as
 * JSON parameters — the records with short keys and without their NULL fields (see {@link recordsJson}) — and
 * every byte string —
 * each leaf's entry and leaf hash, then the payloads — as ONE binary parameter (`$2`, referenced by every CTE
 * that slices it by offset), so a batch costs nine bound parameters however many rows it holds. Every CTE reads the
 * counter CTE `s`, so the counter row is locked first, as in `appendLeaves`
 * (log/sequencer.ts): log indices stay contiguous, a failure (a unique violation, say) undoes the counter with
 * the rows, and concurrent writers take their locks in one order (the counter, then the stats keys in sorted
 * order). Semantics equal the general path: the evidence module's tests run on both.
 */
import { sm3 } from '@yizheng/gm';
import type { LogHashName } from '@yizheng/ledger';
import { nodeLogHasher } from '@yizheng/ledger/node';
import { CompiledQuery, type Kysely } from 'kysely';
import { namedStatement } from '../db/named-statements.js';
import type { Database, EvidenceTable } from '../db/schema.js';
import { checkEntries } from '../log/sequencer.js';
import { deltasOf, rollUp, STATS_LEVELS, type StatsEvent } from '../stats/repo.js';
import type * as repo from '../modules/evidence/repo.js';

interface Item {
  row: Omit<repo.NewEvidenceRow, 'log_index'>;
  payload: repo.PayloadRow;
  entry: Uint8Array;
}

/**
 * Every column of `evidence` but `log_index` (none has a default, so a column a row leaves out is NULL, as an
 * INSERT naming only the row's columns would make it). `satisfies` keeps the list to real columns, and
 * `COMPLETE` fails to compile when a column is missing from it.
 */
export const EVIDENCE_COLUMNS = [
  'id',
  'kind',
  'project_id',
  'app_id',
  'serial_number',
  'business_type',
  'source_system',
  'department_code',
  'department_name',
  'patient_id_enc',
  'patient_id_idx',
  'patient_name_enc',
  'patient_name_idx',
  'visit_number',
  'signer',
  'category',
  'signature_format',
  'original_sm3',
  'original_size',
  'digest_algorithm',
  'digest_value',
  'signature_sm3',
  'certificates_sm3',
  'timestamp_sm3',
  'file_sm3',
  'file_size',
  'file_name',
  'content_type',
  'file_storage',
  'signed_at',
  'received_at',
  'tags',
  'metadata',
  'verification',
  'dedupe_key',
  'idempotency_key',
  'evidence_hash',
] as const satisfies readonly Exclude<keyof EvidenceTable, 'log_index'>[];
type Missing = Exclude<keyof EvidenceTable, 'log_index' | (typeof EVIDENCE_COLUMNS)[number]>;
export const COMPLETE: [Missing] extends [never] ? true : Missing = true;

/** Columns the records' JSON holds as numbers; every other one is text, cast to its column's type on insert. */
const NUMERIC: ReadonlySet<string> = new Set<(typeof EVIDENCE_COLUMNS)[number]>([
  'original_size',
  'file_size',
]);
/** Each column's key in the records' JSON (`c0`, `c1`, …, in EVIDENCE_COLUMNS order). */
const KEYS = EVIDENCE_COLUMNS.map((_, k) => `c${k}`);

/**
 * The records as `json_to_recordset` reads them: one object per record, each column under its short key, NULL
 * fields left out (a missing key reads as NULL). The column names and the NULLs of mostly empty columns were
 * about 30% of the JSON, which PostgreSQL validates at bind and parses again per row; without them it spends
 * ~10–15 µs less per record, and building the objects costs this thread what serialising the longer text did.
 */
function recordsJson(items: readonly Item[]): string {
  const out = new Array<Record<string, string | number>>(items.length);
  for (let r = 0; r < items.length; r++) {
    const row = items[r]!.row as Readonly<Record<string, string | number | null | undefined>>;
    const o: Record<string, string | number> = {};
    for (let k = 0; k < EVIDENCE_COLUMNS.length; k++) {
      const v = row[EVIDENCE_COLUMNS[k]!];
      if (v !== null && v !== undefined) o[KEYS[k]!] = v;
    }
    out[r] = o;
  }
  return JSON.stringify(out);
}

/** A slice of `$2`: NULL when the field is NULL. */
const part = (f: string): string =>
  `CASE WHEN r.${f}_len IS NULL THEN NULL ELSE substring($2::bytea FROM r.${f}_off FOR r.${f}_len) END`;

/**
 * $1 the number of leaves, $2 the bytes, $3/$4 each leaf's entry offset (1-based) and length in $2 (its leaf
 * hash, 32 bytes, follows it), $5 the records (JSON), $6 the payloads' slices of $2 (JSON), $7–$9 the daily,
 * monthly and yearly statistics deltas (JSON).
 */
export const PG_EVIDENCE_WRITE = `WITH s AS (UPDATE log_state SET next_index = next_index + $1::bigint WHERE id = 1
    RETURNING next_index - $1::bigint AS first),
  l AS (INSERT INTO log_leaves (idx, entry, leaf_hash)
    SELECT s.first + r.k - 1, substring($2::bytea FROM r.off FOR r.len), substring($2::bytea FROM r.off + r.len FOR 32)
    FROM s, unnest($3::int[], $4::int[]) WITH ORDINALITY AS r(off, len, k)),
  e AS (INSERT INTO evidence (${EVIDENCE_COLUMNS.map((c) => `"${c}"`).join(', ')}, log_index)
    SELECT ${KEYS.map((k) => `r.${k}`).join(', ')}, s.first + r.ordinality - 1
    FROM s, ROWS FROM (json_to_recordset($5::json) AS (${EVIDENCE_COLUMNS.map(
      (c, k) => `${KEYS[k]!} ${NUMERIC.has(c) ? 'bigint' : 'text'}`,
    ).join(', ')})) WITH ORDINALITY AS r),
  p AS (INSERT INTO evidence_payloads (evidence_id, original, signature, certificates, timestamp_token)
    SELECT r.evidence_id, ${part('o')}, ${part('s')}, ${part('c')}, ${part('t')}
    FROM s, json_to_recordset($6::json) AS r(evidence_id text,
      o_off int, o_len int, s_off int, s_len int, c_off int, c_len int, t_off int, t_len int)),
${STATS_LEVELS.map(
  ({ table, column }, k) => `  s${k} AS (INSERT INTO ${table} (project_id, app_id, kind, "${column}", count)
    SELECT r.project_id, r.app_id, r.kind, r."${column}", r.count
    FROM s, json_populate_recordset(NULL::${table}, $${7 + k}::json) AS r
    ON CONFLICT (project_id, app_id, kind, "${column}") DO UPDATE SET count = ${table}.count + excluded.count)`,
).join(',\n')}
SELECT first FROM s`;
// Parsed and planned once per connection, not per group commit (db/named-statements.ts).
namedStatement(PG_EVIDENCE_WRITE);

/** A payload's slices of the byte parameter (1-based offsets; null: the field is NULL). */
interface Slices {
  evidence_id: string;
  o_off: number | null;
  o_len: number | null;
  s_off: number | null;
  s_len: number | null;
  c_off: number | null;
  c_len: number | null;
  t_off: number | null;
  t_len: number | null;
}

/**
 * The byte parameter (each entry followed by its leaf hash, then the payloads' bytes), the leaves' offsets, and
 * the slices of the payloads that carry bytes (as in repo.insertEvidence: a payload of four NULLs is not stored).
 */
function pack(
  items: readonly Item[],
  leafHashes: readonly Uint8Array[],
): { bytes: Buffer; offsets: number[]; lengths: number[]; slices: Slices[] } {
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  const lengths: number[] = [];
  let at = 1;
  const add = (v: Uint8Array): number => {
    parts.push(v);
    const off = at;
    at += v.length;
    return off;
  };
  items.forEach((item, k) => {
    offsets.push(add(item.entry));
    lengths.push(item.entry.length);
    add(leafHashes[k]!);
  });
  const slices: Slices[] = [];
  for (const { payload: p } of items) {
    if (p.original === null && p.signature === null && p.certificates === null && p.timestamp_token === null)
      continue;
    slices.push({
      evidence_id: p.evidence_id,
      o_off: p.original === null ? null : add(p.original),
      o_len: p.original === null ? null : p.original.length,
      s_off: p.signature === null ? null : add(p.signature),
      s_len: p.signature === null ? null : p.signature.length,
      c_off: p.certificates === null ? null : add(p.certificates),
      c_len: p.certificates === null ? null : p.certificates.length,
      t_off: p.timestamp_token === null ? null : add(p.timestamp_token),
      t_len: p.timestamp_token === null ? null : p.timestamp_token.length,
    });
  }
  return { bytes: Buffer.concat(parts, at - 1), offsets, lengths, slices };
}

/** The statistics deltas per level, each summed by key and sorted (the lock order of bumpStats). */
function statsRows(events: readonly StatsEvent[]): Record<string, string | number>[][] {
  const daily = deltasOf(events);
  return STATS_LEVELS.map(({ column, width }) =>
    rollUp(daily, width).map(({ period, ...r }) => ({ ...r, [column]: period })),
  );
}

/**
 * The leaf hash HASH(0x00 ‖ entry) of RFC 9162 — the log hasher's `hashLeaf` — for SM3 by the one-shot native
 * SM3 (~1.5 µs a leaf instead of ~3.9 µs through a `createHash` object per leaf); other hashes by the hasher.
 */
export function leafHasher(name: LogHashName, hashLeaf: (entry: Uint8Array) => Uint8Array) {
  if (name !== 'sm3') return hashLeaf;
  return (entry: Uint8Array): Uint8Array => {
    const b = new Uint8Array(entry.length + 1); // b[0] = 0x00, the leaf prefix
    b.set(entry, 1);
    return sm3(b);
  };
}

/** Writes `items` (log, records, payloads and their statistics); returns the first log index. */
export type PgEvidenceWrite = (items: readonly Item[]) => Promise<number>;

export function pgEvidenceWrite(db: Kysely<Database>): PgEvidenceWrite {
  // The log's hash is fixed per deployment (initLog refuses a change), so it is read once.
  let hasher: Promise<(entry: Uint8Array) => Uint8Array> | undefined;
  const hasherOf = () =>
    (hasher ??= db
      .selectFrom('log_state')
      .select('hash_alg')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow()
      .then((r) => {
        const h = nodeLogHasher(r.hash_alg);
        return leafHasher(h.name, (e) => h.hashLeaf(e));
      })
      .catch((e: unknown) => {
        hasher = undefined;
        throw e;
      }));

  return async (items) => {
    const n = items.length;
    if (n === 0) throw new RangeError('pgEvidenceWrite: no items');
    const entries = items.map((i) => i.entry);
    checkEntries(entries);
    const hashLeaf = await hasherOf();
    const { bytes, offsets, lengths, slices } = pack(items, entries.map(hashLeaf));
    // Records carry text and numbers only (no bytes, no bigint: NewEvidenceRow's types), so the native
    // JSON.stringify serialises them as json_to_recordset reads them.
    const levels = statsRows(
      items.map(({ row }) => ({
        project_id: row.project_id,
        app_id: row.app_id,
        kind: row.kind,
        at: row.received_at,
      })),
    );
    const result = await db.executeQuery<{ first: string | number }>(
      CompiledQuery.raw(PG_EVIDENCE_WRITE, [
        n,
        bytes,
        offsets,
        lengths,
        recordsJson(items),
        JSON.stringify(slices),
        JSON.stringify(levels[0]),
        JSON.stringify(levels[1]),
        JSON.stringify(levels[2]),
      ]),
    );
    const row = result.rows[0];
    if (row === undefined) throw new Error('log_state row 1 is missing (run the migrations)');
    return Number(row.first);
  };
}
