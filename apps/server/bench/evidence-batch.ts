/**
 * Evidence batch write path benchmark: main-thread CPU per record of `pushSignatureBatch` (decode, dedupe
 * look-up, checks, canonical record and evidence hash, group-commit writer, the database statement) on a fresh
 * Yizheng database. The SM2 curve arithmetic runs on the libuv thread pool (pushSignatureBatch pre-verifies its
 * items there, evidence/preverify.ts), so what is measured is the per-record evidence path itself.
 *
 * Main-thread CPU is read from /proc/thread-self/schedstat (nanoseconds of this thread only: the libuv pool and
 * the database servers are excluded), so the figure holds on a busy machine where wall-clock rates do not.
 *
 *     npx tsx apps/server/bench/evidence-batch.ts [--records 20000] [--batch 1000] [--dialect postgres|sqlite]
 *       [--pg URL]    (node --cpu-prof via NODE_OPTIONS profiles it)
 *
 * Prints `{"bench":"evidence-batch","records":…,"mainThreadUsPerRecord":…,"wallRecordsPerSecond":…}`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sm2 } from '@yizheng/gm';
import { TestPki } from '@yizheng/pki/testing';
import pg from 'pg';
import { build } from '../src/app.js';
import type { ServerConfig } from '../src/config.js';
import { createEvidenceDeps, evidenceConfigOf } from '../src/evidence/deps.js';
import { createApplication } from '../src/modules/applications/service.js';
import type { SignaturePushBody } from '../src/modules/evidence/schema.js';
import { pushSignatureBatch } from '../src/modules/evidence/service.js';
import { createProject } from '../src/modules/projects/service.js';
import { testConfig } from '../src/testing/app.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '1000' },
    dialect: { type: 'string', default: 'postgres' },
    pg: {
      type: 'string',
      default: process.env.YIZHENG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
  },
});
const RECORDS = Number(values.records);
const BATCH = Number(values.batch);
const DIALECT = values.dialect;
if (!Number.isInteger(RECORDS) || RECORDS < 1 || !Number.isInteger(BATCH) || BATCH < 1 || BATCH > 1000)
  throw new Error('--records N --batch 1..1000');
if (DIALECT !== 'postgres' && DIALECT !== 'sqlite') throw new Error('--dialect postgres|sqlite');

/** CPU nanoseconds of the calling thread (Linux). */
const threadNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);

const NOW = Date.now();
const pki = new TestPki({ seed: 'bench-evidence-batch', now: new Date(NOW - (NOW % 86_400_000)) });
const leaf = pki.root().leaf({ subject: { CN: '医生甲' } });
const key = sm2.importPrivateKey(leaf.privateKeyPem);
const signedAt = new Date(NOW - 3_600_000).toISOString();
const run = randomBytes(4).toString('hex');
const bodies: SignaturePushBody[] = [];
for (let i = 0; i < RECORDS; i++) {
  const data = new TextEncoder().encode(`病历 ${run}-${i}：主诉头痛三天，查体无异常。`);
  bodies.push({
    serialNumber: `HIS-${run}-${i}`,
    sourceSystem: 'history-migration',
    signature: {
      format: 'raw',
      value: Buffer.from(sm2.sign(key, data)).toString('base64'),
      certificate: leaf.pem,
    },
    original: Buffer.from(data).toString('base64'),
    signedAt,
  });
}

const pgUrl = (db: string): string => {
  const u = new URL(values.pg);
  u.pathname = `/${db}`;
  return u.toString();
};
const admin = async (q: string): Promise<void> => {
  const c = new pg.Client({ connectionString: values.pg });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
};
const target = `yz_bench_evb_${run}`;
const dataDir = mkdtempSync(join(tmpdir(), 'yz-bench-evb-'));
if (DIALECT === 'postgres') await admin(`CREATE DATABASE ${target}`);
const config: ServerConfig = testConfig(
  DIALECT === 'postgres'
    ? { dialect: 'postgres', url: pgUrl(target), poolSize: 10 }
    : { dialect: 'sqlite', file: join(dataDir, 'yz.db') },
  dataDir,
  { logLevel: 'warn', bodyLimit: 16 * 1024 * 1024, apiLog: false },
);
const app = await build(config, { logger: false, jobs: false, now: () => Date.now() });
try {
  await app.ready();
  const ctx = { db: app.db, now: () => Date.now(), actor: 'bench' };
  await createProject({ ctx, number: 'EVB', name: '批量写入' });
  const created = await createApplication({ ctx, project: 'EVB', name: 'HIS' });
  const caller = {
    appId: created.application.id,
    projectId: created.application.projectId,
    projectStatus: 'active' as const,
  };
  const evidence = createEvidenceDeps({
    db: app.db,
    now: () => Date.now(),
    fieldCrypto: app.fieldCrypto,
    platformKey: app.platformKey,
    config: evidenceConfigOf(config),
    log: app.log,
  });
  const deps = evidence.deps;
  // Warm-up (JIT, statement caches), then the measured batches.
  const slices: SignaturePushBody[][] = [];
  for (let i = 0; i < bodies.length; i += BATCH) slices.push(bodies.slice(i, i + BATCH));
  let measuredNs = 0;
  let measured = 0;
  const t0 = performance.now();
  for (const [k, items] of slices.entries()) {
    const c0 = threadNs();
    const results = await pushSignatureBatch({ deps, caller, items, receipts: false });
    const c1 = threadNs();
    const bad = results.find((r) => r.status !== 201);
    if (bad !== undefined) throw new Error(`item ${bad.index}: ${JSON.stringify(bad)}`);
    if (k >= Math.min(2, slices.length - 1)) {
      measuredNs += c1 - c0;
      measured += items.length;
    }
  }
  const wall = (performance.now() - t0) / 1000;
  await evidence.close();
  process.stdout.write(
    `${JSON.stringify({
      bench: 'evidence-batch',
      dialect: DIALECT,
      records: RECORDS,
      measuredRecords: measured,
      mainThreadUsPerRecord: Number((measuredNs / 1000 / measured).toFixed(1)),
      wallRecordsPerSecond: Math.round(RECORDS / wall),
    })}\n`,
  );
} finally {
  await app.close();
  if (DIALECT === 'postgres') await admin(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
  rmSync(dataDir, { recursive: true, force: true });
}
