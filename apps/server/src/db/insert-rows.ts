/**
 * Multi-row INSERTs of a fixed column list without the query builder, for the per-request hot paths (API-log
 * entries, request nonces). Kysely compiles `insertInto(t).values(rows)` anew on every call, walking an operation
 * tree of rows × columns nodes (several µs per API-log row); the statement text only depends on the dialect, the
 * table, the columns and the number of rows, so it is built once per shape and kept. The statement is the one
 * Kysely writes for the same rows (identifiers quoted the dialect's way, `$n` or `?` placeholders, row after row)
 * and the parameters are the same values in the same order, handed to the same driver.
 */
import { CompiledQuery, MysqlAdapter, PostgresAdapter, type Insertable, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export type Style = 'pg' | 'mysql' | 'sqlite';

function styleOf(db: Kysely<Database>): Style {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'pg';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  return 'sqlite';
}

/**
 * Statement texts by (dialect, table, columns): ONE text per such shape, grown a row at a time as needed, with
 * the length after each row, so the statement for n rows is a prefix of it (memory bounded by the largest batch,
 * not by the number of batch sizes seen). A handful of shapes in practice; the map is cleared if it ever grows.
 */
interface Texts {
  text: string;
  /** ends[k]: the length of the statement for k + 1 rows. */
  ends: number[];
}
const TEXTS = new Map<string, Texts>();
const MAX_SHAPES = 64;

function quote(style: Style, name: string): string {
  return style === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}

function statementText(style: Style, table: string, columns: readonly string[], rows: number): string {
  const key = `${style}\u0000${table}\u0000${columns.join('\u0000')}`;
  let t = TEXTS.get(key);
  if (t === undefined) {
    if (TEXTS.size >= MAX_SHAPES) TEXTS.clear();
    t = {
      text: `insert into ${quote(style, table)} (${columns.map((c) => quote(style, c)).join(', ')}) values `,
      ends: [],
    };
    TEXTS.set(key, t);
  }
  const n = columns.length;
  for (let r = t.ends.length; r < rows; r++) {
    const marks: string[] = [];
    for (let c = 0; c < n; c++) marks.push(style === 'pg' ? `$${r * n + c + 1}` : '?');
    t.text += `${r === 0 ? '' : ', '}(${marks.join(', ')})`;
    t.ends.push(t.text.length);
  }
  return t.text.slice(0, t.ends[rows - 1]);
}

/**
 * The text of {@link insertRows}' statement for `rows` rows of these columns (placeholders `$1`… on PostgreSQL,
 * row after row), for callers that embed it in a larger statement (a CTE) and append parameters of their own.
 */
export function insertStatement(
  style: Style,
  table: keyof Database,
  columns: readonly string[],
  rows: number,
): string {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError('insertStatement: no rows');
  return statementText(style, table, columns, rows);
}

/** The columns of `rows` when every row has the same ones, in the same order, none undefined; else undefined. */
function uniformColumns(rows: readonly Readonly<Record<string, unknown>>[]): string[] | undefined {
  const columns = Object.keys(rows[0]!);
  for (const row of rows) {
    let n = 0;
    for (const k in row) {
      if (k !== columns[n] || row[k] === undefined) return undefined;
      n++;
    }
    if (n !== columns.length) return undefined;
  }
  return columns;
}

/**
 * Inserts `rows` (at least one) into `table`, on `db` as given (so inside a transaction when `db` is one).
 * Rows that do not all carry the same defined columns in the same order go through Kysely as before (it writes
 * DEFAULT for a column a row leaves out).
 */
export async function insertRows<T extends keyof Database>(
  db: Kysely<Database>,
  table: T,
  rows: readonly Insertable<Database[T]>[],
): Promise<void> {
  if (rows.length === 0) throw new RangeError('insertRows: no rows');
  const flat = rows as readonly Readonly<Record<string, unknown>>[];
  const columns = uniformColumns(flat);
  if (columns === undefined) {
    await db.insertInto(table).values(rows).execute();
    return;
  }
  const params: unknown[] = [];
  for (const row of flat) for (const c of columns) params.push(row[c]);
  await db.executeQuery(CompiledQuery.raw(statementText(styleOf(db), table, columns, rows.length), params));
}
