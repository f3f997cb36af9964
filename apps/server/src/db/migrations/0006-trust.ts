import { MysqlAdapter, sql, type Kysely, type Migration } from 'kysely';

/**
 * The platform's trust services (src/ca, modules/tsa, modules/downloads):
 * - `ca_certificates`: the internal CA's certificates (root, platform signing, TSA per algorithm), DER as base64;
 *   their private keys are in `key_store`, sealed under the KEK like the platform key.
 * - `tsa_serials`: the TSA's serial-number counter. A process reserves a block (`next` += block size) in one
 *   transaction and hands out serials from it, so serials are unique and increasing across restarts and
 *   processes (a restart skips what was left of its block).
 * - `download_tokens`: one-time download links already used (the link itself is an HMAC, never stored).
 */
export const trust: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
    const end = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
      mysql ? t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`) : t;
    await end(
      db.schema
        .createTable('ca_certificates')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('algorithm', 'varchar(16)', (c) => c.notNull())
        .addColumn('der', 'text', (c) => c.notNull())
        .addColumn('origin', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull()),
    ).execute();
    await end(
      db.schema
        .createTable('tsa_serials')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('next', 'bigint', (c) => c.notNull()),
    ).execute();
    await end(
      db.schema
        .createTable('download_tokens')
        .addColumn('token_id', 'char(64)', (c) => c.primaryKey())
        .addColumn('used_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(32)', (c) => c.notNull()),
    ).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('download_tokens').ifExists().execute();
    await db.schema.dropTable('tsa_serials').ifExists().execute();
    await db.schema.dropTable('ca_certificates').ifExists().execute();
  },
};
