import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isGmError, sm2, sm4Open, sm4Seal, type Sm2PrivateKey } from '@yizheng/gm';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { StartupError } from '../startup-error.js';
import type { TsaAlgorithm } from './algorithms.js';

/**
 * Private keys of the internal CA and the TSA, kept exactly as crypto/platform-key.ts keeps the platform key:
 * PKCS#8 PEM sealed with SM4-GCM under the KEK (aad = the key's name) in `key_store`, never in clear.
 */
export type KeyAlgorithm = TsaAlgorithm;

export type PrivateKey =
  { algorithm: 'sm2'; key: Sm2PrivateKey } | { algorithm: 'rsa' | 'p256'; key: KeyObject };

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function generatePrivateKey(algorithm: KeyAlgorithm): PrivateKey {
  switch (algorithm) {
    case 'sm2':
      return { algorithm, key: sm2.generateKeyPair().privateKey };
    case 'rsa':
      return { algorithm, key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
    case 'p256':
      return { algorithm, key: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey };
  }
}

export function privateKeyToPem(k: PrivateKey): string {
  return k.algorithm === 'sm2' ? k.key.toPem() : (k.key.export({ type: 'pkcs8', format: 'pem' }) as string);
}

/** Parses a PKCS#8 (or SEC1/PKCS#1) PEM of the given algorithm; throws on anything else. */
export function privateKeyFromPem(algorithm: KeyAlgorithm, pem: string): PrivateKey {
  if (algorithm === 'sm2') return { algorithm, key: sm2.importPrivateKey(pem) };
  const key = createPrivateKey(pem);
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (algorithm === 'rsa' && type !== 'rsa') throw new Error(`expected an RSA key, got ${String(type)}`);
  if (algorithm === 'p256' && (type !== 'ec' || curve !== 'prime256v1'))
    throw new Error(`expected a P-256 key, got ${String(type)} ${String(curve)}`);
  return { algorithm, key };
}

export function publicKeyInfo(k: PrivateKey): Uint8Array {
  if (k.algorithm === 'sm2') return k.key.publicKey.toSpki();
  return new Uint8Array(createPublicKey(k.key).export({ type: 'spki', format: 'der' }));
}

export function sealKey(kek: Uint8Array, name: string, k: PrivateKey): string {
  return Buffer.from(sm4Seal(kek, utf8(privateKeyToPem(k)), utf8(name))).toString('base64');
}

export function openKey(kek: Uint8Array, name: string, algorithm: KeyAlgorithm, wrapped: string): PrivateKey {
  let pem: string;
  try {
    pem = new TextDecoder().decode(sm4Open(kek, new Uint8Array(Buffer.from(wrapped, 'base64')), utf8(name)));
  } catch (e) {
    if (isGmError(e)) {
      throw new StartupError(
        'KEK_INVALID',
        `the KEK does not open the key ${name}: wrong KEK file for this database?`,
        {
          cause: e,
        },
      );
    }
    throw e;
  }
  return privateKeyFromPem(algorithm, pem);
}

/** The sealed key `name`, created (and sealed) when absent; a concurrent creator's key wins. */
export async function loadOrCreateKey(options: {
  db: Kysely<Database>;
  kek: Uint8Array;
  name: string;
  algorithm: KeyAlgorithm;
  now: number;
}): Promise<PrivateKey> {
  const { db, kek, name, algorithm } = options;
  for (let attempt = 0; attempt < 2; attempt++) {
    const row = await db
      .selectFrom('key_store')
      .select('wrapped')
      .where('name', '=', name)
      .executeTakeFirst();
    if (row !== undefined) return openKey(kek, name, algorithm, row.wrapped);
    const k = generatePrivateKey(algorithm);
    try {
      await db
        .insertInto('key_store')
        .values({ name, wrapped: sealKey(kek, name, k), created_at: isoTime(options.now) })
        .execute();
      return k;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }
  throw new StartupError('KEK_INVALID', `cannot create the key ${name}`);
}

/** Replaces (or creates) the sealed key `name` — for an imported key; run it inside the caller's transaction. */
export async function storeKey(options: {
  db: Kysely<Database>;
  kek: Uint8Array;
  name: string;
  key: PrivateKey;
  now: number;
}): Promise<void> {
  const wrapped = sealKey(options.kek, options.name, options.key);
  await options.db.deleteFrom('key_store').where('name', '=', options.name).execute();
  await options.db
    .insertInto('key_store')
    .values({ name: options.name, wrapped, created_at: isoTime(options.now) })
    .execute();
}
