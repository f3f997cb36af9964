/**
 * The static migration list (not a folder glob, so it works the same from src/ under vitest and from dist/).
 * Names sort in the order they must run; never rename or edit a released migration — add a new one.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { init } from './0001-init.js';
import { fileStore } from './0002-file-store.js';
import { log } from './0003-log.js';
import { evidence } from './0004-evidence.js';
import { consoleTables } from './0005-console.js';
import { trust } from './0006-trust.js';
import { lifecycle } from './0007-lifecycle.js';
import { stats } from './0008-stats.js';
import { checkpointStamps } from './0009-checkpoint-stamps.js';
import { coldStorage } from './0010-cold-storage.js';
import { writeBuffer } from './0011-write-buffer.js';
import { statsRollup } from './0012-stats-rollup.js';
import { evidenceIndexes } from './0013-evidence-indexes.js';
import { tsaImport } from './0014-tsa-import.js';
import { evidencePartialIndexes } from './0015-evidence-partial-indexes.js';
import { chainLocks } from './0016-chain-locks.js';
import { bytewiseText } from './0017-bytewise-text.js';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-init': init,
  '0002-file-store': fileStore,
  '0003-log': log,
  '0004-evidence': evidence,
  '0005-console': consoleTables,
  '0006-trust': trust,
  '0007-lifecycle': lifecycle,
  '0008-stats': stats,
  '0009-checkpoint-stamps': checkpointStamps,
  '0010-cold-storage': coldStorage,
  '0011-write-buffer': writeBuffer,
  '0012-stats-rollup': statsRollup,
  '0013-evidence-indexes': evidenceIndexes,
  '0014-tsa-import': tsaImport,
  '0015-evidence-partial-indexes': evidencePartialIndexes,
  '0016-chain-locks': chainLocks,
  '0017-bytewise-text': bytewiseText,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...MIGRATIONS }),
};
