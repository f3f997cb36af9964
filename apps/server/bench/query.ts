/**
 * Query benchmark: 1,000,000 evidence records loaded straight into the database (bulk INSERTs of rows shaped as
 * the evidence service writes them: patient fields sealed and blind-indexed with the deployment's own field
 * keys), then multi-condition queries through the signed HTTP API (`GET /api/v1/signatures|digests?…`, the
 * server a child process), one client, each kind of query with random parameters. Reported: p50/p99 per kind
 * and overall; the target is p99 ≤ 50 ms on PostgreSQL and SQLite (the reference in the JSON line). `floorMs` is
 * a signed call that reads no evidence (`GET /api/v1/project`): what every request costs before the query.
 *
 * `serverCpuMs` is the server process's CPU time (user + system, from /proc) per request of each kind: unlike the
 * wall figures it does not grow with the machine's load. `--cpu-prof DIR` runs the server under `node --cpu-prof`
 * and leaves one .cpuprofile per dialect in DIR (written when the server stops).
 *
 *     npm run build && npm run bench:query -- [--records 1000000] [--queries 200] [--dialects postgres,sqlite]
 *       [--cpu-prof DIR]
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { loadFieldCrypto } from '../dist/crypto/field-crypto.js';
import { loadOrCreateKek } from '../dist/crypto/kek.js';
import { applications } from '@yizheng/server';
import {
  createWorkspace,
  freePort,
  openWorkspaceDb,
  percentile,
  provision,
  signedFetch,
  startServer,
  type HarnessDialect,
  type TestApplication,
} from '../scripts/harness.js';
import { seeded } from '../src/testing/seeded.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '200' },
    dialects: { type: 'string', default: 'postgres,sqlite' },
    'cpu-prof': { type: 'string' },
  },
});
const CPU_PROF = values['cpu-prof'];

/** CPU milliseconds (user + system) the process has used, or NaN where /proc is not readable. */
function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) in clock ticks; f[0] is field 3. Linux's USER_HZ is 100.
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}
const perRequest = (ms: number, n: number): number => Math.round((ms / n) * 100) / 100;
const RECORDS = Number(values.records);
const QUERIES = Number(values.queries);
const PATIENTS = Math.max(1, Math.floor(RECORDS / 20));
const DAY = 86_400_000;
const T_END = Date.UTC(2026, 10, 30);
const T_START = T_END - 365 * DAY;

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

const iso = (ms: number): string => new Date(ms).toISOString();
const pad = (n: number): string => String(n).padStart(7, '0');

/** Patient of record i, its time offset, application and kind: the same mapping in SQL and in the queries. */
const patientOf = (i: number): number => (i * 7919) % PATIENTS;

/**
 * Loads the records with one INSERT … SELECT over a generated series per 100,000 rows (the database generates
 * the rows; the client sends only the sealed patient table): rows shaped like the evidence service's, patient
 * fields sealed and blind-indexed with the deployment's field keys, received_at spread over a year.
 */
async function load(
  dialect: HarnessDialect,
  ws: Awaited<ReturnType<typeof createWorkspace>>,
  apps: { appId: string; projectId: string }[],
): Promise<void> {
  const db = await openWorkspaceDb(ws);
  const k = db.kysely;
  try {
    const { kek } = loadOrCreateKek(join(ws.dataDir, 'kek.key'));
    const fc = await loadFieldCrypto({ db: k, kek, now: Date.now() });
    const started = Date.now();
    await sql`CREATE TABLE bench_patients (p integer PRIMARY KEY, id_enc text, id_idx text, name_enc text, name_idx text)`.execute(
      k,
    );
    for (let p0 = 0; p0 < PATIENTS; p0 += 500) {
      const values = [];
      for (let p = p0; p < Math.min(PATIENTS, p0 + 500); p++) {
        const id = `PID${pad(p)}`;
        const name = `患者${p}`;
        values.push(
          sql`(${p}, ${fc.seal('patient_id', id)}, ${fc.blindIndex('patient_id', id)}, ${fc.seal('patient_name', name)}, ${fc.blindIndex('patient_name', name)})`,
        );
      }
      await sql`INSERT INTO bench_patients (p, id_enc, id_idx, name_enc, name_idx) VALUES ${sql.join(values)}`.execute(
        k,
      );
    }
    const pg = dialect === 'postgres';
    const hex32 = pg
      ? sql.raw(`md5(random()::text) || md5(random()::text)`)
      : sql.raw(`lower(hex(randomblob(32)))`);
    const id12 = pg ? sql.raw(`substr(md5(random()::text), 1, 24)`) : sql.raw(`lower(hex(randomblob(12)))`);
    const year = 365 * DAY;
    const STEP = 100_000;
    for (let lo = 0; lo < RECORDS; lo += STEP) {
      const hi = Math.min(RECORDS, lo + STEP) - 1;
      const series = pg
        ? sql`SELECT g AS i FROM generate_series(${sql.lit(lo)}::bigint, ${sql.lit(hi)}::bigint) AS g`
        : sql`WITH RECURSIVE s(i) AS (SELECT ${sql.lit(lo)} UNION ALL SELECT i + 1 FROM s WHERE i < ${sql.lit(hi)}) SELECT i FROM s`;
      const at = (shift: number) =>
        pg
          ? sql`to_char(timestamp '1970-01-01' + ((${sql.lit(T_START - shift)} + (s.i * 2654435761) % ${sql.lit(year)}) * interval '1 millisecond'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
          : sql`strftime('%Y-%m-%dT%H:%M:%fZ', (${sql.lit(T_START - shift)} + (s.i * 2654435761) % ${sql.lit(year)}) / 1000.0, 'unixepoch')`;
      const serial = pg ? sql`'SN-' || lpad(s.i::text, 7, '0')` : sql`printf('SN-%07d', s.i)`;
      const isSig = sql`(s.i % 10) < 7`;
      const text = (v: string) => sql.lit(v);
      await sql`
        INSERT INTO evidence (id, kind, project_id, app_id, serial_number, business_type, source_system,
          department_code, department_name, patient_id_enc, patient_id_idx, patient_name_enc, patient_name_idx,
          visit_number, signer, category, signature_format, original_sm3, original_size, digest_algorithm,
          digest_value, signature_sm3, certificates_sm3, timestamp_sm3, file_sm3, file_size, file_name,
          content_type, file_storage, signed_at, received_at, tags, metadata, verification, dedupe_key,
          idempotency_key, evidence_hash, log_index)
        SELECT
          CASE WHEN ${isSig} THEN 'sig_' ELSE 'dig_' END || ${id12},
          CASE WHEN ${isSig} THEN 'signature' ELSE 'digest' END,
          ${text(apps[0]!.projectId)},
          CASE WHEN s.i % 2 = 0 THEN ${text(apps[0]!.appId)} ELSE ${text(apps[1 % apps.length]!.appId)} END,
          ${serial},
          CASE WHEN ${isSig} THEN '门诊病历' ELSE '检验报告' END,
          'HIS', 'D' || (s.i % 40), '心内科',
          p.id_enc, p.id_idx, p.name_enc, p.name_idx,
          'V' || s.i,
          CASE WHEN ${isSig} THEN '医生张三' END,
          CASE WHEN ${isSig} THEN NULL ELSE 'lab' END,
          CASE WHEN ${isSig} THEN 'cms' END,
          CASE WHEN ${isSig} THEN ${hex32} END,
          CASE WHEN ${isSig} THEN 512 END,
          CASE WHEN ${isSig} THEN NULL ELSE 'sm3' END,
          CASE WHEN ${isSig} THEN NULL ELSE ${hex32} END,
          CASE WHEN ${isSig} THEN ${hex32} END,
          CASE WHEN ${isSig} THEN ${hex32} END,
          NULL, NULL, NULL, NULL, NULL, NULL,
          ${at(1_000)}, ${at(0)}, '[]', '{}', '{}', ${hex32}, NULL, ${hex32}, s.i
        FROM (${series}) AS s JOIN bench_patients p ON p.p = (s.i * 7919) % ${sql.lit(PATIENTS)}
      `.execute(k);
      log(`  ${hi + 1} rows (${Math.round((Date.now() - started) / 1000)} s)`);
    }
    await sql`DROP TABLE bench_patients`.execute(k);
    if (pg) await sql`ANALYZE evidence`.execute(k);
    else await sql`ANALYZE`.execute(k);
    log(`loaded ${RECORDS} records in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    await db.close();
  }
}

/** Received-at of record i (as generated in SQL above). */
const receivedAtOf = (i: number): number => T_START + ((i * 2654435761) % (365 * DAY));

interface QueryKind {
  name: string;
  url(rnd: () => number): string;
}

function kinds(apps: { appId: string }[]): QueryKind[] {
  const day = (rnd: () => number): number => T_START + Math.floor(rnd() * 360) * DAY;
  const q = (path: string, params: Record<string, string>): string =>
    `/api/v1/${path}?${new URLSearchParams(params).toString()}`;
  return [
    {
      name: 'app+time(1 day)',
      url: (rnd) => {
        const from = day(rnd);
        return q('signatures', { appId: apps[0]!.appId, from: iso(from), to: iso(from + DAY), limit: '50' });
      },
    },
    {
      name: 'patient+time(90 days)',
      url: (rnd) => {
        const i = Math.floor(rnd() * RECORDS);
        const from = receivedAtOf(i) - 45 * DAY;
        return q('signatures', {
          patientId: `PID${pad(patientOf(i))}`,
          from: iso(from),
          to: iso(from + 90 * DAY),
        });
      },
    },
    {
      name: 'patient name',
      url: (rnd) => q('digests', { patientName: `患者${Math.floor(rnd() * PATIENTS)}` }),
    },
    {
      name: 'serial number',
      url: (rnd) => q('signatures', { serialNumber: `SN-${pad(Math.floor(rnd() * RECORDS))}` }),
    },
    {
      name: 'app+serial+time',
      url: (rnd) =>
        q('digests', {
          appId: apps[1 % apps.length]!.appId,
          serialNumber: `SN-${pad(Math.floor(rnd() * RECORDS))}`,
          from: iso(T_START),
          to: iso(T_END),
        }),
    },
    {
      name: 'project time(1 hour)',
      url: (rnd) => {
        const from = day(rnd) + Math.floor(rnd() * 23) * 3_600_000;
        return q('signatures', { from: iso(from), to: iso(from + 3_600_000), limit: '100' });
      },
    },
  ];
}

async function runDialect(dialect: HarnessDialect): Promise<Record<string, unknown>> {
  const ws = await createWorkspace(dialect);
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const app: TestApplication = await provision(ws, 'P-QUERY');
    // A second application in the same project (queries filter by application within the project).
    const db = await openWorkspaceDb(ws);
    let apps: { appId: string; projectId: string }[];
    try {
      const ctx = { db: db.kysely, now: () => Date.now(), actor: 'bench' };
      await applications.createApplication({ ctx, project: 'P-QUERY', name: 'LIS', vendor: 'bench' });
      const rows = await db.kysely
        .selectFrom('applications')
        .select(['id', 'project_id'])
        .orderBy('id')
        .execute();
      apps = rows.map((r) => ({ appId: r.id, projectId: r.project_id }));
    } finally {
      await db.close();
    }
    log(`[${dialect}] loading ${RECORDS} records…`);
    await load(dialect, ws, apps);
    server = await startServer(
      ws,
      await freePort(),
      {},
      CPU_PROF === undefined
        ? []
        : [
            '--cpu-prof',
            `--cpu-prof-dir=${resolve(CPU_PROF)}`,
            `--cpu-prof-name=query-${dialect}.cpuprofile`,
          ],
    );
    const pid = server.child.pid;
    const rnd = seeded(7);
    const perKind: Record<string, { p50: number; p99: number; rows: number; serverCpuMs: number }> = {};
    const all: number[] = [];
    for (const kind of kinds(apps)) {
      const times: number[] = [];
      let rows = 0;
      let cpu0 = 0;
      for (let i = 0; i < QUERIES + 10; i++) {
        if (i === 10) cpu0 = cpuMsOf(pid);
        const url = kind.url(rnd);
        const t0 = performance.now();
        const r = await signedFetch(server.base, app, 'GET', url);
        const ms = performance.now() - t0;
        if (r.status !== 200) throw new Error(`${url} → ${r.status} ${r.text.slice(0, 300)}`);
        if (i < 10) continue; // warm-up
        rows += (JSON.parse(r.text) as { items: unknown[] }).items.length;
        times.push(ms);
      }
      const serverCpuMs = perRequest(cpuMsOf(pid) - cpu0, QUERIES);
      times.sort((a, b) => a - b);
      all.push(...times);
      perKind[kind.name] = {
        p50: Math.round(percentile(times, 50) * 10) / 10,
        p99: Math.round(percentile(times, 99) * 10) / 10,
        rows: Math.round((rows / QUERIES) * 10) / 10,
        serverCpuMs,
      };
      log(`[${dialect}] ${kind.name}: ${JSON.stringify(perKind[kind.name])}`);
    }
    all.sort((a, b) => a - b);
    const p99 = Math.round(percentile(all, 99) * 10) / 10;
    // The floor: a signed call that queries no evidence (same auth, nonce write and API log as every query).
    const floor: number[] = [];
    let floorCpu0 = 0;
    for (let i = 0; i < QUERIES + 10; i++) {
      if (i === 10) floorCpu0 = cpuMsOf(pid);
      const t0 = performance.now();
      const r = await signedFetch(server.base, app, 'GET', '/api/v1/project');
      if (r.status !== 200) throw new Error(`GET /api/v1/project → ${r.status}`);
      if (i >= 10) floor.push(performance.now() - t0);
    }
    const floorServerCpuMs = perRequest(cpuMsOf(pid) - floorCpu0, QUERIES);
    floor.sort((a, b) => a - b);
    const floorMs = {
      p50: Math.round(percentile(floor, 50) * 10) / 10,
      p99: Math.round(percentile(floor, 99) * 10) / 10,
      serverCpuMs: floorServerCpuMs,
    };
    log(`[${dialect}] floor (signed GET /api/v1/project): ${JSON.stringify(floorMs)}`);
    return {
      bench: `query.${dialect}`,
      ours: p99,
      reference: 50,
      ratio: Math.round((p99 / 50) * 1000) / 1000,
      unit: 'p99 ms of multi-condition queries over HTTP (reference: the 50 ms target)',
      p50Ms: Math.round(percentile(all, 50) * 10) / 10,
      floorMs,
      records: RECORDS,
      queriesPerKind: QUERIES,
      kinds: perKind,
    };
  } finally {
    await server?.stop();
    await ws.remove();
  }
}

for (const d of values.dialects.split(',')) {
  if (d !== 'postgres' && d !== 'sqlite') throw new Error(`unknown dialect ${d}`);
  process.stdout.write(`${JSON.stringify(await runDialect(d))}\n`);
}
