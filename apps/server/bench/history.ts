/**
 * History-migration benchmark (历史数据迁移, seed §1.8): migration at signature-verification level from a
 * PostgreSQL intermediate table (中间表) of SM2 raw signatures (1,000,000 rows by default) into a fresh Yizheng
 * database on PostgreSQL, through the real job (`history-migration`, run in process by the job manager).
 *
 * - Source: database `yz_bench_history_src` (created when absent) on `--pg`, table `hist_signatures`, filled with
 *   signatures made by the native SM2 engine (one signer certificate from the seeded test PKI) by multi-row
 *   INSERT … SELECT unnest(…) statements; reused when it already holds exactly `--records` rows of that signer's
 *   key (`--regenerate` forces a new one).
 * - Reference: single-core SM2 verification rate of the same signatures (`sm2.verify`, native engine), measured
 *   in this run before and after the migration. Target: records/s ≥ 0.7 × reference.
 * - Source load: `pg_stat_user_tables` of the source table over the migration (scans = queries, tuples read),
 *   against the task's throttle (`--throttle` rows/s).
 *
 *     npm run bench:history -- [--records 1000000] [--throttle 100000] [--batch 1000] [--pg URL] [--regenerate]
 *
 * - Bound: the PostgreSQL write floor (the run's rows inserted again by the server itself, INSERT … SELECT) and
 *   the records/s no migrator could pass on this machine's cores with only SM2 verification and that floor to
 *   pay per record (`bound` in the detail line).
 *
 * Prints a detail JSON line, then `{"bench":"history","ours":…,"reference":…,"ratio":…}`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sm2, type Sm2PrivateKey } from '@yizheng/gm';
import { fromPem, parseCertificate } from '@yizheng/pki';
import { TestPki } from '@yizheng/pki/testing';
import pg from 'pg';
import { build } from '../src/app.js';
import type { ServerConfig } from '../src/config.js';
import { toCount } from '../src/db/connect.js';
import { createApplication } from '../src/modules/applications/service.js';
import { createSource, createTask, getTask } from '../src/modules/history/service.js';
import { createProject } from '../src/modules/projects/service.js';
import { testConfig } from '../src/testing/app.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    throttle: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    pg: {
      type: 'string',
      default: process.env.YIZHENG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    regenerate: { type: 'boolean', default: false },
  },
});
const RECORDS = Number(values.records);
const THROTTLE = Number(values.throttle);
const BATCH = Number(values.batch);
if (
  ![RECORDS, THROTTLE, BATCH].every((n) => Number.isInteger(n) && n > 0) ||
  THROTTLE > 100_000 ||
  BATCH > 1000
) {
  process.stderr.write(
    'usage: bench:history [--records N] [--throttle 1..100000] [--batch 1..1000] [--pg URL]\n',
  );
  process.exit(2);
}
const SOURCE_DB = 'yz_bench_history_src';
const TABLE = 'hist_signatures';
const ID = '1234567812345678';
const NOW = Date.now();
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

function urlFor(db: string): string {
  const u = new URL(values.pg);
  u.pathname = `/${db}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: values.pg });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// The signer: one doctor's SM2 certificate from the seeded test PKI (valid around now).
// Fixed for the day (UTC midnight), so that the source table made with it is reused by later runs of the day.
const pki = new TestPki({ seed: 'bench-history', now: new Date(NOW - (NOW % 86_400_000)) });
const leaf = pki.root().leaf({ subject: { CN: '医生甲' } });
const key: Sm2PrivateKey = sm2.importPrivateKey(leaf.privateKeyPem);
const content = (i: number): Uint8Array => utf8(`病历 ${i}：主诉头痛三天，查体无异常。`);

/**
 * Whether a stored table's one certificate is the signer's: the same key (the test PKI's keys follow from its
 * seed, its certificates' SM2 signatures do not), valid at the rows' signing time and still now.
 */
function sameSigner(pem: string, signedAt: string | null): boolean {
  try {
    const stored = parseCertificate(fromPem(pem));
    const at = signedAt === null ? Number.NaN : Date.parse(signedAt);
    return (
      Buffer.from(stored.spki).equals(Buffer.from(parseCertificate(fromPem(leaf.pem)).spki)) &&
      stored.notBefore.getTime() <= at &&
      stored.notAfter.getTime() > Date.now()
    );
  } catch {
    return false;
  }
}

/** Creates and fills the source table unless it already holds RECORDS rows signed by the signer. */
async function prepareSource(): Promise<{ generatedIn: number | null }> {
  const exists = await admin(
    async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [SOURCE_DB])).rowCount === 1,
  );
  if (!exists) await admin((c) => c.query(`CREATE DATABASE ${SOURCE_DB}`));
  const src = new pg.Client({ connectionString: urlFor(SOURCE_DB) });
  await src.connect();
  try {
    if (!values.regenerate) {
      const has = await src.query<{ n: string }>(
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1`,
        [TABLE],
      );
      if (Number(has.rows[0]?.n) === 1) {
        const n = await src.query<{ n: string; cert: string | null; last: string | null; at: string | null }>(
          `SELECT count(*) AS n, min(signer_cert) AS cert, max(signer_cert) AS last, min(signed_at) AS at
             FROM ${TABLE}`,
        );
        const r = n.rows[0];
        if (Number(r?.n) === RECORDS && r?.cert != null && r.cert === r.last && sameSigner(r.cert, r.at))
          return { generatedIn: null };
      }
    }
    const t0 = performance.now();
    await src.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await src.query(
      `CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, serial_no text NOT NULL, sig_format text NOT NULL,
        sig_value text NOT NULL, signer_cert text NOT NULL, content text NOT NULL, signed_at text NOT NULL)`,
    );
    const signedAt = new Date(NOW - 3_600_000).toISOString();
    const CHUNK = 5000;
    for (let from = 1; from <= RECORDS; from += CHUNK) {
      const ids: number[] = [];
      const serials: string[] = [];
      const sigs: string[] = [];
      const contents: string[] = [];
      for (let i = from; i < Math.min(from + CHUNK, RECORDS + 1); i++) {
        const data = content(i);
        ids.push(i);
        serials.push(`HIS-${i}`);
        sigs.push(Buffer.from(sm2.sign(key, data, { id: ID })).toString('base64'));
        contents.push(Buffer.from(data).toString('base64'));
      }
      await src.query(
        `INSERT INTO ${TABLE} SELECT u.id, u.serial_no, 'raw', u.sig, $4, u.content, $5
           FROM unnest($1::bigint[], $2::text[], $3::text[], $6::text[]) AS u(id, serial_no, sig, content)`,
        [ids, serials, sigs, leaf.pem, signedAt, contents],
      );
      if (from % 100_000 === 1) log(`source: ${from - 1 + ids.length}/${RECORDS} rows`);
    }
    await src.query(`ANALYZE ${TABLE}`);
    return { generatedIn: (performance.now() - t0) / 1000 };
  } finally {
    await src.end();
  }
}

/** Single-core SM2 verifications per second over the source's signatures (native engine, cached key). */
function verifyRate(seconds: number): number {
  const n = 2000;
  const items = Array.from({ length: n }, (_, k) => {
    const data = content(k + 1);
    return { data, sig: sm2.sign(key, data, { id: ID }) };
  });
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (const it of items)
      if (!sm2.verify(key.publicKey, it.data, it.sig, { id: ID })) throw new Error('verify');
    done += n;
  }
  return done / ((performance.now() - t0) / 1000);
}

/**
 * CPU milliseconds (user + system) of this process's main thread (the event loop), from
 * /proc/self/task/<pid>/stat (Linux, USER_HZ = 100); NaN where unreadable. The thread pool is not included.
 */
function mainThreadCpuMs(): number {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU milliseconds (user + system) of every PostgreSQL process on this machine (comm `postgres`), from /proc;
 * NaN where unreadable. Includes other clients of the same server: meaningful on a quiet machine only.
 */
function postgresCpuMs(): number {
  const byPid = postgresCpuByPid();
  let ms = 0;
  for (const v of byPid.values()) ms += v;
  return byPid.size === 0 ? Number.NaN : ms;
}

/** CPU milliseconds (user + system) by PostgreSQL process id (comm `postgres`), from /proc; empty where unreadable. */
function postgresCpuByPid(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      if (!stat.includes('(postgres)')) continue;
      const f = stat.split(') ')[1]!.split(' ');
      out.set(Number(pid), (Number(f[11]) + Number(f[12])) * 10);
    }
  } catch {
    // no /proc: the figure is NaN
  }
  return out;
}

/**
 * CPU milliseconds the backends of this run's own connections (to the source and target databases) used since
 * `before`: the PostgreSQL work of the migration alone, whatever other clients of a shared server do meanwhile.
 * Background processes (WAL writer, checkpointer, autovacuum) are not included; a backend that exited during the
 * run is not either (the pools keep theirs while busy). NaN where /proc or pg_stat_activity cannot be read.
 */
async function ownBackendsCpuMs(
  before: ReadonlyMap<number, number>,
  dbs: readonly string[],
): Promise<number> {
  if (before.size === 0) return Number.NaN;
  const pids = await admin(
    async (c) =>
      (
        await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])', [
          [...dbs],
        ])
      ).rows,
  );
  const now = postgresCpuByPid();
  let ms = 0;
  for (const { pid } of pids) ms += (now.get(pid) ?? 0) - (before.get(pid) ?? 0);
  return ms;
}

/**
 * CPU milliseconds (user + system) of one PostgreSQL backend, by its process id, from /proc; NaN where
 * unreadable.
 */
function backendCpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** The three tables every migrated record writes a row of (the statistics upserts are per batch, not per row). */
const RECORD_TABLES = ['evidence', 'evidence_payloads', 'log_leaves'] as const;

/**
 * The PostgreSQL write floor on this machine, µs of backend CPU per record: the run's stored rows written once
 * more by the server itself — INSERT … SELECT into empty copies of {@link RECORD_TABLES} (LIKE … INCLUDING ALL:
 * the same columns, indexes, defaults and checks; no foreign keys), all in one transaction — measured as that
 * one backend's CPU. No client parsing, no network, no statement per batch, no foreign-key checks, no
 * conflict handling: no way of storing these records can cost PostgreSQL less. (The copies are made in a
 * transaction of their own first, so that the inserts write their WAL like every other insert.)
 */
async function pgWriteFloorUsPerRecord(db: string, records: number): Promise<number> {
  const c = new pg.Client({ connectionString: urlFor(db) });
  await c.connect();
  try {
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    for (const t of RECORD_TABLES) await c.query(`CREATE TABLE floor_${t} (LIKE ${t} INCLUDING ALL)`);
    await c.query('BEGIN');
    const before = backendCpuMs(pid);
    for (const t of RECORD_TABLES) await c.query(`INSERT INTO floor_${t} SELECT * FROM ${t}`);
    await c.query('COMMIT');
    const ms = backendCpuMs(pid) - before;
    for (const t of RECORD_TABLES) await c.query(`DROP TABLE floor_${t}`);
    return (ms * 1000) / records;
  } finally {
    await c.end();
  }
}

interface TableStats {
  scans: number;
  tuples: number;
}

async function sourceStats(): Promise<TableStats> {
  const c = new pg.Client({ connectionString: urlFor(SOURCE_DB) });
  await c.connect();
  try {
    await c.query('SELECT pg_stat_clear_snapshot()');
    const r = await c.query<{ scans: string; tuples: string }>(
      `SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS scans,
              coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS tuples
         FROM pg_stat_user_tables WHERE relname = $1`,
      [TABLE],
    );
    return { scans: Number(r.rows[0]?.scans ?? 0), tuples: Number(r.rows[0]?.tuples ?? 0) };
  } finally {
    await c.end();
  }
}

const generated = await prepareSource();
log(
  `source ready (${generated.generatedIn === null ? 'reused' : `generated in ${generated.generatedIn.toFixed(1)} s`})`,
);
const refBefore = verifyRate(3);
log(`SM2 verify (one core): ${refBefore.toFixed(0)}/s`);

// The target: a fresh Yizheng database on PostgreSQL, the app in process (jobs run on request only).
const target = `yz_bench_hist_${randomBytes(4).toString('hex')}`;
await admin((c) => c.query(`CREATE DATABASE ${target}`));
const dataDir = mkdtempSync(join(tmpdir(), 'yz-bench-hist-'));
const config: ServerConfig = testConfig({ dialect: 'postgres', url: urlFor(target), poolSize: 10 }, dataDir, {
  logLevel: 'warn',
  bodyLimit: 16 * 1024 * 1024,
  apiLog: false,
});
const app = await build(config, { logger: false, jobs: false, now: () => Date.now() });
try {
  await app.ready();
  const ctx = { db: app.db, now: () => Date.now(), actor: 'bench' };
  await createProject({ ctx, number: 'HIS', name: '历史迁移' });
  const appId = (await createApplication({ ctx, project: 'HIS', name: 'HIS' })).application.id;
  const source = await createSource({
    ctx,
    fieldCrypto: app.fieldCrypto,
    body: {
      name: 'HIS 中间表',
      url: urlFor(SOURCE_DB),
      table: TABLE,
      mapping: {
        key: 'id',
        keyType: 'integer',
        serialNumber: 'serial_no',
        format: 'sig_format',
        defaultFormat: 'raw',
        signature: 'sig_value',
        certificate: 'signer_cert',
        original: 'content',
        signedAt: 'signed_at',
      },
    },
  });
  const task = await createTask({
    ctx,
    body: { sourceId: source.id, appId, level: 'signature', rowsPerSecond: THROTTLE, batchSize: BATCH },
    trustStore: false,
  });
  const before = await sourceStats();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const pg0 = postgresCpuMs();
  const pgByPid0 = postgresCpuByPid();
  const t0 = performance.now();
  const progress = setInterval(() => {
    void getTask({ db: app.db, id: task.id }).then((t) => {
      log(
        `migrated ${t.migrated}/${RECORDS} (${(t.migrated / ((performance.now() - t0) / 1000)).toFixed(0)}/s)`,
      );
    });
  }, 10_000);
  const run = await app.jobs.runNow('history-migration');
  if (run.status !== 'started') throw new Error('history-migration busy');
  const view = await run.done;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const mainMs = mainThreadCpuMs() - main0;
  const pgMs = postgresCpuMs() - pg0;
  const pgOwnMs = await ownBackendsCpuMs(pgByPid0, [SOURCE_DB, target]);
  clearInterval(progress);
  if (view.outcome !== 'succeeded') throw new Error(`run ${view.outcome}: ${view.error ?? ''}`);
  const done = await getTask({ db: app.db, id: task.id });
  // Honest count: the records actually stored (each verified on the way in), not the task's counters alone.
  const stored = toCount(
    (
      await app.db
        .selectFrom('evidence')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('app_id', '=', appId)
        .executeTakeFirstOrThrow()
    ).n,
  );
  await new Promise((r) => setTimeout(r, 1500)); // PostgreSQL publishes table statistics within a second
  const after = await sourceStats();
  const refAfter = verifyRate(3);
  const reference = (refBefore + refAfter) / 2;
  const ours = done.migrated / elapsed;
  if (done.migrated !== RECORDS || done.failed !== 0 || done.duplicates !== 0 || stored !== RECORDS)
    throw new Error(
      `migrated ${done.migrated} (${done.duplicates} duplicates), failed ${done.failed}, stored ${stored} of ${RECORDS}`,
    );
  const writeFloorUs = await pgWriteFloorUsPerRecord(target, stored);
  const verifyUs = 1e6 / reference;
  const cores = availableParallelism();
  // What 0.7× the reference would allow: every core busy, the CPU per record no more than this.
  const budgetUs = (cores * 1e6) / (0.7 * reference);
  // The best any migrator could do here: every core busy with nothing but each record's SM2 verification and
  // the PostgreSQL write floor (the source reads, the mapping, hashing and the Merkle log all free).
  const ceiling = (cores * 1e6) / (verifyUs + writeFloorUs);
  const queries = after.scans - before.scans;
  const rowsRead = after.tuples - before.tuples;
  const detail = {
    records: RECORDS,
    seconds: Number(elapsed.toFixed(2)),
    recordsPerSecond: Math.round(ours),
    storedRecords: stored,
    // CPU of this process (event loop and thread pool) over the migration, per record; the databases' own CPU
    // is not included.
    cpuMsPerRecord: Number(((cpu.user + cpu.system) / 1000 / RECORDS).toFixed(3)),
    // The main thread's share (source reading, mapping, the ingest path's JS, bookkeeping), µs per record.
    mainThreadCpuUsPerRecord: Number(((mainMs * 1000) / RECORDS).toFixed(1)),
    // The PostgreSQL server's (source and target; any other client's too): what is left of the 2 cores.
    postgresCpuUsPerRecord: Number(((pgMs * 1000) / RECORDS).toFixed(1)),
    // The share of the backends serving this run's source reads and target writes (not other clients').
    postgresOwnBackendsCpuUsPerRecord: Number(((pgOwnMs * 1000) / RECORDS).toFixed(1)),
    // The floor (see pgWriteFloorUsPerRecord), and what it means on this machine's cores: the CPU per record
    // the target allows, and the records/s (and ratio) no migrator can pass here.
    bound: {
      cores,
      verifyUsPerRecord: Number(verifyUs.toFixed(1)),
      postgresWriteFloorUsPerRecord: Number(writeFloorUs.toFixed(1)),
      targetBudgetUsPerRecord: Number(budgetUs.toFixed(1)),
      ceilingRecordsPerSecond: Math.round(ceiling),
      ceilingRatio: Number((ceiling / reference).toFixed(3)),
    },
    verifyPerSecondBefore: Math.round(refBefore),
    verifyPerSecondAfter: Math.round(refAfter),
    source: {
      throttleRowsPerSecond: THROTTLE,
      batchSize: BATCH,
      queries,
      queriesPerSecond: Number((queries / elapsed).toFixed(2)),
      rowsRead,
      rowsReadPerSecond: Math.round(rowsRead / elapsed),
      // The one count(*) at the start reads every row once; the migration's own reads are the rest.
      migrationRowsReadPerSecond: Math.round((rowsRead - RECORDS) / elapsed),
      underThrottle: (rowsRead - RECORDS) / elapsed <= THROTTLE,
    },
    generatedSourceSeconds: generated.generatedIn,
  };
  process.stdout.write(`${JSON.stringify(detail)}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'history', ours: Math.round(ours), reference: Math.round(reference), ratio: Number((ours / reference).toFixed(3)) })}\n`,
  );
} finally {
  await app.close();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`));
  rmSync(dataDir, { recursive: true, force: true });
}
