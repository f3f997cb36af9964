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
 * The rows travel as a few JSON parameters (`json_populate_recordset` converts each field to its column's type:
 * text, bigint, the 32-byte leaf values as `\x…` hex) and the payload bytes as ONE binary parameter sliced by
 * offset, so a batch costs a handful of bound parameters however many rows it holds. Every CTE reads the
 * counter CTE `s`, so the counter row is locked first, as in `appendLeaves`
 * (log/sequencer.ts): log indices stay contiguous, a failure (a unique violation, say) undoes the counter with
 * the rows, and concurrent writers take their locks in one order (the counter, then the stats keys in sorted
 * order). Semantics equal the general path: the evidence module's tests run on both.
 */
import { nodeLogHasher } from '@yizheng/ledger/node';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import { checkEntries } from '../log/sequencer.js';
import { deltasOf, type StatsEvent } from '../stats/repo.js';
import type * as repo from '../modules/evidence/repo.js';

interface Item {
  row: Omit<repo.NewEvidenceRow, 'log_index'>;
  payload: repo.PayloadRow;
  entry: Uint8Array;
}

const hex = (b: Uint8Array): string =>
  `\\x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;

/** JSON for json_populate_recordset: bytes as bytea hex, 64-bit integers as numbers or strings. */
function json(rows: readonly object[]): string {
  return JSON.stringify(rows, (_k, v: unknown) =>
    v instanceof Uint8Array ? hex(v) : typeof v === 'bigint' ? v.toString() : v,
  );
}

/** The payloads that carry bytes (as in repo.insertEvidence: a payload of four NULLs is not stored). */
function payloadsOf(items: readonly Item[]): repo.PayloadRow[] {
  return items
    .map((i) => i.payload)
    .filter(
      (p) =>
        p.original !== null || p.signature !== null || p.certificates !== null || p.timestamp_token !== null,
    );
}

/** The payloads' bytes concatenated, and per payload each field's 1-based offset and length (null: NULL). */
function packPayloads(payloads: readonly repo.PayloadRow[]): {
  blob: Buffer;
  slices: Record<string, string | number | null>[];
} {
  const parts: Uint8Array[] = [];
  let at = 1;
  const slices = payloads.map((p) => {
    const out: Record<string, string | number | null> = { evidence_id: p.evidence_id };
    for (const [f, v] of [
      ['o', p.original],
      ['s', p.signature],
      ['c', p.certificates],
      ['t', p.timestamp_token],
    ] as const) {
      out[`${f}_off`] = v === null ? null : at;
      out[`${f}_len`] = v === null ? null : v.length;
      if (v !== null) {
        parts.push(v);
        at += v.length;
      }
    }
    return out;
  });
  return { blob: Buffer.concat(parts), slices };
}

const STATS = [
  { table: 'stats_daily', column: 'day', width: 10 },
  { table: 'stats_monthly', column: 'month', width: 7 },
  { table: 'stats_yearly', column: 'year', width: 4 },
] as const;

/** The statistics deltas per level, each summed by key and sorted (the lock order of bumpStats). */
function statsRows(events: readonly StatsEvent[]): Record<string, string | number>[][] {
  const daily = deltasOf(events);
  return STATS.map(({ column, width }) => {
    const m = new Map<string, Record<string, string | number>>();
    for (const d of daily) {
      const period = d.day.slice(0, width);
      const key = `${d.project_id}\u0000${d.app_id}\u0000${d.kind}\u0000${period}`;
      const e = m.get(key);
      if (e === undefined)
        m.set(key, {
          project_id: d.project_id,
          app_id: d.app_id,
          kind: d.kind,
          [column]: period,
          count: d.count,
        });
      else e.count = Number(e.count) + d.count;
    }
    return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  });
}

/** Writes `items` (log, records, payloads and their statistics); returns the first log index. */
export type PgEvidenceWrite = (items: readonly Item[]) => Promise<number>;

export function pgEvidenceWrite(db: Kysely<Database>): PgEvidenceWrite {
  // The log's hash is fixed per deployment (initLog refuses a change), so it is read once.
  let hasher: Promise<ReturnType<typeof nodeLogHasher>> | undefined;
  const hasherOf = () =>
    (hasher ??= db
      .selectFrom('log_state')
      .select('hash_alg')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow()
      .then((r) => nodeLogHasher(r.hash_alg))
      .catch((e: unknown) => {
        hasher = undefined;
        throw e;
      }));

  return async (items) => {
    const n = items.length;
    if (n === 0) throw new RangeError('pgEvidenceWrite: no items');
    const entries = items.map((i) => i.entry);
    checkEntries(entries);
    const h = await hasherOf();
    const leaves = entries.map((e) => ({ entry: e, leaf_hash: h.hashLeaf(e) }));

    const columns = [...new Set(items.flatMap((i) => Object.keys(i.row)))].filter((c) => c !== 'log_index');
    const cols = sql.join(columns.map((c) => sql.ref(c)));
    const rCols = sql.join(columns.map((c) => sql.ref(`r.${c}`)));
    const ctes: RawBuilder<unknown>[] = [
      sql`s AS (UPDATE log_state SET next_index = next_index + ${n} WHERE id = 1 RETURNING next_index - ${n} AS first)`,
      sql`l AS (INSERT INTO log_leaves (idx, entry, leaf_hash)
        SELECT s.first + r.ordinality - 1, r.entry, r.leaf_hash
        FROM s, json_populate_recordset(NULL::log_leaves, ${json(leaves)}::json) WITH ORDINALITY AS r)`,
      sql`e AS (INSERT INTO evidence (${cols}, log_index)
        SELECT ${rCols}, s.first + r.ordinality - 1
        FROM s, json_populate_recordset(NULL::evidence, ${json(items.map((i) => i.row))}::json) WITH ORDINALITY AS r)`,
    ];
    const payloads = payloadsOf(items);
    if (payloads.length > 0) {
      // The payload bytes go as ONE binary parameter (node-postgres sends a Buffer in binary format), sliced by
      // offset in SQL: hex inside JSON costs PostgreSQL about three times the insert itself.
      const { blob, slices } = packPayloads(payloads);
      const part = (f: string) =>
        sql`CASE WHEN ${sql.ref(`r.${f}_len`)} IS NULL THEN NULL ELSE substring(${blob}::bytea FROM ${sql.ref(`r.${f}_off`)} FOR ${sql.ref(`r.${f}_len`)}) END`;
      ctes.push(sql`p AS (INSERT INTO evidence_payloads (evidence_id, original, signature, certificates, timestamp_token)
        SELECT r.evidence_id, ${part('o')}, ${part('s')}, ${part('c')}, ${part('t')}
        FROM s, json_to_recordset(${JSON.stringify(slices)}::json) AS r(evidence_id text,
          o_off int, o_len int, s_off int, s_len int, c_off int, c_len int, t_off int, t_len int))`);
    }
    const levels = statsRows(items.map((i) => ({ ...i.row, at: i.row.received_at })));
    STATS.forEach(({ table, column }, k) => {
      const t = sql.table(table);
      const c = sql.ref(column);
      ctes.push(sql`${sql.raw(`s${k}`)} AS (INSERT INTO ${t} (project_id, app_id, kind, ${c}, count)
        SELECT r.project_id, r.app_id, r.kind, r.${c}, r.count
        FROM s, json_populate_recordset(NULL::${t}, ${json(levels[k]!)}::json) AS r
        ON CONFLICT (project_id, app_id, kind, ${c}) DO UPDATE SET count = ${sql.ref(`${table}.count`)} + excluded.count)`);
    });
    const result = await sql<{
      first: string | number;
    }>`WITH ${sql.join(ctes)} SELECT first FROM s`.execute(db);
    const row = result.rows[0];
    if (row === undefined) throw new Error('log_state row 1 is missing (run the migrations)');
    return Number(row.first);
  };
}
