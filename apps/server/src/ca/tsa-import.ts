/**
 * TSA keys from another CA (`yizheng tsa import`, `yizheng tsa list`): a PEM private key (PKCS#8, or PKCS#1 /
 * SEC1) and its certificate, optionally the certificates above it. The key's kind (SM2, RSA, ECDSA P-256) is
 * read from the key; the certificate must carry that key, the sole and critical extended key usage
 * id-kp-timeStamping (RFC 3161 §2.3) and be valid now; each chain certificate must have signed the one below it.
 * The key is sealed under the KEK (sealed-key.ts) and the identity replaces that kind's TSA key, active from
 * the next start of the server (also when the kind is not in YIZHENG_TSA_KEYS).
 */
import { createHash } from 'node:crypto';
import {
  checkTsaExtKeyUsage,
  gmSm2Provider,
  isPkiError,
  isSignedBy,
  parseCertificate,
  type ParsedCertificate,
} from '@yizheng/pki';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import { loadOrCreateKek } from '../crypto/kek.js';
import type { Database } from '../db/schema.js';
import { YzError } from '../errors.js';
import type { TsaAlgorithm } from './algorithms.js';
import { privateKeyFromPem, publicKeyInfo, storeKey, type PrivateKey } from './sealed-key.js';
import { trustDb } from './tables.js';

/** The KEK of a deployment (the file the server uses, created with it on first use as the server does). */
export function kekOf(kekFile: string): Uint8Array {
  return loadOrCreateKek(kekFile).kek;
}

/** Names of the TSA rows (shared with internal-ca.ts, which loads them). */
export const TSA_KEY_NAME = (a: TsaAlgorithm): string => `tsa-${a}-v1`;
export const TSA_CERT_NAME = (a: TsaAlgorithm): string => `tsa-${a}`;

export interface TsaKeyView {
  algorithm: TsaAlgorithm;
  /** The name given at import, else the certificate's subject. */
  name: string;
  origin: 'generated' | 'imported';
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the certificate DER, hex. */
  fingerprint: string;
  /** Certificates sent above this one. */
  chainLength: number;
  /** Whether the certificate is valid at the time of listing. */
  validNow: boolean;
}

const MAX_LABEL = 128;
const MAX_PEM = 256 * 1024;

/** The PEM blocks of a bundle, each parsed as a certificate. */
function certificatesOf(pem: string): ParsedCertificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new YzError('TSA_IMPORT_UNREADABLE', 'no CERTIFICATE block in the chain');
  return blocks.map((b) => parseCertificate(b));
}

/** The key's kind, trying each: node:crypto tells RSA and P-256 apart, and the SM2 reader takes the rest. */
function readKey(pem: string): PrivateKey {
  for (const algorithm of ['rsa', 'p256', 'sm2'] as const) {
    try {
      return privateKeyFromPem(algorithm, pem);
    } catch {
      // next kind
    }
  }
  throw new YzError(
    'TSA_IMPORT_UNREADABLE',
    'the private key is not an unencrypted SM2, RSA or P-256 PEM key',
  );
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** Checks an import without storing anything; throws YzError TSA_IMPORT_*. */
export function checkTsaImport(options: {
  keyPem: string;
  certPem: string;
  chainPem?: string;
  now: number;
}): { key: PrivateKey; certificate: ParsedCertificate; chain: ParsedCertificate[] } {
  for (const [what, v] of [
    ['key', options.keyPem],
    ['certificate', options.certPem],
    ['chain', options.chainPem ?? ''],
  ] as const)
    if (v.length > MAX_PEM)
      throw new YzError('TSA_IMPORT_UNREADABLE', `the ${what} file exceeds ${MAX_PEM} bytes`);
  const key = readKey(options.keyPem);
  let certificate: ParsedCertificate;
  let chain: ParsedCertificate[];
  try {
    certificate = parseCertificate(options.certPem);
    chain = options.chainPem === undefined ? [] : certificatesOf(options.chainPem);
  } catch (e) {
    if (e instanceof YzError) throw e;
    throw new YzError(
      'TSA_IMPORT_UNREADABLE',
      isPkiError(e) ? `${e.code}: ${e.message}` : 'not a certificate',
    );
  }
  if (!equalBytes(certificate.spki, publicKeyInfo(key)))
    throw new YzError(
      'TSA_IMPORT_KEY_MISMATCH',
      `the ${key.algorithm} key is not the key of ${certificate.subject}`,
    );
  try {
    checkTsaExtKeyUsage(certificate, 'strict');
  } catch (e) {
    throw new YzError('TSA_IMPORT_EKU_INVALID', isPkiError(e) ? e.message : certificate.subject);
  }
  const at = new Date(options.now);
  if (at < certificate.notBefore || at > certificate.notAfter)
    throw new YzError(
      'TSA_IMPORT_CERT_NOT_VALID',
      `${certificate.subject} is valid from ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}`,
    );
  let below = certificate;
  for (const [i, c] of chain.entries()) {
    if (!isSignedBy(below, c, { sm2: gmSm2Provider }))
      throw new YzError(
        'TSA_IMPORT_CHAIN_INVALID',
        `chain certificate ${i + 1} (${c.subject}) did not sign ${below.subject}`,
      );
    below = c;
  }
  return { key, certificate, chain };
}

/** Checks, seals and stores an imported TSA key; it is that kind's TSA key from the next server start. */
export async function importTsaKey(options: {
  db: Kysely<Database>;
  kek: Uint8Array;
  now: number;
  keyPem: string;
  certPem: string;
  chainPem?: string;
  name?: string;
}): Promise<TsaKeyView> {
  const label = options.name?.trim();
  if (label !== undefined && (label.length === 0 || label.length > MAX_LABEL))
    throw new YzError('TSA_IMPORT_UNREADABLE', `--name must have 1 to ${MAX_LABEL} characters`);
  const { key, certificate, chain } = checkTsaImport(options);
  const algorithm = key.algorithm;
  const name = TSA_CERT_NAME(algorithm);
  await options.db.transaction().execute(async (tx) => {
    await storeKey({ db: tx, kek: options.kek, name: TSA_KEY_NAME(algorithm), key, now: options.now });
    const db = trustDb(tx);
    await db.deleteFrom('ca_certificates').where('name', '=', name).execute();
    await db
      .insertInto('ca_certificates')
      .values({
        name,
        role: 'tsa',
        algorithm,
        der: Buffer.from(certificate.der).toString('base64'),
        origin: 'imported',
        created_at: isoTime(options.now),
        label: label ?? null,
        chain: JSON.stringify(chain.map((c) => Buffer.from(c.der).toString('base64'))),
      })
      .execute();
  });
  return view(
    { algorithm, origin: 'imported', label: label ?? null, certificate, chainLength: chain.length },
    options.now,
  );
}

function view(
  r: {
    algorithm: TsaAlgorithm;
    origin: 'generated' | 'imported';
    label: string | null;
    certificate: ParsedCertificate;
    chainLength: number;
  },
  now: number,
): TsaKeyView {
  const c = r.certificate;
  return {
    algorithm: r.algorithm,
    name: r.label ?? c.subject,
    origin: r.origin,
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serialHex,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    fingerprint: createHash('sha256').update(c.der).digest('hex'),
    chainLength: r.chainLength,
    validNow: now >= c.notBefore.getTime() && now <= c.notAfter.getTime(),
  };
}

/** Parses the stored chain column (JSON array of base64 DER; NULL: none). */
export function storedChain(chain: string | null): ParsedCertificate[] {
  if (chain === null) return [];
  const list = JSON.parse(chain) as unknown;
  if (!Array.isArray(list)) return [];
  return list
    .filter((x): x is string => typeof x === 'string')
    .map((b) => parseCertificate(new Uint8Array(Buffer.from(b, 'base64'))));
}

/** Every TSA certificate in the database (generated and imported), by algorithm. */
export async function listTsaKeys(options: { db: Kysely<Database>; now: number }): Promise<TsaKeyView[]> {
  const rows = await trustDb(options.db)
    .selectFrom('ca_certificates')
    .select(['algorithm', 'der', 'origin', 'label', 'chain'])
    .where('role', '=', 'tsa')
    .orderBy('algorithm')
    .execute();
  return rows.map((r) =>
    view(
      {
        algorithm: r.algorithm,
        origin: r.origin,
        label: r.label,
        certificate: parseCertificate(new Uint8Array(Buffer.from(r.der, 'base64'))),
        chainLength: storedChain(r.chain).length,
      },
      options.now,
    ),
  );
}
