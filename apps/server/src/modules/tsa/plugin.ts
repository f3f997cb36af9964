/**
 * Wires the trust services into the app: loads (or creates) the internal CA, starts watching the clock, builds
 * the TSA and serves `POST /tsa`. Called from app.ts while the KEK is still in memory.
 */
import type { FastifyInstance } from 'fastify';
import { toPem } from '@yizheng/pki';
import { loadInternalCa, platformChainPem, type InternalCa } from '../../ca/internal-ca.js';
import type { TrustConfig } from '../../ca/trust-config.js';
import type { Job } from '../../jobs/job.js';
import { downloadRoutes, type ReportsHolder } from '../downloads/routes.js';
import { downloadPurgeJob } from '../downloads/purge.js';
import { loadDownloadSecret } from '../downloads/secret.js';
import { createClockMonitor, type ClockMonitor } from './clock.js';
import { tsaRoutes } from './routes.js';
import { createSerialAllocator } from './serials.js';
import { createTsa, type Tsa } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The internal CA: root, platform signing certificate, TSA identities. */
    ca: InternalCa;
    tsa: Tsa;
    tsaClock: ClockMonitor;
    trustConfig: TrustConfig;
    /** HMAC-SM3 secret of download links (sealed under the KEK). */
    downloadSecret: Uint8Array;
    /** The report service, filled in by the reports plugin inside the signed scope, for public download links. */
    reportsHolder: ReportsHolder;
  }
}

export async function registerTrust(
  app: FastifyInstance,
  options: { kek: Uint8Array; now: () => number; trust: TrustConfig },
): Promise<{ jobs: Job[] }> {
  const { trust, now } = options;
  const ca = await loadInternalCa({
    db: app.db,
    kek: options.kek,
    now: now(),
    platformKey: app.platformKey,
    config: { unitName: trust.unitName, tsaAlgorithms: trust.tsa.algorithms },
  });
  const clock = createClockMonitor({
    config: {
      ntpServer: trust.tsa.ntpServer,
      maxDriftMs: trust.tsa.maxDriftMs,
      checkIntervalMs: trust.tsa.ntpIntervalMs,
    },
    now,
  });
  const tsa = createTsa({
    identities: ca.tsa,
    config: {
      policy: trust.tsa.policy,
      accuracyMs: trust.tsa.accuracyMs,
      defaultAlgorithm: trust.tsa.defaultAlgorithm,
    },
    clock,
    serials: createSerialAllocator({ db: app.db }),
    now,
  });
  app.decorate('ca', ca);
  app.decorate('tsa', tsa);
  app.decorate('tsaClock', clock);
  app.decorate('trustConfig', trust);
  await app.register(tsaRoutes, { tsa });
  // The internal root and the platform chain, public: what `yizheng verify --root` and verifiers pin to.
  const rootPem = toPem(ca.root.der, 'CERTIFICATE');
  const chainPem = platformChainPem(ca);
  app.get('/ca/root.pem', { schema: { hide: true } }, (_request, reply) =>
    reply.type('application/x-pem-file').send(rootPem),
  );
  app.get('/ca/platform-chain.pem', { schema: { hide: true } }, (_request, reply) =>
    reply.type('application/x-pem-file').send(chainPem),
  );
  const downloadSecret = await loadDownloadSecret({ db: app.db, kek: options.kek, now: now() });
  const reportsHolder: ReportsHolder = { deps: undefined };
  app.decorate('downloadSecret', downloadSecret);
  app.decorate('reportsHolder', reportsHolder);
  await app.register(downloadRoutes, { holder: reportsHolder, secret: downloadSecret, now });

  const checkClock = async (): Promise<unknown> => {
    const status = await clock.check();
    const refusal = clock.refusal();
    if (refusal !== undefined) app.log.warn({ clock: status }, `TSA refuses to stamp: ${refusal}`);
    return status;
  };
  if (trust.tsa.ntpServer !== undefined)
    app.addHook('onReady', async () => {
      await checkClock();
    });
  const purge = downloadPurgeJob({ db: app.db, now, graceMs: trust.downloadPurgeGraceMs });
  return {
    jobs:
      trust.tsa.ntpServer === undefined
        ? [purge]
        : [purge, { id: 'tsa-clock', everyMs: trust.tsa.ntpIntervalMs, handler: checkClock }],
  };
}
