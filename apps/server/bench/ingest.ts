/**
 * Ingest benchmark: concurrent HTTP clients push signed SM2 CMS evidence (GM/T 0010 SignedData, attached, with
 * signed attributes and the signer certificate) to the server, a child process on PostgreSQL (SQLite with
 * `--dialect sqlite`), one item per request (`POST /api/v1/signatures`) and in batches
 * (`POST /api/v1/signatures:batch`). Every request is built and signed (CMS and X-Yz-Signature) before the
 * clock starts, so the clients spend no CPU on SM2 while the server works.
 *
 * Reported: records/s, p50/p99 request latency, and as the reference the single-core SM2 verify rate of
 * `@yizheng/gm` measured in the same run (the server verifies at least two SM2 signatures per record: the request
 * signature and the CMS signature). Targets on 2 cores: ≥ 2,000 records/s single-item, ≥ 5,000/s batch, p99 ≤
 * 200 ms at 64 clients.
 *
 *     npm run build && npm run bench:ingest -- [--seconds 10] [--clients 64] [--batch 100] [--dialect postgres]
 *       [--profile]   (the server runs with --cpu-prof; the top functions by self time are printed to stderr)
 *       [--rate 2500] (requests prepared for this rate; lower it on a slow machine to shorten the preparation)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sm2 } from '@yizheng/gm';
import { buildSignedData, parseCertificate, signerFromPrivateKey } from '@yizheng/pki';
import { SIGNATURE_USER_ID, stringToSign } from '@yizheng/server';
import {
  createWorkspace,
  freePort,
  percentile,
  provision,
  startServer,
  type HarnessDialect,
  type TestApplication,
} from '../scripts/harness.js';
import { RawHttpConnection, serialiseRequest } from './http-client.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '64' },
    batch: { type: 'string', default: '100' },
    dialect: { type: 'string', default: 'postgres' },
    profile: { type: 'boolean', default: false },
    /** Keep the raw .cpuprofile files here (with --profile) instead of deleting them after the summary. */
    'profile-dir': { type: 'string' },
    /** Extra Node options for the server process (repeatable), e.g. `--node-arg=--require=./count.cjs`. */
    'node-arg': { type: 'string', multiple: true, default: [] },
    /** Which phases to run: single, batch or both. */
    phase: { type: 'string', default: 'both' },
    /** Requests are prepared for this single-item rate (batch: 3×) over --seconds; the phase ends early if used up. */
    rate: { type: 'string', default: '2500' },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const BATCH = Number(values.batch);
const DIALECT = values.dialect as HarnessDialect;
const PHASE = values.phase;
if (PHASE !== 'single' && PHASE !== 'batch' && PHASE !== 'both') throw new Error('--phase single|batch|both');
if (DIALECT !== 'postgres' && DIALECT !== 'sqlite') throw new Error('--dialect postgres|sqlite');

function sm2Certificate(): { key: string; cert: Uint8Array } {
  const dir = mkdtempSync(join(tmpdir(), 'yz-bench-'));
  const f = (n: string): string => join(dir, n);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  try {
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', f('k.pem'));
    openssl(
      ...['req', '-x509', '-new', '-key', f('k.pem'), '-sm3', '-sigopt', 'distid:1234567812345678'],
      ...[
        '-subj',
        '/C=CN/O=某某医院/CN=医生张三',
        '-utf8',
        '-days',
        '30',
        '-outform',
        'DER',
        '-out',
        f('c.der'),
      ],
    );
    return { key: readFileSync(f('k.pem'), 'utf8'), cert: new Uint8Array(readFileSync(f('c.der'))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Single-core SM2 verifications per second (key imported once), over ~1.5 s. */
function sm2VerifyRate(): number {
  const { privateKey, publicKey } = sm2.generateKeyPair();
  const msg = new TextEncoder().encode('reference message for the SM2 verify rate');
  const sig = sm2.sign(privateKey, msg);
  for (let i = 0; i < 200; i++) sm2.verify(publicKey, msg, sig);
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1.5) {
    for (let i = 0; i < 100; i++) if (!sm2.verify(publicKey, msg, sig)) throw new Error('verify failed');
    n += 100;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return n / elapsed;
}

interface Prepared {
  records: number;
  /** The whole request for this Host, serialised once (before the phase's clock starts). */
  bytes(host: string): Buffer;
}

/** A prepared request of `records` records, its bytes made on first use. */
function preparedRequest(
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  records: number,
): Prepared {
  let cached: { host: string; bytes: Buffer } | undefined;
  return {
    records,
    bytes(host) {
      if (cached?.host !== host)
        cached = { host, bytes: serialiseRequest(host, 'POST', path, headers, body) };
      return cached.bytes;
    },
  };
}

function signRequest(app: TestApplication, path: string, body: string): Prepared['headers'] {
  const timestamp = String(Date.now());
  const nonce = randomBytes(18).toString('base64url');
  const bytes = new TextEncoder().encode(body);
  const message = stringToSign({ method: 'POST', url: path, timestamp, nonce, body: bytes });
  return {
    'content-type': 'application/json',
    'x-yz-app': app.appId,
    'x-yz-timestamp': timestamp,
    'x-yz-nonce': nonce,
    'x-yz-signature': Buffer.from(sm2.sign(app.key, message, { id: SIGNATURE_USER_ID })).toString('base64'),
  };
}

function makeItems(count: number, start: number, key: string, cert: Uint8Array): object[] {
  const signer = signerFromPrivateKey(key);
  const certificate = parseCertificate(cert);
  const items: object[] = [];
  for (let i = start; i < start + count; i++) {
    const content = new TextEncoder().encode(`门诊病历 #${i} ${'主诉：头痛三天。'.repeat(8)}`);
    const cms = buildSignedData({ content, signers: [{ signer, certificate }], oids: 'gmt0010' });
    items.push({
      serialNumber: `bench-${i}`,
      businessType: '门诊病历',
      signer: '医生张三',
      signature: { format: 'cms', value: Buffer.from(cms).toString('base64') },
    });
  }
  return items;
}

interface PhaseResult {
  records: number;
  requests: number;
  failures: number;
  seconds: number;
  recordsPerSecond: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  /** CPU time (user + system) the server process spent per stored record, ms; null where /proc is absent. */
  serverCpuMsPerRecord: number | null;
  /** The same for this client process (building, sending and timing the requests). */
  clientCpuMsPerRecord: number;
  /**
   * PostgreSQL CPU per stored record, ms: the backends serving this run's database (the server's connections),
   * and every `postgres` process (with the WAL writer, checkpointer…: meaningful on a quiet machine only).
   */
  pgBackendsCpuMsPerRecord: number | null;
  pgAllCpuMsPerRecord: number | null;
  /** What the server asked of PostgreSQL per stored record (see {@link databaseActivity}); null for SQLite. */
  pgPerRecord: DatabaseActivity | null;
}

/**
 * Counters of the bench's database (pg_stat_database) and of its tables (pg_stat_user_tables): transactions
 * committed and rolled back, and rows written by table, so that a run says what each record cost in statements
 * and rows, not only in CPU.
 */
interface DatabaseActivity {
  commits: number;
  rollbacks: number;
  /** Rows inserted + updated + deleted, by table (tables with none left out). */
  rowsWritten: Record<string, number>;
}

async function databaseActivity(): Promise<DatabaseActivity | undefined> {
  if (DIALECT !== 'postgres') return undefined;
  const c = new pg.Client({ connectionString: ws.databaseUrl });
  await c.connect();
  try {
    const d = await c.query<{ commits: string; rollbacks: string }>(
      `SELECT xact_commit AS commits, xact_rollback AS rollbacks FROM pg_stat_database
        WHERE datname = current_database()`,
    );
    const t = await c.query<{ name: string; n: string }>(
      `SELECT relname AS name, n_tup_ins + n_tup_upd + n_tup_del AS n FROM pg_stat_user_tables`,
    );
    return {
      commits: Number(d.rows[0]?.commits ?? 0),
      rollbacks: Number(d.rows[0]?.rollbacks ?? 0),
      rowsWritten: Object.fromEntries(t.rows.map((r) => [r.name, Number(r.n)])),
    };
  } finally {
    await c.end();
  }
}

/** `after - before`, per record (two decimals); tables without writes left out. */
function activityPerRecord(
  before: DatabaseActivity,
  after: DatabaseActivity,
  records: number,
): DatabaseActivity {
  const per = (n: number): number => Math.round((n * 100) / records) / 100;
  const rowsWritten: Record<string, number> = {};
  for (const [name, n] of Object.entries(after.rowsWritten)) {
    const d = n - (before.rowsWritten[name] ?? 0);
    if (d > 0) rowsWritten[name] = per(d);
  }
  return {
    commits: per(after.commits - before.commits),
    rollbacks: per(after.rollbacks - before.rollbacks),
    rowsWritten,
  };
}

/** CPU seconds (user + system) by PostgreSQL process id (comm `postgres`), from /proc; empty where unreadable. */
function postgresCpuByPid(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cpu = cpuSecondsOf(Number(pid), '(postgres)');
      if (cpu !== undefined) out.set(Number(pid), cpu);
    }
  } catch {
    // no /proc
  }
  return out;
}

/** The process ids of the PostgreSQL backends connected to the bench's database (none for SQLite). */
async function backendPids(): Promise<number[]> {
  if (DIALECT !== 'postgres') return [];
  const c = new pg.Client({ connectionString: ws.databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return r.rows.map((x) => x.pid);
  } finally {
    await c.end();
  }
}

/** CPU seconds (user + system) of a process, from /proc (Linux; USER_HZ = 100); undefined elsewhere. */
function cpuSecondsOf(pid: number | undefined, comm?: string): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (comm !== undefined && !stat.includes(comm)) return undefined;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function runPhase(
  base: string,
  prepared: readonly Prepared[],
  seconds: number,
  serverPid?: number,
): Promise<PhaseResult> {
  const url = new URL(base);
  for (const p of prepared) p.bytes(url.host); // serialised before the clock starts
  const serverCpu0 = cpuSecondsOf(serverPid);
  const pg0 = serverPid === undefined ? new Map<number, number>() : postgresCpuByPid();
  const activity0 = serverPid === undefined ? undefined : await databaseActivity();
  const clientCpu0 = process.cpuUsage();
  const connections: RawHttpConnection[] = [];
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  let records = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    const connection = new RawHttpConnection(url.hostname, Number(url.port));
    connections.push(connection);
    while (performance.now() < deadline && next < prepared.length) {
      const p = prepared[next++]!;
      const t0 = performance.now();
      const r = await connection.request(p.bytes(url.host));
      latencies.push(performance.now() - t0);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status === 201) {
        records += p.records;
      } else if (r.status === 200 && p.records > 1) {
        const body = JSON.parse(r.body.toString('utf8')) as { results: { status: number }[] };
        for (const x of body.results) {
          if (x.status === 201) records++;
          else failures++;
        }
      } else {
        failures += p.records;
        if (failures <= 3)
          process.stderr.write(`unexpected ${r.status}: ${r.body.toString('utf8', 0, 300)}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, () => worker()));
  const elapsed = (performance.now() - started) / 1000;
  const serverCpu1 = cpuSecondsOf(serverPid);
  const clientCpu = process.cpuUsage(clientCpu0);
  const pg1 = serverPid === undefined ? new Map<number, number>() : postgresCpuByPid();
  const pids = serverPid === undefined ? [] : await backendPids();
  const pgDelta = (ids: Iterable<number>): number => {
    let sum = 0;
    for (const id of ids) sum += (pg1.get(id) ?? 0) - (pg0.get(id) ?? 0);
    return sum;
  };
  const perRecord = (seconds: number): number | null =>
    pg1.size === 0 || records === 0 ? null : Math.round((seconds * 1e5) / records) / 100;
  for (const c of connections) c.close();
  // The backends publish their counters when idle for a second (PostgreSQL ≥ 15: at most every 10 s).
  let activity1: DatabaseActivity | undefined;
  if (activity0 !== undefined) {
    await new Promise((r) => setTimeout(r, 1500));
    activity1 = await databaseActivity();
  }
  latencies.sort((a, b) => a - b);
  if (next >= prepared.length)
    process.stderr.write('note: ran out of prepared requests before the time was up\n');
  return {
    records,
    requests: latencies.length,
    failures,
    seconds: Math.round(elapsed * 100) / 100,
    recordsPerSecond: Math.round(records / elapsed),
    p50: Math.round(percentile(latencies, 50) * 10) / 10,
    p99: Math.round(percentile(latencies, 99) * 10) / 10,
    statuses,
    serverCpuMsPerRecord:
      serverCpu0 === undefined || serverCpu1 === undefined || records === 0
        ? null
        : Math.round(((serverCpu1 - serverCpu0) * 1e5) / records) / 100,
    clientCpuMsPerRecord:
      records === 0 ? 0 : Math.round(((clientCpu.user + clientCpu.system) / 1e3 / records) * 100) / 100,
    pgBackendsCpuMsPerRecord: pids.length === 0 ? null : perRecord(pgDelta(pids)),
    pgAllCpuMsPerRecord: perRecord(pgDelta(pg1.keys())),
    pgPerRecord:
      activity0 === undefined || activity1 === undefined || records === 0
        ? null
        : activityPerRecord(activity0, activity1, records),
  };
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (and per file) of the server's CPU profile, top entries to stderr. */
function summariseProfiles(dir: string): void {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
    const prof = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const byId = new Map(prof.nodes.map((n) => [n.id, n.callFrame]));
    const self = new Map<string, number>();
    const files = new Map<string, number>();
    let total = 0;
    prof.samples.forEach((id, i) => {
      const dt = prof.timeDeltas[i] ?? 0;
      const cf = byId.get(id);
      if (cf === undefined) return;
      total += dt;
      const file = cf.url.replace(/^.*\/(node_modules|apps|packages)\//, '$1/') || '(native/vm)';
      const fn = `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
      self.set(fn, (self.get(fn) ?? 0) + dt);
      const pkg = file.replace(
        /^(node_modules\/(@[^/]+\/)?[^/]+|apps\/[^/]+\/[^/]+\/[^/]+|packages\/[^/]+).*$/,
        '$1',
      );
      files.set(pkg, (files.get(pkg) ?? 0) + dt);
    });
    const top = (m: Map<string, number>, n: number): string =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
        .join('\n');
    log(
      `server CPU profile ${f}: ${(total / 1e6).toFixed(1)} s sampled\nby module:\n${top(files, 20)}\nby function (self):\n${top(self, 30)}`,
    );
  }
  if (values['profile-dir'] === undefined) rmSync(dir, { recursive: true, force: true });
  else log(`raw profiles kept in ${dir}`);
}

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

const ws = await createWorkspace(DIALECT);
let server: Awaited<ReturnType<typeof startServer>> | undefined;
try {
  const app = await provision(ws, 'P-BENCH');
  const { key, cert } = sm2Certificate();
  // Enough requests for the targets with headroom (default 2,500/s single, 7,500/s batch).
  const rate = Number(values.rate);
  const singleCount = PHASE === 'batch' ? 200 : Math.ceil(SECONDS * rate);
  const batchRequests = PHASE === 'single' ? 0 : Math.ceil((SECONDS * 3 * rate) / BATCH);
  log(`preparing ${singleCount} single and ${batchRequests}×${BATCH} batch requests (SM2 CMS, signed)…`);
  const single: Prepared[] = makeItems(singleCount, 0, key, cert).map((item) => {
    const body = JSON.stringify(item);
    const path = '/api/v1/signatures';
    return preparedRequest(path, signRequest(app, path, body), Buffer.from(body), 1);
  });
  const batch: Prepared[] = [];
  for (let r = 0; r < batchRequests; r++) {
    const body = JSON.stringify({ items: makeItems(BATCH, singleCount + r * BATCH, key, cert) });
    const path = '/api/v1/signatures:batch';
    batch.push(preparedRequest(path, signRequest(app, path, body), Buffer.from(body), BATCH));
  }
  const reference = sm2VerifyRate();
  log(`single-core SM2 verify (reference): ${Math.round(reference)}/s`);
  const profileDir = values.profile
    ? (values['profile-dir'] ?? mkdtempSync(join(tmpdir(), 'yz-prof-')))
    : undefined;
  server = await startServer(ws, await freePort(), {}, [
    ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
    ...(values['node-arg'] ?? []),
  ]);
  // Warm-up: a few requests outside the measurement (JIT, connection pool, key caches).
  await runPhase(server.base, single.splice(0, 200), 5);
  const pid = server.child.pid;
  const s = PHASE === 'batch' ? undefined : await runPhase(server.base, single, SECONDS, pid);
  if (s !== undefined) log(`single-item: ${JSON.stringify(s)}`);
  const b = PHASE === 'single' ? undefined : await runPhase(server.base, batch, SECONDS, pid);
  if (b !== undefined) log(`batch ${BATCH}: ${JSON.stringify(b)}`);
  const meta = { dialect: DIALECT, clients: CLIENTS, cpus: (await import('node:os')).cpus().length };
  const line = (bench: string, r: PhaseResult, target: number): string =>
    JSON.stringify({
      bench,
      ours: r.recordsPerSecond,
      reference: Math.round(reference),
      ratio: Math.round((r.recordsPerSecond / reference) * 1000) / 1000,
      unit: 'records/s (reference: single-core SM2 verifications/s)',
      target,
      p50Ms: r.p50,
      p99Ms: r.p99,
      serverCpuMsPerRecord: r.serverCpuMsPerRecord,
      clientCpuMsPerRecord: r.clientCpuMsPerRecord,
      pgBackendsCpuMsPerRecord: r.pgBackendsCpuMsPerRecord,
      pgAllCpuMsPerRecord: r.pgAllCpuMsPerRecord,
      pgPerRecord: r.pgPerRecord,
      failures: r.failures,
      ...meta,
    });
  if (profileDir !== undefined) {
    await server.stop();
    server = undefined;
    summariseProfiles(profileDir);
  }
  if (s !== undefined) process.stdout.write(`${line('ingest.single', s, 2_000)}\n`);
  if (b !== undefined) process.stdout.write(`${line('ingest.batch', b, 5_000)}\n`);
} finally {
  await server?.stop();
  await ws.remove();
}
