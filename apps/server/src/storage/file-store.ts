/**
 * Content-addressed file stores for evidence files. A file's address is the hex SM3 of its bytes; `put` is
 * idempotent and durable before it returns; `get` re-hashes what it reads, so a changed byte is reported
 * (FILE_CORRUPT) instead of served.
 *
 * - local:    `<root>/<h[0:2]>/<h[2:4]>/<h>`; written to `<root>/tmp/`, fsynced, renamed into place, then the
 *             directories are fsynced (file and directory, as DESIGN.md "Storage" asks).
 * - database: the `file_blobs` table (for small files), written in the caller's transaction when given one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sm3, toHex } from '@yizheng/gm';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import type { Database, FileStorage } from '../db/schema.js';
import { readThrough } from '../lifecycle/read-through.js';

export type FileStoreErrorCode = 'FILE_NOT_FOUND' | 'FILE_CORRUPT' | 'FILE_ADDRESS_INVALID';

export class FileStoreError extends Error {
  override readonly name = 'FileStoreError';
  constructor(
    readonly code: FileStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface StoredFile {
  /** Hex SM3 of the content: the file's address. */
  sm3: string;
  size: number;
}

export interface FileStore {
  readonly kind: FileStorage;
  put(content: Uint8Array): Promise<StoredFile>;
  get(address: string): Promise<Uint8Array>;
  has(address: string): Promise<boolean>;
}

const ADDRESS_RE = /^[0-9a-f]{64}$/;

function checkAddress(address: string): void {
  if (!ADDRESS_RE.test(address))
    throw new FileStoreError('FILE_ADDRESS_INVALID', `not an SM3 address: ${address.slice(0, 80)}`);
}

function verified(address: string, content: Uint8Array): Uint8Array {
  if (toHex(sm3(content)) !== address)
    throw new FileStoreError('FILE_CORRUPT', `stored file ${address} does not match its SM3`);
  return content;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function createLocalFileStore(options: { root: string }): FileStore {
  const { root } = options;
  const pathOf = (h: string): string => join(root, h.slice(0, 2), h.slice(2, 4), h);
  const exists = async (p: string): Promise<boolean> => {
    try {
      await stat(p);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  };
  return {
    kind: 'local',
    async put(content) {
      const address = toHex(sm3(content));
      const final = pathOf(address);
      if (await exists(final)) return { sm3: address, size: content.length };
      const tmpDir = join(root, 'tmp');
      await mkdir(tmpDir, { recursive: true });
      await mkdir(dirname(final), { recursive: true });
      const tmp = join(tmpDir, `${address}.${randomBytes(6).toString('hex')}`);
      const fh = await open(tmp, 'wx', 0o640);
      try {
        await fh.writeFile(content);
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await rename(tmp, final);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      // The rename is durable once its directory is; new parent directories must reach the disk too.
      fsyncDir(dirname(final));
      fsyncDir(dirname(dirname(final)));
      fsyncDir(root);
      return { sm3: address, size: content.length };
    },
    async get(address) {
      checkAddress(address);
      let content: Buffer;
      try {
        content = await readFile(pathOf(address));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT')
          throw new FileStoreError('FILE_NOT_FOUND', address);
        throw e;
      }
      return verified(address, new Uint8Array(content));
    },
    async has(address) {
      checkAddress(address);
      return exists(pathOf(address));
    },
  };
}

export function createDatabaseFileStore(options: { db: Kysely<Database>; now(): number }): FileStore {
  const { db } = options;
  return {
    kind: 'database',
    async put(content) {
      const address = toHex(sm3(content));
      try {
        await db
          .insertInto('file_blobs')
          .values({
            sm3: address,
            size: content.length,
            content: Buffer.from(content),
            created_at: isoTime(options.now()),
          })
          .execute();
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
      }
      return { sm3: address, size: content.length };
    },
    async get(address) {
      checkAddress(address);
      // Hot first, then the cold database when one is attached (lifecycle/read-through.ts).
      const row = await readThrough(db, (d) =>
        d.selectFrom('file_blobs').select('content').where('sm3', '=', address).executeTakeFirst(),
      );
      if (row === undefined) throw new FileStoreError('FILE_NOT_FOUND', address);
      return verified(address, new Uint8Array(row.content));
    },
    async has(address) {
      checkAddress(address);
      return (
        (await db.selectFrom('file_blobs').select('sm3').where('sm3', '=', address).executeTakeFirst()) !==
        undefined
      );
    },
  };
}

/** The store a project's files go to. */
export function fileStoreFor(
  project: { fileStorage: FileStorage },
  stores: { local: FileStore; database: FileStore },
): FileStore {
  return project.fileStorage === 'database' ? stores.database : stores.local;
}
