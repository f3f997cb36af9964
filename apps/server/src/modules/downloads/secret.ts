import { randomBytes } from 'node:crypto';
import { isGmError, sm4Open, sm4Seal } from '@yizheng/gm';
import type { Kysely } from 'kysely';
import { isoTime } from '../../context.js';
import { isUniqueViolation } from '../../db/connect.js';
import type { Database } from '../../db/schema.js';
import { StartupError } from '../../startup-error.js';

export const DOWNLOAD_SECRET_NAME = 'download-hmac-v1';
const aad = new TextEncoder().encode(DOWNLOAD_SECRET_NAME);

/** The 32-byte HMAC-SM3 secret of download links, sealed under the KEK in `key_store` (created on first start). */
export async function loadDownloadSecret(options: {
  db: Kysely<Database>;
  kek: Uint8Array;
  now: number;
}): Promise<Uint8Array> {
  const { db, kek } = options;
  for (let attempt = 0; attempt < 2; attempt++) {
    const row = await db
      .selectFrom('key_store')
      .select('wrapped')
      .where('name', '=', DOWNLOAD_SECRET_NAME)
      .executeTakeFirst();
    if (row !== undefined) {
      try {
        return sm4Open(kek, new Uint8Array(Buffer.from(row.wrapped, 'base64')), aad);
      } catch (e) {
        if (isGmError(e))
          throw new StartupError('KEK_INVALID', 'the KEK does not open the download-link secret', {
            cause: e,
          });
        throw e;
      }
    }
    const secret = new Uint8Array(randomBytes(32));
    try {
      await db
        .insertInto('key_store')
        .values({
          name: DOWNLOAD_SECRET_NAME,
          wrapped: Buffer.from(sm4Seal(kek, secret, aad)).toString('base64'),
          created_at: isoTime(options.now),
        })
        .execute();
      return secret;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }
  throw new StartupError('KEK_INVALID', 'cannot create the download-link secret');
}
