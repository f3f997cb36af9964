/**
 * `build(config)` assembles the server and returns the Fastify app without listening (tests use `app.inject()`;
 * `main.ts` listens). Startup refuses with a typed {@link StartupError} when the database is unreachable or not
 * durable, a migration fails, or the KEK is unusable.
 */
import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServerConfig } from './config.js';
import { loadOrCreateKek } from './crypto/kek.js';
import { loadFieldCrypto, type FieldCrypto } from './crypto/field-crypto.js';
import { loadPlatformKey, type PlatformKey } from './crypto/platform-key.js';
import type { Db } from './db/connect.js';
import type { Job } from './jobs/job.js';
import { JobManager } from './jobs/manager.js';
import { registerColdStorage } from './lifecycle/cold-storage.js';
import { getSettings } from './modules/admin/settings/service.js';
import { historyMigrationJob } from './jobs/history-migration.js';
import { noncePurgeJob } from './jobs/nonce-purge.js';
import { bufferFlushJob } from './jobs/buffer-flush.js';
import { digestReportJob } from './jobs/digest-report.js';
import { digestTimestampJob } from './jobs/digest-timestamp.js';
import { openWriteBuffer } from './buffer/write-buffer.js';
import { abortableSleep } from './modules/history/service.js';
import { checkpointJob, initLog, integratorJob } from './log/index.js';
import { tsaCheckpointStamper } from './modules/tsa/checkpoint-stamper.js';
import { DEFAULT_LOG_CONFIG } from './config.js';
import { logRoutes } from './modules/log/routes.js';
import { applicationRoutes } from './modules/applications/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { serveConsole } from './modules/admin/console-static.js';
import { publicVerifyRoutes } from './modules/public-verify/routes.js';
import { adminDefaults, registerAdminApi } from './modules/admin/routes.js';
import { projectRoutes } from './modules/projects/routes.js';
import { defaultTrustConfig } from './ca/trust-config.js';
import { registerTrust } from './modules/tsa/plugin.js';
import { timestampRoutes } from './modules/tsa/verify-routes.js';
import { reportRoutes } from './modules/reports/routes.js';
import { evidenceRoutes } from './modules/evidence/routes.js';
import { createEvidenceDeps, evidenceConfigOf } from './evidence/deps.js';
import { Problem } from './modules/shared-schema.js';
import { registerApiLog } from './plugins/audit.js';
import authPlugin from './plugins/auth.js';
import dbPlugin from './plugins/db.js';
import errorsPlugin from './plugins/errors.js';
import rawBodyPlugin from './plugins/raw-body.js';
import securityHeaders from './plugins/security-headers.js';
import { lazyChildLogger } from './request-logger.js';

export const VERSION = '0.1.0';

declare module 'fastify' {
  interface FastifyInstance {
    config: ServerConfig;
    fieldCrypto: FieldCrypto;
    /** Signs receipts and checkpoints (next: the evidence API and the log sequencer). */
    platformKey: PlatformKey;
  }
}

export interface BuildOptions {
  /** Clock in Unix ms (default Date.now); tests inject a fixed one. */
  now?: () => number;
  /** A logger instance (default: pino at config.logLevel, to stdout); `false` for none. */
  logger?: FastifyBaseLogger | false;
  /** An already open database (the app will not close it). */
  db?: Db;
  /** An already open cold database (the app will not close it); otherwise `config.coldDatabase` is opened. */
  coldDb?: Db;
  /** Start background jobs (default true). */
  jobs?: boolean;
  /** Extra jobs for the job manager (tests). */
  extraJobs?: readonly Job[];
  /** Extra routes under the signed `/api/v1` scope (tests). */
  extraSignedRoutes?: (scope: FastifyInstance) => void | Promise<void>;
}

export async function build(config: ServerConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const now = options.now ?? Date.now;
  const loggerOpts =
    options.logger === false
      ? { logger: false as const }
      : options.logger !== undefined
        ? { loggerInstance: options.logger }
        : {
            logger: {
              level: config.logLevel,
              redact: ['req.headers["x-yz-signature"]', 'req.headers.authorization'],
            },
          };
  const app = Fastify({
    ...loggerOpts,
    // Per-request loggers are made when first used (src/request-logger.ts).
    ...(options.logger === false ? {} : { childLoggerFactory: lazyChildLogger }),
    bodyLimit: config.bodyLimit,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: 'array',
        allErrors: false,
        allowUnionTypes: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const assemble = async (): Promise<void> => {
    app.decorate('config', config);
    await app.register(errorsPlugin);
    app.addSchema(Problem);
    // No upgrade-insecure-requests: on-premises deployments are often plain HTTP on the hospital intranet (or TLS
    // terminated in front), and the upgrade would break the docs UI and console there.
    // Helmet's headers, computed once (plugins/security-headers.ts).
    await app.register(securityHeaders, {
      helmet: { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } },
    });
    if (config.rateLimitPerMinute > 0) {
      await app.register(rateLimit, {
        max: config.rateLimitPerMinute,
        timeWindow: 60_000,
        errorResponseBuilder: (_req, ctx) => ({
          statusCode: 429,
          code: 'RATE_LIMITED',
          message: `retry in ${ctx.after}`,
        }),
      });
    }
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Yizheng 医证 API',
          version: VERSION,
          description:
            'Signed application API: every /api/v1 call carries X-Yz-App, X-Yz-Timestamp, X-Yz-Nonce and X-Yz-Signature (see README, "Signed application API").',
        },
        components: {
          securitySchemes: {
            YzApp: {
              type: 'apiKey',
              in: 'header',
              name: 'X-Yz-App',
              description: '接入编号 (application id)',
            },
            YzTimestamp: {
              type: 'apiKey',
              in: 'header',
              name: 'X-Yz-Timestamp',
              description: 'Unix time, ms',
            },
            YzNonce: {
              type: 'apiKey',
              in: 'header',
              name: 'X-Yz-Nonce',
              description: '16–64 of [A-Za-z0-9_-]',
            },
            YzSignature: {
              type: 'apiKey',
              in: 'header',
              name: 'X-Yz-Signature',
              description: 'base64 DER SM2 signature, ID 1234567812345678',
            },
          },
        },
      },
    });
    await app.register(swaggerUi, {
      routePrefix: '/api/docs',
      // Helmet's defaults without upgrade-insecure-requests and without third-party hosts (offline deployments).
      staticCSP:
        "default-src 'self'; base-uri 'self'; font-src 'self' data:; frame-ancestors 'self'; img-src 'self' data:; " +
        "object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' https:",
    });
    await app.register(rawBodyPlugin);
    await app.register(dbPlugin, {
      database: config.database,
      migrateOnStart: config.migrateOnStart,
      ...(options.db ? { open: options.db } : {}),
    });
    const { kek, created } = loadOrCreateKek(config.kekFile);
    if (created)
      app.log.warn(
        { file: config.kekFile },
        'generated a new key-encryption key: back it up, data cannot be read without it',
      );
    app.decorate('fieldCrypto', await loadFieldCrypto({ db: app.db, kek, now: now() }));
    app.decorate('platformKey', await loadPlatformKey({ db: app.db, kek, now: now() }));
    // Internal CA, TSA (POST /tsa) and its clock watch (src/ca, modules/tsa).
    const trust = await registerTrust(app, {
      kek,
      now,
      trust: config.trust ?? defaultTrustConfig(config.host, config.port),
    });
    const logConfig = config.log ?? DEFAULT_LOG_CONFIG;
    await initLog(app.db, logConfig);
    kek.fill(0);
    await app.register(authPlugin, {
      now,
      maxSkewMs: config.auth.maxSkewMs,
      nonceTtlMs: config.auth.nonceTtlMs,
    });

    await app.register(healthRoutes);
    // The Redis write buffer (src/buffer, 缓存数据落库). Its onClose hook is added before the signed scope's, so
    // (hooks close last-in first-out) it drains and flushes after the evidence writer and before the database.
    const writeBuffer = config.redis
      ? await openWriteBuffer({ db: app.db, config: config.redis, now, log: app.log })
      : undefined;
    if (writeBuffer) app.addHook('onClose', () => writeBuffer.close());
    // The job manager (src/jobs/manager.ts): declared jobs; state, leases and the run log in the database.
    const jobManager = new JobManager({
      db: app.db,
      now,
      log: app.log,
      jobLog: async () => (await getSettings({ db: app.db, defaults: adminDefaults(config) })).jobLog,
    });
    app.decorate('jobs', jobManager);
    // Cold storage: the cold database (read-through behind app.db), hot → cold migration, archive cleanup.
    await registerColdStorage(app, { config, now, open: options.coldDb });
    // The console's admin API (session cookie + CSRF + permissions), outside the signed /api/v1 scope.
    await registerAdminApi(app, { now, config });
    await serveConsole(app);
    // The public verification page (/verify/) and its unauthenticated, rate-limited proof endpoints.
    await app.register(publicVerifyRoutes, {
      deps: { db: app.db, platformKey: app.platformKey, ca: app.ca },
      now,
    });
    await app.register(
      async (scope) => {
        if (config.apiLog)
          registerApiLog(scope, {
            now,
            enabled: async () => (await app.systemSettings()).apiLog,
            buffer: writeBuffer,
          });
        scope.addHook('preValidation', async (request) => scope.verifySignedRequest(request));
        await scope.register(applicationRoutes, { now });
        await scope.register(projectRoutes, { now });
        const evidenceConfig = evidenceConfigOf(config);
        const evidence = createEvidenceDeps({
          db: app.db,
          now,
          fieldCrypto: app.fieldCrypto,
          platformKey: app.platformKey,
          config: evidenceConfig,
          log: app.log,
          // Evidence counts stay in the evidence transaction even with the Redis buffer: a count appended to Redis
          // after the commit would be lost by a kill between the two. API-call counts (the high-rate counter) are
          // derived from the buffered API-log entries when they are flushed.
        });
        scope.addHook('onClose', () => evidence.close());
        jobManager.register(
          historyMigrationJob({
            db: app.db,
            evidence: evidence.deps,
            fieldCrypto: app.fieldCrypto,
            now,
            timezone: jobManager.timezone,
            sleep: abortableSleep,
          }),
        );
        await scope.register(evidenceRoutes, {
          deps: evidence.deps,
          fileSizeLimit: evidenceConfig.fileSizeLimit,
        });
        await scope.register(reportRoutes, { evidence: evidence.deps });
        await scope.register(logRoutes);
        await scope.register(timestampRoutes, { anchors: () => [app.ca.root] });
        if (options.extraSignedRoutes) await options.extraSignedRoutes(scope);
      },
      { prefix: '/api/v1' },
    );

    for (const job of [
      noncePurgeJob({ db: app.db, now }),
      ...trust.jobs,
      integratorJob({ db: app.db, now, everyMs: logConfig.integrateIntervalMs }),
      checkpointJob({
        db: app.db,
        key: app.platformKey,
        now,
        minIntervalMs: logConfig.checkpointIntervalMs,
        everyMs: Math.max(100, Math.min(1_000, logConfig.checkpointIntervalMs)),
        // The platform TSA timestamps every checkpoint (modules/tsa/checkpoint-stamper.ts).
        stamper: tsaCheckpointStamper(app.tsa),
        log: app.log,
      }),
      ...(writeBuffer && config.redis
        ? [bufferFlushJob({ buffer: writeBuffer, everyMs: config.redis.flushIntervalMs })]
        : []),
      digestTimestampJob({ db: app.db, tsa: app.tsa, now }),
      digestReportJob({ db: app.db, reports: app.reportsHolder, now }),
      ...(options.extraJobs ?? []),
    ])
      jobManager.register(job);
    // With `jobs: false` the jobs are registered but only run on request (admin API, CLI).
    app.addHook('onReady', () => jobManager.start({ schedule: options.jobs !== false }));
    app.addHook('onClose', () => jobManager.close());
  };
  try {
    await assemble();
  } catch (e) {
    // Leave nothing open (a database pool would keep the process alive after a refused start).
    await app.close().catch(() => undefined);
    throw e;
  }
  return app;
}
