import { randomBytes, sign as nodeSign } from 'node:crypto';
import type { PlatformKey } from '../crypto/platform-key.js';
import {
  buildCertificate,
  parseCertificate,
  signerFromKeyObject,
  signerFromSm2Key,
  toPem,
  type ParsedCertificate,
  type Signer,
} from '@yizheng/pki';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { StartupError } from '../startup-error.js';
import { loadOrCreateKey, publicKeyInfo, type PrivateKey } from './sealed-key.js';
import type { TsaAlgorithm } from './algorithms.js';
import { trustDb, type CaCertificatesTable } from './tables.js';
import { storedChain, TSA_CERT_NAME, TSA_KEY_NAME } from './tsa-import.js';

/**
 * The platform's internal CA, generated on first start (keys sealed under the KEK, certificates in
 * `ca_certificates`):
 *
 *   root (SM2, self-signed, CA, keyCertSign + cRLSign, 30 years)
 *   ├── platform signing certificate, for the existing platform SM2 key (crypto/platform-key.ts) that signs
 *   │   receipts, checkpoints and report seals (digitalSignature + nonRepudiation, 10 years)
 *   └── TSA certificates, one per configured algorithm: SM2 (SM3withSM2), RSA-2048 (sha256WithRSA), ECDSA P-256
 *       — critical extendedKeyUsage id-kp-timeStamping only (RFC 3161 §2.3), 10 years
 *
 * A TSA key and certificate from another CA can replace the generated ones (tsa-import.ts); the root and
 * platform certificates are what offline verifiers anchor on (`yizheng verify --root ROOT.pem`).
 */
export { TSA_ALGORITHMS } from './algorithms.js';
export type { TsaAlgorithm };

export interface CaConfig {
  /** The unit's name (config), written into the certificates' O and CN. */
  unitName: string;
  /** TSA keys to keep active (at least one). */
  tsaAlgorithms: readonly TsaAlgorithm[];
}

export interface TsaIdentity {
  algorithm: TsaAlgorithm;
  signer: Signer;
  /**
   * The signer's signature computed off the event loop (libuv's thread pool), for node:crypto keys (RSA, P-256);
   * undefined for SM2 (the native engine signs in ~50 µs, not worth a thread hop).
   */
  signAsync?: (data: Uint8Array) => Promise<Uint8Array>;
  certificate: ParsedCertificate;
  /** Certificates above the TSA certificate, up to and including the root. */
  chain: readonly ParsedCertificate[];
  origin: 'generated' | 'imported';
}

export interface InternalCa {
  root: ParsedCertificate;
  platform: ParsedCertificate;
  tsa: ReadonlyMap<TsaAlgorithm, TsaIdentity>;
}

export const CA_KEY_NAMES = {
  root: 'ca-root-sm2-v1',
  tsa: TSA_KEY_NAME,
} as const;
const CERT_NAMES = {
  root: 'root',
  platform: 'platform',
  tsa: TSA_CERT_NAME,
} as const;

const YEAR_MS = 365.25 * 24 * 3600 * 1000;

function signerOf(k: PrivateKey): Signer {
  return k.algorithm === 'sm2' ? signerFromSm2Key(k.key) : signerFromKeyObject(k.key);
}

/** What `signerFromKeyObject` signs (SHA-256; ECDSA as DER), through node:crypto's asynchronous sign. */
export function asyncSignerOf(k: PrivateKey): TsaIdentity['signAsync'] {
  if (k.algorithm === 'sm2') return undefined;
  const key = { key: k.key, dsaEncoding: 'der' as const };
  return (data) =>
    new Promise((resolve, reject) => {
      nodeSign('sha256', data, key, (err, sig) => (err ? reject(err) : resolve(new Uint8Array(sig))));
    });
}

/** A positive 16-byte serial (RFC 5280 §4.1.2.2: unique per issuer; random, so not guessable). */
function randomSerial(): Uint8Array {
  const s = new Uint8Array(randomBytes(16));
  s[0] = (s[0]! & 0x7f) | 0x01;
  return s;
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

async function loadOrCreateCert(options: {
  db: Kysely<Database>;
  name: string;
  role: CaCertificatesTable['role'];
  algorithm: CaCertificatesTable['algorithm'];
  now: number;
  build: () => Uint8Array;
}): Promise<{
  certificate: ParsedCertificate;
  origin: CaCertificatesTable['origin'];
  chain: string | null;
}> {
  const db = trustDb(options.db);
  for (let attempt = 0; attempt < 2; attempt++) {
    const row = await db
      .selectFrom('ca_certificates')
      .select(['der', 'origin', 'chain'])
      .where('name', '=', options.name)
      .executeTakeFirst();
    if (row !== undefined) {
      return {
        certificate: parseCertificate(new Uint8Array(Buffer.from(row.der, 'base64'))),
        origin: row.origin,
        chain: row.chain,
      };
    }
    const der = options.build();
    try {
      await db
        .insertInto('ca_certificates')
        .values({
          name: options.name,
          role: options.role,
          algorithm: options.algorithm,
          der: Buffer.from(der).toString('base64'),
          origin: 'generated',
          created_at: isoTime(options.now),
        })
        .execute();
      return { certificate: parseCertificate(der), origin: 'generated', chain: null };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e; // another process made it first: read theirs
    }
  }
  throw new StartupError('DB_UNREACHABLE', `cannot create the certificate ${options.name}`);
}

export async function loadInternalCa(options: {
  db: Kysely<Database>;
  kek: Uint8Array;
  now: number;
  platformKey: PlatformKey;
  config: CaConfig;
}): Promise<InternalCa> {
  const { db, kek, now, config } = options;
  const notBefore = new Date(now - 3600_000); // an hour of tolerance for verifiers with slightly slow clocks
  const unit = config.unitName;

  const rootKey = await loadOrCreateKey({ db, kek, name: CA_KEY_NAMES.root, algorithm: 'sm2', now });
  const rootSigner = signerOf(rootKey);
  const { certificate: root } = await loadOrCreateCert({
    db,
    name: CERT_NAMES.root,
    role: 'root',
    algorithm: 'sm2',
    now,
    build: () =>
      buildCertificate({
        subject: { C: 'CN', O: unit, CN: `${unit} 医证根证书 Yizheng Root CA` },
        serial: randomSerial(),
        notBefore,
        notAfter: new Date(now + 30 * YEAR_MS),
        signer: rootSigner,
        extensions: {
          basicConstraints: { ca: true, critical: true },
          keyUsage: { usages: ['keyCertSign', 'cRLSign'], critical: true },
        },
      }),
  });
  if (!equalBytes(root.spki, publicKeyInfo(rootKey))) {
    throw new StartupError('KEK_INVALID', 'the internal root certificate does not match the sealed root key');
  }

  const platformSpki = options.platformKey.publicKey.toSpki();
  const { certificate: platform } = await loadOrCreateCert({
    db,
    name: CERT_NAMES.platform,
    role: 'platform',
    algorithm: 'sm2',
    now,
    build: () =>
      buildCertificate({
        subject: { C: 'CN', O: unit, CN: `${unit} 医证平台签名 Yizheng Platform Signing` },
        issuer: root,
        subjectPublicKeyInfo: platformSpki,
        serial: randomSerial(),
        notBefore,
        notAfter: new Date(now + 10 * YEAR_MS),
        signer: rootSigner,
        extensions: {
          basicConstraints: { ca: false, critical: true },
          keyUsage: { usages: ['digitalSignature', 'nonRepudiation'], critical: true },
        },
      }),
  });
  if (!equalBytes(platform.spki, platformSpki)) {
    throw new StartupError('KEK_INVALID', 'the platform certificate does not match the platform key');
  }

  const tsa = new Map<TsaAlgorithm, TsaIdentity>();
  // The configured kinds, and every imported one (an import makes its key active).
  const imported = await trustDb(db)
    .selectFrom('ca_certificates')
    .select('algorithm')
    .where('role', '=', 'tsa')
    .where('origin', '=', 'imported')
    .execute();
  const algorithms = [...new Set([...config.tsaAlgorithms, ...imported.map((r) => r.algorithm)])];
  for (const algorithm of algorithms) {
    const key = await loadOrCreateKey({ db, kek, name: CA_KEY_NAMES.tsa(algorithm), algorithm, now });
    const spki = publicKeyInfo(key);
    const label = { sm2: 'SM2', rsa: 'RSA', p256: 'ECDSA P-256' }[algorithm];
    const { certificate, origin, chain } = await loadOrCreateCert({
      db,
      name: CERT_NAMES.tsa(algorithm),
      role: 'tsa',
      algorithm,
      now,
      build: () =>
        buildCertificate({
          subject: { C: 'CN', O: unit, CN: `${unit} 医证时间戳服务 Yizheng TSA (${label})` },
          issuer: root,
          subjectPublicKeyInfo: spki,
          serial: randomSerial(),
          notBefore,
          notAfter: new Date(now + 10 * YEAR_MS),
          signer: rootSigner,
          extensions: {
            basicConstraints: { ca: false, critical: true },
            keyUsage: { usages: ['digitalSignature', 'nonRepudiation'], critical: true },
            extKeyUsage: { purposes: ['timeStamping'], critical: true },
          },
        }),
    });
    if (!equalBytes(certificate.spki, spki)) {
      throw new StartupError('KEK_INVALID', `the ${algorithm} TSA certificate does not match its sealed key`);
    }
    const signAsync = asyncSignerOf(key);
    tsa.set(algorithm, {
      algorithm,
      signer: signerOf(key),
      ...(signAsync === undefined ? {} : { signAsync }),
      certificate,
      chain: origin === 'generated' ? [root] : storedChain(chain),
      origin,
    });
  }
  return { root, platform, tsa };
}

/** PEM bundle: the platform certificate then the root (what an evidence package carries). */
export function platformChainPem(ca: InternalCa): string {
  return [ca.platform, ca.root].map((c) => toPem(c.der, 'CERTIFICATE')).join('');
}
