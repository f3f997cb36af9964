/**
 * Named (server-side prepared) statements for the constant hot statements on PostgreSQL. node-postgres sends an
 * unnamed statement's text with every execution, and PostgreSQL parses and plans it every time: for the evidence
 * write (one ~3 KB `WITH …` statement per group commit) that parse and plan led PostgreSQL's CPU profile. A text
 * registered here is sent once per connection under a fixed name, and executed by name after that.
 *
 * Registration is by exact text, so a statement whose text varies (a VALUES list per row count) is never named by
 * accident; names are derived from the text, so one name always means one text. Register only statements whose
 * result columns are fixed by the text (not `SELECT *` of a table): PostgreSQL refuses to run a prepared statement
 * whose result type a later ALTER TABLE (another instance's migration) changed.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

const NAMES = new Map<string, string>();

/** Marks `text` (a constant statement) to be prepared once per connection; returns its statement name. */
export function namedStatement(text: string): string {
  let name = NAMES.get(text);
  if (name === undefined) {
    name = `yz_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    NAMES.set(text, name);
  }
  return name;
}

type QueryFn = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * Makes `client` execute registered texts by name: `query(text, values)` (as Kysely calls it) becomes
 * `query({ name, text, values })`; every other call is passed through unchanged.
 */
export function nameStatements(client: pg.PoolClient): void {
  const target = client as unknown as { query: QueryFn };
  const query: QueryFn = target.query.bind(client);
  target.query = (config, values, callback) => {
    const name = typeof config === 'string' ? NAMES.get(config) : undefined;
    if (name === undefined || typeof values === 'function') return query(config, values, callback);
    return query({ name, text: config, values }, callback);
  };
}
