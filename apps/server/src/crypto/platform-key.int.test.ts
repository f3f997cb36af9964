import { sm2 } from '@yizheng/gm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/connect.js';
import { isStartupError } from '../startup-error.js';
import { openMigrated, T0 } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { loadPlatformKey, PLATFORM_KEY_NAME } from './platform-key.js';

const KEK = new Uint8Array(16).fill(3);

describe.each(testDialects())('platform key on %s', (dialect) => {
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

  it('is generated once, stored sealed, and signs what its public key verifies', async () => {
    const a = await loadPlatformKey({ db: db.kysely, kek: KEK, now: T0 });
    const b = await loadPlatformKey({ db: db.kysely, kek: KEK, now: T0 });
    expect(b.publicKey.toPem()).toBe(a.publicKey.toPem());
    const sig = sm2.sign(b.privateKey, 'receipt');
    expect(sm2.verify(a.publicKey, 'receipt', sig)).toBe(true);
    const row = await db.kysely
      .selectFrom('key_store')
      .selectAll()
      .where('name', '=', PLATFORM_KEY_NAME)
      .executeTakeFirstOrThrow();
    expect(Buffer.from(row.wrapped, 'base64').toString('latin1')).not.toContain('PRIVATE KEY');
  });

  it('KEK_INVALID under another KEK', async () => {
    let err: unknown;
    try {
      await loadPlatformKey({ db: db.kysely, kek: new Uint8Array(16).fill(4), now: T0 });
    } catch (e) {
      err = e;
    }
    expect(isStartupError(err, 'KEK_INVALID')).toBe(true);
  });
});
