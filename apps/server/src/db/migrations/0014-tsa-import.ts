import type { Kysely, Migration } from 'kysely';

/**
 * Imported TSA keys (src/ca/tsa-import.ts, `yizheng tsa import`): `ca_certificates` gains
 * - `label`: the name given at import (`--name`), shown by `yizheng tsa list`;
 * - `chain`: the certificates above an imported TSA certificate (JSON array of base64 DER), sent with its stamps
 *   when a request asks for certificates. Both NULL for the internal CA's own certificates.
 */
export const tsaImport: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('ca_certificates').addColumn('label', 'varchar(128)').execute();
    await db.schema.alterTable('ca_certificates').addColumn('chain', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('ca_certificates').dropColumn('chain').execute();
    await db.schema.alterTable('ca_certificates').dropColumn('label').execute();
  },
};
