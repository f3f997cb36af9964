/** Assembles what the evidence use cases need from the app: trust store, file stores, the group-commit writer. */
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { EVIDENCE_DEFAULTS, type EvidenceConfig, type ServerConfig } from '../config.js';
import type { FieldCrypto } from '../crypto/field-crypto.js';
import type { PlatformKey } from '../crypto/platform-key.js';
import type { Database } from '../db/schema.js';
import type { EvidenceDeps } from '../modules/evidence/service.js';
import { createDatabaseFileStore, createLocalFileStore } from '../storage/file-store.js';
import * as repo from '../modules/evidence/repo.js';
import { BatchLookup } from './batch-lookup.js';
import { createEvidenceWriter } from './store.js';
import { crlDirectorySource } from './revocation.js';
import { loadTrustStore } from './trust-store.js';
import { POLICY } from './verify-signature.js';

export function evidenceConfigOf(config: Pick<ServerConfig, 'evidence' | 'dataDir'>): EvidenceConfig {
  return (
    config.evidence ?? {
      trustStore: undefined,
      fileSizeLimit: EVIDENCE_DEFAULTS.fileSizeLimit,
      fileDir: join(config.dataDir, 'files'),
    }
  );
}

export function createEvidenceDeps(options: {
  db: Kysely<Database>;
  now(): number;
  fieldCrypto: FieldCrypto;
  platformKey: PlatformKey;
  config: EvidenceConfig;
  log: FastifyBaseLogger;
}): { deps: EvidenceDeps; close(): Promise<void> } {
  const { db, config } = options;
  const anchors = config.trustStore === undefined ? undefined : loadTrustStore(config.trustStore);
  if (anchors === undefined)
    options.log.warn('no trust store (YIZHENG_TRUST_STORE): evidence chains are recorded as untrusted-root');
  const crls =
    config.crlDir === undefined
      ? undefined
      : crlDirectorySource({
          dir: config.crlDir,
          policy: POLICY,
          onError: (file, e) => {
            options.log.warn({ err: e, file }, 'CRL file not used (YIZHENG_CRL_DIR)');
          },
        });
  const writer = createEvidenceWriter({
    db,
    onFallback: (e, size) => {
      options.log.debug({ err: e, size }, 'evidence batch fell back to per-item writes');
    },
  });
  return {
    deps: {
      db,
      now: () => options.now(),
      fieldCrypto: options.fieldCrypto,
      platformKey: options.platformKey,
      trust: { anchors, ...(crls === undefined ? {} : { revocation: [crls] }) },
      writer,
      dedupeLookup: new BatchLookup<repo.EvidenceRow>({
        load: (appId, keys) => repo.findByDedupeKeys(db, appId, keys),
      }),
      fileStores: {
        local: createLocalFileStore({ root: config.fileDir }),
        database: createDatabaseFileStore({ db, now: () => options.now() }),
      },
    },
    close: () => writer.close(),
  };
}
