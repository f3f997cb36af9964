import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/connect.js';
import { isStartupError } from '../startup-error.js';
import { openMigrated, T0 } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { FieldCryptoError, loadFieldCrypto } from './field-crypto.js';

const KEK = new Uint8Array(16).fill(7);
const OTHER_KEK = new Uint8Array(16).fill(8);

describe.each(testDialects())('patient-field encryption on %s', (dialect) => {
  let tdb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    tdb = await createTestDatabase(dialect);
    db = await openMigrated(tdb.config);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('seals and opens; ciphertexts differ each time; the same key is found again after a restart', async () => {
    const fc = await loadFieldCrypto({ db: db.kysely, kek: KEK, now: T0 });
    const a = fc.seal('patient_name', '张三');
    const b = fc.seal('patient_name', '张三');
    expect(a).not.toBe(b);
    expect(a).not.toContain('张三');
    expect(fc.open('patient_name', a)).toBe('张三');
    const again = await loadFieldCrypto({ db: db.kysely, kek: KEK, now: T0 });
    expect(again.open('patient_name', b)).toBe('张三');
    expect(again.blindIndex('patient_id', 'P-0001')).toBe(fc.blindIndex('patient_id', 'P-0001'));
  });

  it('the wrapped data keys in the database are not the keys (never stored in clear)', async () => {
    const rows = await db.kysely.selectFrom('key_store').selectAll().orderBy('name').execute();
    expect(rows.map((r) => r.name)).toEqual(['field-enc-v1', 'field-index-v1']);
    for (const r of rows) expect(Buffer.from(r.wrapped, 'base64').length).toBeGreaterThan(16);
  });

  it('blind index: exact match only, per field, NFC-normalised, 64 hex digits', async () => {
    const fc = await loadFieldCrypto({ db: db.kysely, kek: KEK, now: T0 });
    const i = fc.blindIndex('patient_id', 'P-0001');
    expect(i).toMatch(/^[0-9a-f]{64}$/);
    expect(fc.blindIndex('patient_id', 'P-0002')).not.toBe(i);
    expect(fc.blindIndex('visit_no', 'P-0001')).not.toBe(i);
    expect(fc.blindIndex('patient_name', 'e\u0301')).toBe(fc.blindIndex('patient_name', '\u00e9'));
  });

  it('FIELD_DECRYPT_FAILED for a changed byte, another field, or a foreign value', async () => {
    const fc = await loadFieldCrypto({ db: db.kysely, kek: KEK, now: T0 });
    const s = fc.seal('patient_name', '李四');
    const raw = Buffer.from(s.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    const tampered = `v1.${raw.toString('base64')}`;
    for (const [field, value] of [
      ['patient_name', tampered],
      ['patient_id', s],
      ['patient_name', 'plain'],
    ] as const) {
      let err: unknown;
      try {
        fc.open(field, value);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FieldCryptoError);
      expect((err as FieldCryptoError).code).toBe('FIELD_DECRYPT_FAILED');
    }
  });

  it('KEK_INVALID when the KEK does not open the stored data keys', async () => {
    let err: unknown;
    try {
      await loadFieldCrypto({ db: db.kysely, kek: OTHER_KEK, now: T0 });
    } catch (e) {
      err = e;
    }
    expect(isStartupError(err, 'KEK_INVALID')).toBe(true);
  });
});
