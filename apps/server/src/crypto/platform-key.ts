/**
 * The platform's own SM2 key (it signs receipts and log checkpoints). Generated on first start and stored in
 * `key_store` as its PKCS#8 PEM sealed with SM4-GCM under the KEK (aad = the key's name): never in clear in the
 * database. An HSM (PKCS#11) can take its place later.
 */
import { isGmError, sm2, sm4Open, sm4Seal, type Sm2PrivateKey, type Sm2PublicKey } from '@yizheng/gm';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { StartupError } from '../startup-error.js';

export const PLATFORM_KEY_NAME = 'platform-sm2-v1';
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface PlatformKey {
  privateKey: Sm2PrivateKey;
  publicKey: Sm2PublicKey;
}

export async function loadPlatformKey(options: {
  db: Kysely<Database>;
  kek: Uint8Array;
  now: number;
}): Promise<PlatformKey> {
  const { db, kek } = options;
  for (let attempt = 0; attempt < 2; attempt++) {
    const row = await db
      .selectFrom('key_store')
      .select('wrapped')
      .where('name', '=', PLATFORM_KEY_NAME)
      .executeTakeFirst();
    if (row !== undefined) {
      let pem: string;
      try {
        pem = new TextDecoder().decode(
          sm4Open(kek, new Uint8Array(Buffer.from(row.wrapped, 'base64')), utf8(PLATFORM_KEY_NAME)),
        );
      } catch (e) {
        if (isGmError(e)) {
          throw new StartupError(
            'KEK_INVALID',
            `the KEK does not open the platform key: wrong KEK file for this database?`,
            { cause: e },
          );
        }
        throw e;
      }
      const privateKey = sm2.importPrivateKey(pem);
      return { privateKey, publicKey: privateKey.publicKey };
    }
    const pair = sm2.generateKeyPair();
    const wrapped = Buffer.from(
      sm4Seal(kek, utf8(pair.privateKey.toPem()), utf8(PLATFORM_KEY_NAME)),
    ).toString('base64');
    try {
      await db
        .insertInto('key_store')
        .values({ name: PLATFORM_KEY_NAME, wrapped, created_at: isoTime(options.now) })
        .execute();
      return pair;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e; // another process created it: read theirs
    }
  }
  throw new StartupError('KEK_INVALID', 'cannot create the platform key');
}
