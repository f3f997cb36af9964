/** `@yizheng/server`: the evidence server. `build(config)` returns the Fastify app; `startServer` listens. */
export { build, VERSION, type BuildOptions } from './app.js';
export { startServer } from './start.js';
export {
  DEFAULTS,
  describeDatabase,
  loadConfig,
  parseDatabaseUrl,
  type ConfigOverrides,
  type DatabaseConfig,
  type ServerConfig,
} from './config.js';
export { isStartupError, StartupError, type StartupErrorCode } from './startup-error.js';
export { isYzError, YzError, type ErrorCode } from './errors.js';
export { migrateToLatest, openDatabase, pendingMigrations, type Db } from './db/connect.js';
export type { ServiceContext } from './context.js';
export * as projects from './modules/projects/service.js';
export * as applications from './modules/applications/service.js';
export * as adminUsers from './modules/admin/users/service.js';
export * as jobs from './modules/jobs/service.js';
export { JobManager, type JobRunView, type JobView } from './jobs/manager.js';
export type { Job, JobRunContext } from './jobs/job.js';
export * as history from './modules/history/service.js';
export * as strategies from './modules/strategies/service.js';
export * as tsaKeys from './ca/tsa-import.js';
/** For operator tooling (the lifecycle crash test registers a history source with the deployment's keys). */
export { loadOrCreateKek } from './crypto/kek.js';
export { loadFieldCrypto, type FieldCrypto } from './crypto/field-crypto.js';
export * as stats from './stats/repo.js';
export { attachColdDatabase } from './lifecycle/read-through.js';
export { ensureBuiltinRoles } from './modules/admin/roles/service.js';
export { verifyChain, type ChainVerdict } from './audit/hash-chain.js';
export { verifyApiLogChain } from './audit/api-log-read.js';
export { stringToSign, canonicalQuery, SIGNATURE_USER_ID } from './auth/signing.js';
