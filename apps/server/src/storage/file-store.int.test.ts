import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sm3, toHex } from '@yizheng/gm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/connect.js';
import { openMigrated, T0, tempDir } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import {
  createDatabaseFileStore,
  createLocalFileStore,
  fileStoreFor,
  FileStoreError,
  type FileStore,
} from './file-store.js';

const consent = new TextEncoder().encode('知情同意书 consent form %PDF-1.7 …');
const binary = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + 7) & 0xff);

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof FileStoreError ? e.code : String(e);
  }
  return undefined;
}

function contract(name: string, make: () => FileStore, tamper: (address: string) => Promise<void>): void {
  describe(name, () => {
    it('put returns the SM3 address; get returns the same bytes; put is idempotent', async () => {
      const store = make();
      const a = await store.put(consent);
      expect(a).toEqual({ sm3: toHex(sm3(consent)), size: consent.length });
      expect(await store.put(consent)).toEqual(a);
      expect(await store.get(a.sm3)).toEqual(consent);
      const b = await store.put(binary);
      expect(await store.get(b.sm3)).toEqual(binary);
      expect(await store.has(b.sm3)).toBe(true);
      expect(await store.has('0'.repeat(64))).toBe(false);
    });
    it('FILE_NOT_FOUND, FILE_ADDRESS_INVALID', async () => {
      const store = make();
      expect(await codeOf(store.get('1'.repeat(64)))).toBe('FILE_NOT_FOUND');
      expect(await codeOf(store.get('../../etc/passwd'))).toBe('FILE_ADDRESS_INVALID');
    });
    it('FILE_CORRUPT when a stored byte changed', async () => {
      const store = make();
      const a = await store.put(new TextEncoder().encode('to be tampered'));
      await tamper(a.sm3);
      expect(await codeOf(store.get(a.sm3))).toBe('FILE_CORRUPT');
    });
  });
}

const tmp = tempDir('yz-files-');
afterAll(() => {
  tmp.remove();
});
const root = join(tmp.dir, 'files');
contract(
  'local content-addressed store',
  () => createLocalFileStore({ root }),
  (h) => {
    writeFileSync(join(root, h.slice(0, 2), h.slice(2, 4), h), 'to be tampereD');
    return Promise.resolve();
  },
);

describe('local store layout', () => {
  it('leaves no temporary files behind', async () => {
    await createLocalFileStore({ root }).put(new TextEncoder().encode('layout'));
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });
});

describe.each(testDialects())('database store on %s', (dialect) => {
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
  contract(
    'contract',
    () => createDatabaseFileStore({ db: db.kysely, now: () => T0 }),
    async (h) => {
      await db.kysely
        .updateTable('file_blobs')
        .set({ content: Buffer.from('to be tampereD') })
        .where('sm3', '=', h)
        .execute();
    },
  );
  it('fileStoreFor follows the project setting', () => {
    const stores = {
      local: createLocalFileStore({ root }),
      database: createDatabaseFileStore({ db: db.kysely, now: () => T0 }),
    };
    expect(fileStoreFor({ fileStorage: 'database' }, stores).kind).toBe('database');
    expect(fileStoreFor({ fileStorage: 'local' }, stores).kind).toBe('local');
  });
});
