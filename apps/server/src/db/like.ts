import { sql, type RawBuilder } from 'kysely';

/**
 * `column LIKE '%text%'` with the text matched literally on all three dialects. The escape character is `!`
 * because backslash means different things in SQLite (no default escape), PostgreSQL and MySQL string literals.
 */
export function containsText(column: string, text: string): RawBuilder<boolean> {
  const pattern = `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
  return sql<boolean>`${sql.ref(column)} LIKE ${pattern} ESCAPE '!'`;
}
