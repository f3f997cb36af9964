import { MysqlAdapter, PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

const TIME = 'varchar(32)';
const ID = 'varchar(64)';
const HASH = 'char(64)';

/**
 * Evidence (电子签名数据, 摘要数据, 电子文件): one `evidence` row per record, whose columns are everything the
 * canonical record (src/evidence/canonical.ts) is computed from, and one `evidence_payloads` row with the bytes
 * the record names by SM3 (original, signature, certificates, timestamp token). Files themselves live in the
 * project's file store (content-addressed).
 *
 * Indexes serve the query API (project + kind + time, serial number, patient blind index, application) and the
 * two uniqueness rules: the same evidence pushed twice by an application (`dedupe_key`), and a reused
 * `Idempotency-Key` (`idempotency_key`, NULL when none was sent; NULLs never collide on any of the dialects).
 */
export const evidence: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const adapter = db.getExecutor().adapter;
    const mysql = adapter instanceof MysqlAdapter;
    const blob = adapter instanceof PostgresAdapter ? sql`bytea` : mysql ? sql`longblob` : sql`blob`;
    const longText = mysql ? sql`longtext` : sql`text`;
    const opts = mysql ? sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin` : undefined;
    let t = db.schema
      .createTable('evidence')
      .addColumn('id', ID, (c) => c.primaryKey())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('project_id', ID, (c) => c.notNull())
      .addColumn('app_id', ID, (c) => c.notNull())
      .addColumn('serial_number', 'varchar(128)', (c) => c.notNull())
      .addColumn('business_type', 'varchar(128)')
      .addColumn('source_system', 'varchar(128)')
      .addColumn('department_code', 'varchar(64)')
      .addColumn('department_name', 'varchar(200)')
      .addColumn('patient_id_enc', 'text')
      .addColumn('patient_id_idx', HASH)
      .addColumn('patient_name_enc', 'text')
      .addColumn('patient_name_idx', HASH)
      .addColumn('visit_number', 'varchar(128)')
      .addColumn('signer', 'varchar(200)')
      .addColumn('category', 'varchar(128)')
      .addColumn('signature_format', 'varchar(32)')
      .addColumn('original_sm3', HASH)
      .addColumn('original_size', 'bigint')
      .addColumn('digest_algorithm', 'varchar(16)')
      .addColumn('digest_value', 'varchar(256)')
      .addColumn('signature_sm3', HASH)
      .addColumn('certificates_sm3', HASH)
      .addColumn('timestamp_sm3', HASH)
      .addColumn('file_sm3', HASH)
      .addColumn('file_size', 'bigint')
      .addColumn('file_name', 'varchar(255)')
      .addColumn('content_type', 'varchar(128)')
      .addColumn('file_storage', 'varchar(16)')
      .addColumn('signed_at', TIME)
      .addColumn('received_at', TIME, (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('metadata', longText, (c) => c.notNull())
      .addColumn('verification', 'text', (c) => c.notNull())
      .addColumn('dedupe_key', HASH, (c) => c.notNull())
      .addColumn('idempotency_key', 'varchar(200)')
      .addColumn('evidence_hash', HASH, (c) => c.notNull())
      .addColumn('log_index', 'bigint', (c) => c.notNull())
      .addForeignKeyConstraint('evidence_project_fk', ['project_id'], 'projects', ['id'], (fk) =>
        fk.onDelete('cascade'),
      );
    if (opts) t = t.modifyEnd(opts);
    await t.execute();
    const idx = (name: string, columns: string[], unique = false) => {
      let b = db.schema.createIndex(name).on('evidence').columns(columns);
      if (unique) b = b.unique();
      return b.execute();
    };
    await idx('evidence_project_time_idx', ['project_id', 'kind', 'received_at', 'id']);
    await idx('evidence_app_time_idx', ['app_id', 'kind', 'received_at', 'id']);
    await idx('evidence_serial_idx', ['project_id', 'kind', 'serial_number']);
    await idx('evidence_patient_idx', ['project_id', 'kind', 'patient_id_idx']);
    await idx('evidence_patient_name_idx', ['project_id', 'kind', 'patient_name_idx']);
    await idx('evidence_dedupe_uq', ['app_id', 'dedupe_key'], true);
    await idx('evidence_idempotency_uq', ['app_id', 'idempotency_key'], true);
    await idx('evidence_log_index_idx', ['log_index']);

    let p = db.schema
      .createTable('evidence_payloads')
      .addColumn('evidence_id', ID, (c) => c.primaryKey())
      .addColumn('original', blob)
      .addColumn('signature', blob)
      .addColumn('certificates', blob)
      .addColumn('timestamp_token', blob)
      .addForeignKeyConstraint('evidence_payloads_fk', ['evidence_id'], 'evidence', ['id'], (fk) =>
        fk.onDelete('cascade'),
      );
    if (opts) p = p.modifyEnd(opts);
    await p.execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('evidence_payloads').ifExists().execute();
    await db.schema.dropTable('evidence').ifExists().execute();
  },
};
