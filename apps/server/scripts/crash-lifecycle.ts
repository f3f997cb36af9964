/**
 * Lifecycle crash test: the server (`node apps/server/dist/main.js`, a child process, through harness.ts) is
 * killed with SIGKILL `--kills` times (default 10) in the middle of
 *
 *  - **hot → cold migration** (the `cold-migration` job under a strategy: age 0, small batches, no retention),
 *    with hot and cold on different databases — PostgreSQL hot + SQLite cold, SQLite hot + MariaDB cold;
 *  - **history migration** (the `history-migration` job reading a SQLite intermediate table of SM2 signatures
 *    made by the test PKI, some of them broken).
 *
 * Each kill lands while the job is moving records (the parent waits until the run has made progress, then a
 * random 0–200 ms more). After every kill, with the server down, the parent checks from the databases:
 *
 *  - cold migration: every record is on the hot side or the cold side, never lost, never an extra one; a record
 *    on both sides is only ever the batch in flight (copied, not yet marked) and never one marked as moved; every
 *    copy has exactly the columns (hence the evidence hash) it had before the migration; the batch that was on
 *    both sides at the previous kill was finished (hot copy deleted, marked moved) by the restarted run before
 *    it moved anything else — so after each restart every record is in exactly one place; the hot side's Merkle
 *    log (leaves, nodes, checkpoints) is byte-for-byte unchanged; hot-only + cold counts add up to the total;
 *  - history: every source row is at most once in Yizheng, never both a record and a failure; every row up to
 *    the task's cursor is accounted for (good rows as records, broken rows in `history_failures`), rows after it
 *    only as the interrupted batch; migrated + failed equal the rows up to the cursor; the log is contiguous and
 *    its earlier leaves unchanged.
 *
 * Then the server runs the job to its end and the final state is checked strictly: every record in exactly one
 * place (hot xor cold; each source row exactly once as a record or a failure), counts equal, and a sample of
 * archived records is read and re-verified through the signed API (read-through, log inclusion).
 *
 * The dead server's job lease is deleted after each kill (the operator's "it is dead" — otherwise the restarted
 * server waits out the lease, 60 s); nothing else is touched between runs.
 *
 *     npm run build && npm run crash-test:lifecycle -- [--kills 10] [--cold postgres:sqlite,sqlite:mysql]
 *       [--history sqlite] [--records 1500] [--rows 400]
 *
 * MariaDB comes from YIZHENG_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/test), PostgreSQL from
 * YIZHENG_TEST_PG_URL. Prints one JSON line per scenario and exits 1 on the first violation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sm3 } from '@yizheng/gm';
import { TestPki } from '@yizheng/pki/testing';
import { sql, type Kysely } from 'kysely';
import mysql from 'mysql2/promise';
import {
  history,
  loadFieldCrypto,
  loadOrCreateKek,
  openDatabase,
  strategies,
  type DatabaseConfig,
  type Db,
} from '@yizheng/server';
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

class Violation extends Error {}

function fail(message: string): never {
  throw new Violation(message);
}

const t0 = Date.now();
const trace = (what: string): void => {
  if (process.env.YIZHENG_CRASH_TRACE)
    process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const count = (v: unknown): number => Number(v ?? 0);
type AnyDb = Kysely<Record<string, Record<string, unknown>>>;
const anyDb = (db: Db): AnyDb => db.kysely as unknown as AnyDb;

// ── Databases ─────────────────────────────────────────────────────────────────────────────────────────────

type ColdDialect = 'sqlite' | 'mysql' | 'postgres';

interface ColdDatabase {
  dialect: ColdDialect;
  /** YIZHENG_COLD_DATABASE_URL for the child. */
  url: string;
  config: DatabaseConfig;
  remove(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A SQLite file in the workspace, or a fresh MariaDB / PostgreSQL database (dropped by `remove`). */
async function createColdDatabase(dialect: ColdDialect, ws: Workspace): Promise<ColdDatabase> {
  const name = `yz_cold_${randomBytes(5).toString('hex')}`;
  if (dialect === 'sqlite') {
    const file = join(ws.dataDir, 'cold', 'cold.db');
    return {
      dialect,
      url: `sqlite:${file}`,
      config: { dialect: 'sqlite', file },
      remove: () => {
        rmSync(join(ws.dataDir, 'cold'), { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  }
  if (dialect === 'mysql') {
    const admin = process.env.YIZHENG_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
    const c = await mysql.createConnection({ uri: admin });
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await c.end();
    const url = withDatabase(admin, name);
    return {
      dialect,
      url,
      config: { dialect: 'mysql', url, poolSize: 2 },
      remove: async () => {
        const d = await mysql.createConnection({ uri: admin });
        await d.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await d.end();
      },
    };
  }
  const admin = process.env.YIZHENG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const pg = await openDatabase({ dialect: 'postgres', url: admin, poolSize: 1 });
  await sql.raw(`CREATE DATABASE "${name}"`).execute(pg.kysely);
  await pg.close();
  const url = withDatabase(admin, name);
  return {
    dialect,
    url,
    config: { dialect: 'postgres', url, poolSize: 2 },
    remove: async () => {
      const d = await openDatabase({ dialect: 'postgres', url: admin, poolSize: 1 });
      await sql.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).execute(d.kysely);
      await d.close();
    },
  };
}

/** SHA-256 of a row's columns, numbers normalised (PostgreSQL returns bigints as strings). */
function rowDigest(r: Record<string, unknown>): string {
  const keys = Object.keys(r).sort();
  const norm = keys.map((k) => {
    const v = r[k];
    if (k === 'original_size' || k === 'file_size' || k === 'log_index') return v === null ? null : Number(v);
    return v;
  });
  return createHash('sha256')
    .update(JSON.stringify([keys, norm]))
    .digest('hex');
}

async function evidenceDigests(db: Db): Promise<Map<string, string>> {
  const rows = await anyDb(db).selectFrom('evidence').selectAll().execute();
  return new Map(rows.map((r) => [String(r.id), rowDigest(r)]));
}

/** The hot side's Merkle log: leaves, nodes, checkpoints and their stamps. */
async function logDigest(db: Db): Promise<string> {
  const h = createHash('sha256');
  const k = anyDb(db);
  const hex = (b: unknown): string => Buffer.from(b as Uint8Array).toString('hex');
  for (const l of await k.selectFrom('log_leaves').selectAll().orderBy('idx').execute())
    h.update(`L${count(l.idx)}:${hex(l.entry)}:${hex(l.leaf_hash)};`);
  for (const n of await k.selectFrom('log_nodes').selectAll().orderBy('level').orderBy('idx').execute())
    h.update(`N${count(n.level)}/${count(n.idx)}:${hex(n.hash)};`);
  for (const c of await k.selectFrom('log_checkpoints').selectAll().orderBy('size').execute())
    h.update(`C${count(c.size)}:${hex(c.root_hash)}:${String(c.note)};`);
  const tree = await k.selectFrom('log_tree').selectAll().executeTakeFirst();
  h.update(`T${count(tree?.size)}`);
  return h.digest('hex');
}

async function clearLease(db: Db, jobId: string): Promise<void> {
  await sql`delete from job_leases where job_id = ${jobId}`.execute(db.kysely);
}

/** A job's stored schedule (the restarted server reads it): every second. */
async function everySecond(db: Db, jobId: string): Promise<void> {
  const r =
    await sql`update job_state set schedule = ${'* * * * * *'}, enabled = 1 where job_id = ${jobId}`.execute(
      db.kysely,
    );
  if (count(r.numAffectedRows) !== 1) {
    await sql`insert into job_state (job_id, description, default_schedule, schedule, enabled, run_requested_at, updated_at)
      values (${jobId}, ${''}, ${'* * * * *'}, ${'* * * * * *'}, ${1}, ${null}, ${new Date().toISOString()})`.execute(
      db.kysely,
    );
  }
}

/** Waits until `progress()` differs from its value now, then a random 0–300 ms more; then kills the server. */
async function killDuring(
  server: ServerProcess,
  progress: () => Promise<number>,
  what: string,
): Promise<number> {
  const start = await progress();
  const deadline = Date.now() + 30_000;
  for (;;) {
    if ((await progress()) !== start) break;
    if (Date.now() > deadline) {
      await server.kill9();
      fail(`${what}: no progress within 30 s of the restart: ${server.stderr().slice(-2000)}`);
    }
    await sleep(20);
  }
  await sleep(Math.floor(Math.random() * 200));
  await server.kill9();
  return start;
}

// ── Hot → cold ────────────────────────────────────────────────────────────────────────────────────────────

function digestBody(i: number): string {
  return JSON.stringify({
    serialNumber: `cold-${i}-${randomBytes(3).toString('hex')}`,
    businessType: '门诊病历',
    department: { code: 'XNK', name: '心内科' },
    algorithm: 'sm3',
    value: Buffer.from(sm3(randomBytes(32))).toString('hex'),
    metadata: { note: '冷热迁移崩溃测试', i: String(i) },
  });
}

async function pushRecords(server: ServerProcess, app: TestApplication, n: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) {
      const r = await signedFetch(server.base, app, 'POST', '/api/v1/digests', digestBody(i));
      if (r.status !== 201) fail(`push ${i} → ${r.status} ${r.text}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, () => worker()));
}

async function waitForLog(db: Db, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const k = anyDb(db);
    const tree = await k.selectFrom('log_tree').select('size').executeTakeFirst();
    const cp = await k
      .selectFrom('log_checkpoints')
      .select('size')
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (count(tree?.size) === n && count(cp?.size) === n) return;
    if (Date.now() > deadline) fail(`the log did not reach ${n} leaves under a checkpoint in 60 s`);
    await sleep(100);
  }
}

interface ColdState {
  hot: number;
  cold: number;
  both: number;
  /** The records on both sides (the batch in flight at the kill). */
  bothIds: Set<string>;
}

async function checkCold(options: {
  hot: Db;
  cold: Db;
  snapshot: Map<string, string>;
  log: string;
  batch: number;
  final: boolean;
  /** Records on both sides after the previous kill: the restarted run must have finished them first. */
  resolved: ReadonlySet<string>;
}): Promise<ColdState> {
  const { snapshot } = options;
  const h = await evidenceDigests(options.hot);
  const c = await evidenceDigests(options.cold);
  const moved = new Set(
    (
      await sql<{
        evidence_id: string;
      }>`select evidence_id from cold_moves where hot_deleted_at is not null`.execute(options.hot.kysely)
    ).rows.map((r) => r.evidence_id),
  );
  let both = 0;
  const bothIds = new Set<string>();
  for (const id of options.resolved)
    if (h.has(id) || !c.has(id) || !moved.has(id))
      fail(`record ${id}, on both sides at the previous kill, was not finished by the restarted run`);
  for (const [id, digest] of snapshot) {
    const inH = h.get(id);
    const inC = c.get(id);
    if (inH === undefined && inC === undefined) fail(`record ${id} is lost (on neither side)`);
    if (inH !== undefined && inH !== digest) fail(`record ${id} changed on the hot side`);
    if (inC !== undefined && inC !== digest) fail(`record ${id} changed on the cold side`);
    if (moved.has(id) && (inH !== undefined || inC === undefined))
      fail(`record ${id} is marked moved but is ${inH !== undefined ? 'still hot' : 'not cold'}`);
    if (inH !== undefined && inC !== undefined) {
      if (moved.has(id)) fail(`record ${id} is on both sides and marked moved`);
      both++;
      bothIds.add(id);
    }
  }
  for (const id of [...h.keys(), ...c.keys()])
    if (!snapshot.has(id)) fail(`record ${id} appeared from nowhere`);
  if (both > options.batch) fail(`${both} records on both sides: more than one batch (${options.batch})`);
  if (options.final && both !== 0) fail(`${both} records on both sides after the migration ended`);
  if (h.size + c.size - both !== snapshot.size) fail(`counts: ${h.size} hot + ${c.size} cold − ${both} both`);
  if (moved.size !== c.size - both) fail(`${moved.size} marked moved, ${c.size - both} cold only`);
  if ((await logDigest(options.hot)) !== options.log) fail('the Merkle log changed');
  return { hot: h.size, cold: c.size, both, bothIds };
}

async function coldCrash(
  hotDialect: HarnessDialect,
  coldDialect: ColdDialect,
  kills: number,
  records: number,
): Promise<Record<string, unknown>> {
  const started = Date.now();
  const ws = await createWorkspace(hotDialect);
  const coldDb = await createColdDatabase(coldDialect, ws);
  let server: ServerProcess | undefined;
  let hot: Db | undefined;
  let cold: Db | undefined;
  const batch = 5;
  try {
    const app = await provision(ws, 'P-COLD');
    const env = { YIZHENG_COLD_DATABASE_URL: coldDb.url };
    const port = await freePort();
    server = await startServer(ws, port, env);
    trace('server up');
    await pushRecords(server, app, records);
    trace('pushed');
    hot = await openWorkspaceDb(ws);
    await waitForLog(hot, records);
    await server.stop();
    cold = await openDatabase(coldDb.config);
    const snapshot = await evidenceDigests(hot);
    if (snapshot.size !== records) fail(`${snapshot.size} records stored, ${records} pushed`);
    const log = await logDigest(hot);
    await strategies.createStrategy({
      ctx: { db: hot.kysely, now: Date.now, actor: 'crash-test' },
      body: { name: 'crash', kinds: ['digest'], ageDays: 0, batchSize: batch, hotRetentionDays: 0 },
    });
    await everySecond(hot, 'cold-migration');
    const coldCount = async (): Promise<number> =>
      count((await sql<{ n: number }>`select count(*) as n from evidence`.execute(cold!.kysely)).rows[0]?.n);
    const rounds: ColdState[] = [];
    for (let k = 0; k < kills; k++) {
      server = await startServer(ws, port, env);
      trace(`round ${k + 1} up`);
      await killDuring(server, coldCount, `cold round ${k + 1}`);
      trace(`round ${k + 1} killed`);
      await clearLease(hot, 'cold-migration');
      const state = await checkCold({
        hot,
        cold,
        snapshot,
        log,
        batch,
        final: false,
        resolved: rounds[rounds.length - 1]?.bothIds ?? new Set(),
      });
      if (state.hot === 0 || (state.hot === state.both && k < kills - 1))
        fail(`the migration ended before kill ${k + 1}: use more --records`);
      rounds.push(state);
    }
    // To the end (in larger batches: the strategy is changed as an operator would), then read and re-verify a
    // sample through the API (read-through).
    await sql`update cold_strategies set batch_size = ${200}`.execute(hot.kysely);
    server = await startServer(ws, port, env);
    const deadline = Date.now() + 180_000;
    while (
      count((await sql<{ n: number }>`select count(*) as n from evidence`.execute(hot.kysely)).rows[0]?.n) > 0
    ) {
      if (Date.now() > deadline) fail('the migration did not finish within 180 s');
      await sleep(200);
    }
    trace('migrated');
    const ids = [...snapshot.keys()].sort(() => Math.random() - 0.5).slice(0, 40);
    for (const id of ids) {
      const d = await signedFetch(server.base, app, 'GET', `/api/v1/digests/${id}`);
      if (d.status !== 200) fail(`archived ${id} → ${d.status} ${d.text}`);
      const v = await signedFetch(server.base, app, 'POST', `/api/v1/digests/${id}/verify`);
      const report = JSON.parse(v.text) as { intact?: boolean; log?: { status?: string } };
      if (report.intact !== true || report.log?.status !== 'included')
        fail(`archived ${id} does not re-verify: ${v.text}`);
    }
    let listed = 0;
    const seen = new Set<string>();
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const page = await signedFetch(
        server.base,
        app,
        'GET',
        `/api/v1/digests?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      );
      const body = JSON.parse(page.text) as { items: { id: string }[]; nextCursor: string | null };
      for (const i of body.items) seen.add(i.id);
      listed += body.items.length;
      cursor = body.nextCursor;
    }
    if (listed !== records || seen.size !== records) fail(`the list shows ${listed} (${seen.size} distinct)`);
    await server.stop();
    await clearLease(hot, 'cold-migration');
    const final = await checkCold({
      hot,
      cold,
      snapshot,
      log,
      batch,
      final: true,
      resolved: rounds[rounds.length - 1]?.bothIds ?? new Set(),
    });
    if (final.cold !== records) fail(`${final.cold} cold of ${records}`);
    return {
      test: 'crash-lifecycle',
      scenario: 'hot→cold',
      hot: hotDialect,
      cold: coldDialect,
      ok: true,
      kills,
      records,
      batch,
      coldAfterEachKill: rounds.map((r) => r.cold),
      onBothSidesAfterEachKill: rounds.map((r) => r.both),
      verifiedThroughApi: ids.length,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await server?.kill9();
    await hot?.close();
    await cold?.close();
    await coldDb.remove();
    await ws.remove();
  }
}

// ── History migration ─────────────────────────────────────────────────────────────────────────────────────

interface TaskState {
  cursor: number;
  migrated: number;
  failed: number;
  status: string;
}

async function taskState(db: Db, id: string): Promise<TaskState> {
  const r = await sql<{ cursor: string | null; migrated: unknown; failed: unknown; status: string }>`
    select cursor, migrated, failed, status from history_tasks where id = ${id}`.execute(db.kysely);
  const t = r.rows[0];
  if (!t) fail(`task ${id} is gone`);
  return {
    cursor: t.cursor === null ? 0 : Number(t.cursor),
    migrated: count(t.migrated),
    failed: count(t.failed),
    status: t.status,
  };
}

async function checkHistory(options: {
  hot: Db;
  taskId: string;
  rows: number;
  bad: ReadonlySet<number>;
  batch: number;
  seen: Map<string, string>;
  leaves: string[];
  final: boolean;
}): Promise<TaskState> {
  const { hot, bad } = options;
  const t = await taskState(hot, options.taskId);
  const ev = await anyDb(hot)
    .selectFrom('evidence')
    .select(['id', 'serial_number', 'evidence_hash', 'log_index'])
    .execute();
  const bySerial = new Map<number, number>();
  for (const e of ev) {
    const m = /^HIS-(\d+)$/.exec(String(e.serial_number));
    if (!m) fail(`unexpected record ${String(e.serial_number)}`);
    const key = Number(m[1]);
    bySerial.set(key, (bySerial.get(key) ?? 0) + 1);
    const before = options.seen.get(String(e.id));
    if (before !== undefined && before !== e.evidence_hash) fail(`record ${String(e.id)} changed its hash`);
    options.seen.set(String(e.id), String(e.evidence_hash));
  }
  for (const id of options.seen.keys()) if (!ev.some((e) => e.id === id)) fail(`record ${id} vanished`);
  const failures = new Set(
    (
      await sql<{
        source_key: string;
      }>`select source_key from history_failures where task_id = ${options.taskId}`.execute(hot.kysely)
    ).rows.map((r) => Number(r.source_key)),
  );
  let upToCursor = 0;
  for (let key = 1; key <= options.rows; key++) {
    const n = bySerial.get(key) ?? 0;
    const f = failures.has(key);
    if (n > 1) fail(`source row ${key} migrated ${n} times`);
    if (n === 1 && f) fail(`source row ${key} is both a record and a failure`);
    if (key <= t.cursor) {
      upToCursor++;
      if (bad.has(key) ? !f : n !== 1) fail(`source row ${key} (≤ cursor ${t.cursor}) is not accounted for`);
    } else {
      if (f) fail(`source row ${key} failed after the cursor ${t.cursor}`);
      if (n === 1 && key > t.cursor + options.batch)
        fail(`source row ${key} migrated past the batch in flight`);
    }
  }
  if (t.migrated + t.failed !== upToCursor)
    fail(`task counts ${t.migrated} + ${t.failed} ≠ ${upToCursor} rows up to the cursor`);
  // The log: contiguous, one leaf per record, earlier leaves unchanged.
  const leaves = await anyDb(hot)
    .selectFrom('log_leaves')
    .select(['idx', 'leaf_hash'])
    .orderBy('idx')
    .execute();
  const next = count(
    (await sql<{ n: unknown }>`select next_index as n from log_state where id = 1`.execute(hot.kysely))
      .rows[0]?.n,
  );
  if (leaves.length !== ev.length || next !== ev.length)
    fail(`${leaves.length} leaves, next ${next}, ${ev.length} records`);
  leaves.forEach((l, i) => {
    if (count(l.idx) !== i) fail(`log leaf ${i} missing`);
    const hex = Buffer.from(l.leaf_hash as Uint8Array).toString('hex');
    if (i < options.leaves.length && options.leaves[i] !== hex) fail(`log leaf ${i} changed`);
    options.leaves[i] = hex;
  });
  if (options.final) {
    if (t.status !== 'completed') fail(`task ${t.status} at the end`);
    if (upToCursor !== options.rows || t.migrated + t.failed !== options.rows)
      fail('not every row accounted for');
  }
  return t;
}

async function historyCrash(
  dialect: HarnessDialect,
  kills: number,
  rows: number,
): Promise<Record<string, unknown>> {
  const started = Date.now();
  const ws = await createWorkspace(dialect);
  let server: ServerProcess | undefined;
  let hot: Db | undefined;
  const sourceFile = join(ws.dataDir, 'his-source.db');
  const batch = 10;
  try {
    const app = await provision(ws, 'P-HIS');
    hot = await openWorkspaceDb(ws);
    // The intermediate table: raw SM2 signatures by a test-PKI doctor; every 11th content altered, every 17th
    // without a serial number (kept aside with the reason).
    const pki = new TestPki({ seed: 'crash-lifecycle', now: new Date() });
    const leaf = pki.root().leaf({ subject: { CN: '医生乙' } });
    const src = await openDatabase({ dialect: 'sqlite', file: sourceFile });
    await sql`create table his_signatures (id integer primary key, serial_no varchar(64), sig_value text, signer_cert text, content text)`.execute(
      src.kysely,
    );
    const bad = new Set<number>();
    const enc = new TextEncoder();
    for (let i = 1; i <= rows; i++) {
      const content = enc.encode(`历史病历 ${i}：复诊记录`);
      const sig = Buffer.from(leaf.signer.sign(content)).toString('base64');
      const altered = i % 11 === 0;
      const noSerial = i % 17 === 0;
      if (altered || noSerial) bad.add(i);
      await sql`insert into his_signatures values (${i}, ${noSerial ? null : `HIS-${i}`}, ${sig}, ${leaf.pem}, ${Buffer.from(altered ? enc.encode('篡改') : content).toString('base64')})`.execute(
        src.kysely,
      );
    }
    await src.close();
    const { kek } = loadOrCreateKek(join(ws.dataDir, 'kek.key'));
    const fieldCrypto = await loadFieldCrypto({ db: hot.kysely, kek, now: Date.now() });
    const ctx = { db: hot.kysely, now: Date.now, actor: 'crash-test' };
    const source = await history.createSource({
      ctx,
      fieldCrypto,
      body: {
        name: 'HIS 中间表',
        url: `sqlite:${sourceFile}`,
        table: 'his_signatures',
        mapping: {
          key: 'id',
          keyType: 'integer',
          serialNumber: 'serial_no',
          defaultFormat: 'raw',
          signature: 'sig_value',
          certificate: 'signer_cert',
          original: 'content',
        },
      },
    });
    const task = await history.createTask({
      ctx,
      body: {
        sourceId: source.id,
        appId: app.appId,
        level: 'signature',
        rowsPerSecond: 100,
        batchSize: batch,
      },
      trustStore: false,
    });
    await everySecond(hot, 'history-migration');
    const port = await freePort();
    const seen = new Map<string, string>();
    const leaves: string[] = [];
    const cursors: number[] = [];
    const progress = async (): Promise<number> => (await taskState(hot!, task.id)).cursor;
    for (let k = 0; k < kills; k++) {
      server = await startServer(ws, port);
      await killDuring(server, progress, `history round ${k + 1}`);
      await clearLease(hot, 'history-migration');
      const t = await checkHistory({ hot, taskId: task.id, rows, bad, batch, seen, leaves, final: false });
      if (t.status === 'completed' || t.cursor >= rows)
        fail(`the migration ended before kill ${k + 1}: use more --rows`);
      cursors.push(t.cursor);
    }
    await sql`update history_tasks set rows_per_second = ${5000}, batch_size = ${100} where id = ${task.id}`.execute(
      hot.kysely,
    );
    server = await startServer(ws, port);
    const deadline = Date.now() + 180_000;
    while ((await taskState(hot, task.id)).status !== 'completed') {
      if (Date.now() > deadline) fail('the history migration did not finish within 180 s');
      await sleep(200);
    }
    await server.stop();
    const t = await checkHistory({ hot, taskId: task.id, rows, bad, batch, seen, leaves, final: true });
    return {
      test: 'crash-lifecycle',
      scenario: 'history',
      hot: dialect,
      source: 'sqlite',
      ok: true,
      kills,
      rows,
      batch,
      cursorAfterEachKill: cursors,
      migrated: t.migrated,
      failed: t.failed,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await server?.kill9();
    await hot?.close();
    await ws.remove();
  }
}

// ── Main ──────────────────────────────────────────────────────────────────────────────────────────────────

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: process.env.YIZHENG_CRASH_KILLS ?? '10' },
    cold: { type: 'string', default: 'postgres:sqlite,sqlite:mysql' },
    history: { type: 'string', default: 'sqlite' },
    records: { type: 'string' },
    rows: { type: 'string' },
  },
});
const kills = Number(values.kills);
const records = Number(values.records ?? String(300 + kills * 200));
const rows = Number(values.rows ?? String(100 + kills * 50));
const usage = (): never => {
  process.stderr.write(
    'usage: crash-lifecycle [--kills N] [--cold hot:cold,…] [--history sqlite,postgres|none] [--records N] [--rows N]\n',
  );
  process.exit(2);
};
if (![kills, records, rows].every((n) => Number.isInteger(n) && n >= 1)) usage();
const harness = (d: string): HarnessDialect => (d === 'sqlite' || d === 'postgres' ? d : usage());
const scenarios: { name: string; run: () => Promise<Record<string, unknown>> }[] = [];
for (const pair of values.cold === 'none' ? [] : values.cold.split(',')) {
  const [h, c] = pair.split(':');
  if (c !== 'sqlite' && c !== 'mysql' && c !== 'postgres') usage();
  const hotDialect = harness(h ?? '');
  const coldDialect = c as ColdDialect;
  if (coldDialect === hotDialect) usage();
  scenarios.push({ name: `hot→cold ${pair}`, run: () => coldCrash(hotDialect, coldDialect, kills, records) });
}
for (const d of values.history === 'none' ? [] : values.history.split(',')) {
  const dialect = harness(d);
  scenarios.push({ name: `history ${d}`, run: () => historyCrash(dialect, kills, rows) });
}
let failed = false;
for (const s of scenarios) {
  try {
    process.stdout.write(`${JSON.stringify(await s.run())}\n`);
  } catch (e) {
    failed = true;
    process.stdout.write(
      `${JSON.stringify({ test: 'crash-lifecycle', scenario: s.name, ok: false, error: (e as Error).message })}\n`,
    );
    if (!(e instanceof Violation)) process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  }
}
process.exit(failed ? 1 : 0);
