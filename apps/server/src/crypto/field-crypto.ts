/**
 * Patient-field encryption at rest (patient ids, names): SM4-GCM with a data key, plus an HMAC-SM3 blind index
 * for exact-match search.
 *
 * Two data keys live in the `key_store` table, each sealed by the KEK with SM4-GCM (aad = the key's name), so
 * neither is ever stored in clear and the database alone reveals nothing:
 *   - `field-enc-v1`   encrypts field values:   sealed = "v1." ‖ base64(sm4Seal(encKey, utf8(value), aad))
 *                      where aad = utf8("yizheng-field\0" ‖ field): a value moved to another field does not open;
 *   - `field-index-v1` keys the blind index:    index  = hex(HMAC-SM3(indexKey, utf8(field ‖ "\0" ‖ NFC(value))))
 *                      equal values of the same field have equal indexes; nothing else is learnt from them.
 */
import { randomBytes } from 'node:crypto';
import { createSm4Opener, createSm4Sealer, hmacSm3, isGmError, sm4Open, sm4Seal, toHex } from '@yizheng/gm';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { StartupError } from '../startup-error.js';

export const ENC_KEY_NAME = 'field-enc-v1';
export const INDEX_KEY_NAME = 'field-index-v1';
const PREFIX = 'v1.';
const encoder = new TextEncoder();
const utf8 = (s: string): Uint8Array => encoder.encode(s);
/** Stateless between calls (no `stream` option), so one instance serves every field. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export class FieldCryptoError extends Error {
  override readonly name = 'FieldCryptoError';
  readonly code = 'FIELD_DECRYPT_FAILED';
}

export interface FieldCrypto {
  /** Encrypts one field value; the result is text (safe for any column type). */
  seal(field: string, value: string): string;
  /** Decrypts; throws FieldCryptoError if the value was altered, moved to another field, or sealed under another key. */
  open(field: string, sealed: string): string;
  /** Deterministic exact-match index of a value (64 hex digits). */
  blindIndex(field: string, value: string): string;
}

export function createFieldCrypto(keys: { encKey: Uint8Array; indexKey: Uint8Array }): FieldCrypto {
  const { encKey, indexKey } = keys;
  // One key schedule and GHASH table per data key, prepared here rather than on every field (a list page opens
  // two fields per row). The sealer draws SP 800-38D §8.2.1 nonces (random fixed field, random counter start).
  const sealer = createSm4Sealer(encKey);
  const opener = createSm4Opener(encKey);
  const aads = new Map<string, Uint8Array>();
  const aad = (field: string): Uint8Array => {
    let a = aads.get(field);
    if (a === undefined) {
      a = utf8(`yizheng-field\0${field}`);
      aads.set(field, a);
    }
    return a;
  };
  return {
    seal: (field, value) => PREFIX + Buffer.from(sealer.seal(utf8(value), aad(field))).toString('base64'),
    open: (field, sealed) => {
      if (!sealed.startsWith(PREFIX)) throw new FieldCryptoError(`not a sealed field value (${field})`);
      try {
        const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
        const pt = opener.open(new Uint8Array(raw.buffer, raw.byteOffset, raw.length), aad(field));
        return strictUtf8.decode(pt);
      } catch (e) {
        if (isGmError(e) || e instanceof TypeError)
          throw new FieldCryptoError(`cannot open field ${field}`, { cause: e });
        throw e;
      }
    },
    blindIndex: (field, value) => toHex(hmacSm3(indexKey, utf8(`${field}\0${value.normalize('NFC')}`))),
  };
}

/** Loads the wrapped data key `name`, creating (and wrapping) it on first use. */
async function dataKey(
  db: Kysely<Database>,
  kek: Uint8Array,
  name: string,
  now: number,
): Promise<Uint8Array> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const row = await db
      .selectFrom('key_store')
      .select('wrapped')
      .where('name', '=', name)
      .executeTakeFirst();
    if (row !== undefined) {
      try {
        return sm4Open(kek, new Uint8Array(Buffer.from(row.wrapped, 'base64')), utf8(name));
      } catch (e) {
        if (isGmError(e)) {
          throw new StartupError(
            'KEK_INVALID',
            `the KEK does not open data key ${name}: wrong KEK file for this database?`,
            { cause: e },
          );
        }
        throw e;
      }
    }
    const key = new Uint8Array(randomBytes(16));
    const wrapped = Buffer.from(sm4Seal(kek, key, utf8(name))).toString('base64');
    try {
      await db
        .insertInto('key_store')
        .values({ name, wrapped, created_at: isoTime(now) })
        .execute();
      return key;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e; // another process created it: read theirs
    }
  }
  throw new StartupError('KEK_INVALID', `cannot create data key ${name}`);
}

export async function loadFieldCrypto(options: {
  db: Kysely<Database>;
  kek: Uint8Array;
  now: number;
}): Promise<FieldCrypto> {
  const encKey = await dataKey(options.db, options.kek, ENC_KEY_NAME, options.now);
  const indexKey = await dataKey(options.db, options.kek, INDEX_KEY_NAME, options.now);
  return createFieldCrypto({ encKey, indexKey });
}
