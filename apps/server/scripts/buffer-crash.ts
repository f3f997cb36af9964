/**
 * Redis write-buffer crash test (缓存数据落库; issue proof "stop the server mid-buffer, restart, counts and API
 * logs complete"): the server (`node apps/server/dist/main.js`, a child process) with YIZHENG_REDIS_URL set, on
 * SQLite and PostgreSQL, against the real Redis (YIZHENG_TEST_REDIS_URL, default redis://127.0.0.1:6379/0;
 * a fresh key prefix per dialect, deleted at the end).
 *
 *  1. Mid-buffer: N signed digest pushes with the flush held back (YIZHENG_BUFFER_FLUSH_MS = 1 h) until all N
 *     API-log entries sit in Redis and none in the database (nor their API-call counts; digest counts are written
 *     in the evidence transaction, so all N are there already); SIGKILL; restart with a short flush interval:
 *     exactly N API-log rows and N API-call counts arrive, the chain verifies across the period tables.
 *  2. Chaos: `--kills` rounds of concurrent pushes killed at a random moment, alternating a 100 ms flush (kills
 *     land mid-flush) and a held-back one; then a graceful stop (flush on shutdown). Redis is empty, no API-log
 *     entry is written twice (each call's nonce appears once), the chain verifies, every acknowledged record is
 *     counted exactly once (digest counts = records stored).
 *  3. Graceful: M pushes with the flush held back, SIGTERM: everything is in the database, Redis is empty.
 *
 *     npm run build && npm run crash-test:buffer -- [--kills 5] [--dialects sqlite,postgres]
 *
 * Prints one JSON line per dialect and exits 1 on the first violation.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sm3 } from '@yizheng/gm';
import { verifyApiLogChain } from '@yizheng/server';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import {
  createWorkspace,
  freePort,
  openWorkspaceDb,
  provision,
  signedFetch,
  startServer,
  type HarnessDialect,
  type ServerProcess,
  type TestApplication,
  type Workspace,
} from './harness.js';

const REDIS_URL = process.env.YIZHENG_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const HELD = '3600000';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function fail(message: string): never {
  throw new Error(message);
}

function digestBody(tag: string): string {
  return JSON.stringify({
    serialNumber: `buf-${tag}-${randomBytes(4).toString('hex')}`,
    businessType: '门诊病历',
    algorithm: 'sm3',
    value: Buffer.from(sm3(randomBytes(32))).toString('hex'),
  });
}

interface Totals {
  apiLogRows: number;
  distinctNonces: number;
  digestCounts: number;
  apiCallCounts: number;
  records: number;
}

async function totals(ws: Workspace): Promise<Totals & { chainOk: boolean; chainCount: number }> {
  const db = await openWorkspaceDb(ws);
  try {
    const k = db.kysely;
    const periods = await sql<{ period: string }>`SELECT period FROM api_log_periods`.execute(k);
    const tables = ['api_logs', ...periods.rows.map((p) => `api_log_${p.period}`)];
    let apiLogRows = 0;
    const nonces = new Set<string>();
    for (const t of tables) {
      const rows = await sql<{ headers: string }>`SELECT headers FROM ${sql.table(t)}`.execute(k);
      apiLogRows += rows.rows.length;
      for (const r of rows.rows)
        nonces.add(String((JSON.parse(r.headers) as Record<string, unknown>)['x-yz-nonce']));
    }
    const sum = async (kind: string): Promise<number> => {
      const r = await sql<{
        n: string | number | null;
      }>`SELECT SUM(count) AS n FROM stats_daily WHERE kind = ${kind}`.execute(k);
      return Number(r.rows[0]?.n ?? 0);
    };
    const rec = await sql<{ n: string | number }>`SELECT COUNT(*) AS n FROM evidence`.execute(k);
    const chain = await verifyApiLogChain({ db: k });
    return {
      apiLogRows,
      distinctNonces: nonces.size,
      digestCounts: await sum('digest'),
      apiCallCounts: await sum('api_call'),
      records: Number(rec.rows[0]?.n ?? 0),
      chainOk: chain.ok,
      chainCount: chain.count,
    };
  } finally {
    await db.close();
  }
}

async function pushMany(
  base: string,
  app: TestApplication,
  n: number,
  concurrency: number,
  tag: string,
): Promise<{ acked: number; failed: number }> {
  let next = 0;
  let acked = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        try {
          const r = await signedFetch(base, app, 'POST', '/api/v1/digests', digestBody(tag));
          if (r.status === 201 || r.status === 200) acked++;
          else fail(`push answered ${r.status}: ${r.text.slice(0, 200)}`);
        } catch (e) {
          if (e instanceof Error && e.message.startsWith('push answered')) throw e;
          failed++; // the server was killed under this request
          return;
        }
      }
    }),
  );
  return { acked, failed };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function runDialect(dialect: HarnessDialect, kills: number): Promise<Record<string, unknown>> {
  const ws = await createWorkspace(dialect);
  const redis = new Redis(REDIS_URL);
  const prefix = `yz-crash:${randomBytes(5).toString('hex')}:`;
  const apiKey = `${prefix}api-log`;
  let server: ServerProcess | undefined;
  const env = (flushMs: string): Record<string, string> => ({
    YIZHENG_REDIS_URL: REDIS_URL,
    YIZHENG_REDIS_PREFIX: prefix,
    YIZHENG_BUFFER_FLUSH_MS: flushMs,
  });
  try {
    const app = await provision(ws);
    const port = await freePort();

    // 1. Mid-buffer kill.
    const n = 60;
    server = await startServer(ws, port, env(HELD));
    const first = await pushMany(server.base, app, n, 8, 'mid');
    if (first.acked !== n) fail(`only ${first.acked}/${n} pushes acknowledged`);
    await waitFor('all API-log entries in Redis', async () => (await redis.xlen(apiKey)) === n);
    const before = await totals(ws);
    if (before.apiLogRows !== 0 || before.apiCallCounts !== 0)
      fail(
        `flush was held back, yet the database has ${before.apiLogRows} API-log rows, ${before.apiCallCounts} API-call counts`,
      );
    if (before.digestCounts !== n) fail(`${before.digestCounts} digest counts before the kill, want ${n}`);
    await server.kill9();
    server = await startServer(ws, port, env('100'));
    await waitFor('the flush after restart', async () => (await redis.xlen(apiKey)) === 0);
    await server.stop();
    server = undefined;
    const mid = await totals(ws);
    if (mid.apiLogRows !== n || mid.distinctNonces !== n)
      fail(`after restart ${mid.apiLogRows} API-log rows, want ${n}`);
    if (mid.digestCounts !== n || mid.records !== n)
      fail(`after restart ${mid.digestCounts} digest counts, want ${n}`);
    if (mid.apiCallCounts !== n) fail(`after restart ${mid.apiCallCounts} API-call counts, want ${n}`);
    if (!mid.chainOk || mid.chainCount !== n) fail('API-log chain does not verify after restart');

    // 2. Chaos kills.
    let acked = first.acked;
    let calls = n;
    for (let round = 0; round < kills; round++) {
      server = await startServer(ws, port, env(round % 2 === 0 ? '100' : HELD));
      const s = server;
      const load = pushMany(s.base, app, 100_000, 12, `chaos${round}`);
      await sleep(300 + Math.floor(Math.random() * 1200));
      await s.kill9();
      server = undefined;
      const r = await load;
      acked += r.acked;
      calls += r.acked + r.failed;
    }
    server = await startServer(ws, port, env('100'));
    await server.stop(); // graceful: flush on shutdown
    server = undefined;
    const chaos = await totals(ws);
    const left = await redis.xlen(apiKey);
    if (left !== 0) fail(`${left} entries left in Redis after a graceful stop`);
    if (chaos.apiLogRows !== chaos.distinctNonces) fail('an API-log entry was written twice');
    if (!chaos.chainOk || chaos.chainCount !== chaos.apiLogRows)
      fail('API-log chain does not verify after the kills');
    if (chaos.digestCounts !== chaos.records)
      fail(`counted ${chaos.digestCounts} digests for ${chaos.records} records`);
    if (chaos.records < acked) fail(`${chaos.records} records stored, ${acked} were acknowledged`);
    if (chaos.apiLogRows > calls) fail(`${chaos.apiLogRows} API-log rows for ${calls} calls`);

    // 3. Graceful stop with entries buffered.
    const m = 40;
    server = await startServer(ws, port, env(HELD));
    const third = await pushMany(server.base, app, m, 8, 'graceful');
    if (third.acked !== m) fail(`only ${third.acked}/${m} pushes acknowledged`);
    await waitFor('all API-log entries in Redis', async () => (await redis.xlen(apiKey)) === m);
    await server.stop();
    server = undefined;
    const graceful = await totals(ws);
    if ((await redis.xlen(apiKey)) !== 0) fail('Redis not empty after SIGTERM');
    if (graceful.apiLogRows !== chaos.apiLogRows + m) fail('API-log rows missing after SIGTERM');
    if (graceful.digestCounts !== chaos.digestCounts + m) fail('digest counts missing after SIGTERM');
    if (!graceful.chainOk) fail('API-log chain does not verify after SIGTERM');
    return {
      test: 'buffer-crash',
      dialect,
      ok: true,
      midBuffer: { apiLogs: n },
      kills,
      acknowledged: acked,
      records: graceful.records,
      digestCounts: graceful.digestCounts,
      apiLogRows: graceful.apiLogRows,
    };
  } finally {
    await server?.kill9();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await ws.remove();
  }
}

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '5' },
    dialects: { type: 'string', default: 'sqlite,postgres' },
  },
});
const kills = Number(values.kills);
if (!Number.isInteger(kills) || kills < 0) {
  process.stderr.write('usage: crash-test:buffer [--kills N] [--dialects sqlite,postgres]\n');
  process.exit(2);
}
let failed = false;
for (const d of values.dialects.split(',')) {
  if (d !== 'sqlite' && d !== 'postgres') {
    process.stderr.write(`unknown dialect ${d}\n`);
    process.exit(2);
  }
  try {
    process.stdout.write(`${JSON.stringify(await runDialect(d, kills))}\n`);
  } catch (e) {
    failed = true;
    process.stdout.write(
      `${JSON.stringify({ test: 'buffer-crash', dialect: d, ok: false, error: (e as Error).message })}\n`,
    );
  }
}
process.exit(failed ? 1 : 0);
