/**
 * Console benchmark (issue 6, Speed) on PostgreSQL: `stats_daily` loaded with 10 million records' worth of daily
 * counts (projects × applications × 4 kinds × 3 years of days, plus older days) and its monthly / yearly rollups
 * (`stats_monthly`, `stats_yearly`, as the write path keeps them), 1,000,000 evidence rows by default for the search
 * (bulk INSERT … SELECT over generate_series), then, over loopback HTTP with an operator's console session:
 * p99 of `GET /api/admin/v1/stats` (random project / application / kind filters, and the whole scope) and of the
 * admin evidence search `GET /api/admin/v1/evidence/:kind` (serial number, application + day, one hour); and the
 * first console load (index.html and every asset it names). Targets: p99 ≤ 100 ms, first load ≤ 2 s.
 *
 *     npm run build -w @yizheng/web && npm run bench:console -- [--records 10000000] [--evidence 1000000]
 *       [--projects 20] [--apps 5] [--queries 200]
 *
 * YIZHENG_TEST_PG_URL names the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres); a
 * scratch database is created and dropped.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { build } from '../src/app.js';
import { migrateToLatest, openDatabase } from '../src/db/connect.js';
import { signChallenge, makeCa, makeUserCert, seedUser, clockWithin } from '../src/modules/admin/testing.js';
import { createApplication } from '../src/modules/applications/service.js';
import { createProject } from '../src/modules/projects/service.js';
import { tempDir, testConfig } from '../src/testing/app.js';
import { createTestDatabase } from '../src/testing/databases.js';
import { percentile } from '../scripts/harness.js';
import { seeded } from '../src/testing/seeded.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000000' },
    evidence: { type: 'string', default: '1000000' },
    projects: { type: 'string', default: '20' },
    apps: { type: 'string', default: '5' },
    queries: { type: 'string', default: '200' },
  },
});
const RECORDS = Number(values.records);
const EVIDENCE = Number(values.evidence);
const PROJECTS = Number(values.projects);
const APPS = Number(values.apps);
const QUERIES = Number(values.queries);
const DAYS = 4 * 365; // three full years in the series and one before
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};
process.env.YIZHENG_TEST_PG_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';

const round = (n: number): number => Math.round(n * 10) / 10;

const tmp = tempDir('yz-bench-console-');
const tdb = await createTestDatabase('postgres');
const db = await openDatabase(tdb.config);
let app: Awaited<ReturnType<typeof build>> | undefined;
try {
  await migrateToLatest(db.kysely);
  const ca = makeCa(tmp.dir);
  const op = makeUserCert(tmp.dir, ca, 'operator1', 7);
  const now = clockWithin(op.certPem);
  const ctx = { db: db.kysely, now: () => now, actor: 'bench' };
  const projects: string[] = [];
  const apps: { id: string; project: string }[] = [];
  for (let p = 0; p < PROJECTS; p++) {
    const number = `B-${String(p).padStart(3, '0')}`;
    const id = (await createProject({ ctx, number, name: `科室 ${p}` })).id;
    projects.push(id);
    for (let a = 0; a < APPS; a++) {
      const c = await createApplication({ ctx, project: number, name: `系统 ${a}` });
      apps.push({ id: c.application.id, project: id });
    }
  }
  await seedUser(db, now, {
    username: 'operator1',
    roles: ['operator'],
    certificate: op.certPem,
    projects,
  });

  // stats_daily: one row per application × kind × day; the counts sum to RECORDS.
  const t0 = Date.now();
  const rowsPerApp = 4 * DAYS;
  const totalRows = apps.length * rowsPerApp;
  const perRow = Math.max(1, Math.floor(RECORDS / totalRows));
  const appValues = sql.join(apps.map((a) => sql`(${a.project}, ${a.id})`));
  await sql`
    INSERT INTO stats_daily (project_id, app_id, kind, day, count)
    SELECT a.p, a.a, k.kind, to_char(date '2026-12-31' - d.n, 'YYYY-MM-DD'), ${sql.lit(perRow)} + (d.n * 7 + length(a.a)) % 5 - 2
    FROM (VALUES ${appValues}) AS a(p, a)
    CROSS JOIN (VALUES ('signature'), ('digest'), ('file'), ('api_call')) AS k(kind)
    CROSS JOIN generate_series(0, ${sql.lit(DAYS - 1)}) AS d(n)
  `.execute(db.kysely);
  // The rollups as the write path keeps them (the daily rows summed by month and by year).
  for (const [table, column, width] of [
    ['stats_monthly', 'month', 7],
    ['stats_yearly', 'year', 4],
  ] as const) {
    await sql`
      INSERT INTO ${sql.table(table)} (project_id, app_id, kind, ${sql.ref(column)}, count)
      SELECT project_id, app_id, kind, substr(day, 1, ${sql.lit(width)}), sum(count)
      FROM stats_daily GROUP BY project_id, app_id, kind, substr(day, 1, ${sql.lit(width)})
    `.execute(db.kysely);
  }
  await sql`ANALYZE stats_daily`.execute(db.kysely);
  await sql`ANALYZE stats_monthly`.execute(db.kysely);
  await sql`ANALYZE stats_yearly`.execute(db.kysely);
  log(
    `stats_daily: ${totalRows} rows (≈${perRow} records each) in ${Math.round((Date.now() - t0) / 1000)} s`,
  );

  // Evidence for the search: spread over the projects' applications and a year, serial numbers SN-0000000….
  const t1 = Date.now();
  const STEP = 200_000;
  const appArray = sql.lit(`{${apps.map((a) => a.id).join(',')}}`);
  const projArray = sql.lit(`{${apps.map((a) => a.project).join(',')}}`);
  const year = 365 * 86_400_000;
  const start = Date.UTC(2025, 11, 1);
  for (let lo = 0; lo < EVIDENCE; lo += STEP) {
    const hi = Math.min(EVIDENCE, lo + STEP) - 1;
    const at = sql`to_char(timestamp '1970-01-01' + ((${sql.lit(start)} + (g * 2654435761) % ${sql.lit(year)}) * interval '1 millisecond'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    await sql`
      INSERT INTO evidence (id, kind, project_id, app_id, serial_number, received_at, signed_at, tags, metadata,
        verification, dedupe_key, evidence_hash, log_index, digest_algorithm, digest_value, business_type)
      SELECT 'sig_' || lpad(g::text, 24, '0'), 'signature',
        (${projArray}::text[])[1 + g % ${sql.lit(apps.length)}], (${appArray}::text[])[1 + g % ${sql.lit(apps.length)}],
        'SN-' || lpad(g::text, 7, '0'), ${at}, ${at}, '[]', '{}', '{}', md5(g::text), md5(g::text) || md5(g::text), g,
        NULL, NULL, '门诊病历'
      FROM generate_series(${sql.lit(lo)}::bigint, ${sql.lit(hi)}::bigint) AS g
    `.execute(db.kysely);
    log(`  evidence ${hi + 1} rows (${Math.round((Date.now() - t1) / 1000)} s)`);
  }
  await sql`ANALYZE evidence`.execute(db.kysely);

  const trust = join(tmp.dir, 'trust.pem');
  writeFileSync(trust, ca.certPem);
  app = await build(
    { ...testConfig(tdb.config, tmp.dir), consoleTrustFile: trust },
    { logger: false, jobs: false, now: () => now, db },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  const base = `http://127.0.0.1:${addr.port}`;

  // First console load: index.html, then every script and stylesheet it names, in parallel as a browser does.
  const loadTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    const html = await (await fetch(`${base}/console/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]!);
    if (assets.length === 0) throw new Error('the console is not built: npm run build -w @yizheng/web');
    await Promise.all(assets.map(async (u) => (await fetch(`${base}${u}`)).arrayBuffer()));
    loadTimes.push(performance.now() - s);
  }
  const firstLoad = round(loadTimes[0]!);

  // The operator's console session (certificate login, as the browser does).
  const ch = (await (await fetch(`${base}/api/admin/v1/auth/challenge`, { method: 'POST' })).json()) as {
    challengeId: string;
    toSign: string;
  };
  const login = await fetch(`${base}/api/admin/v1/auth/login/certificate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      username: 'operator1',
      challengeId: ch.challengeId,
      signature: signChallenge(op.keyPem, ch.toSign),
    }),
  });
  if (login.status !== 200) throw new Error(`login → ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const get = async (url: string): Promise<number> => {
    const s = performance.now();
    const r = await fetch(`${base}/api/admin/v1${url}`, { headers: { cookie } });
    const text = await r.text();
    const ms = performance.now() - s;
    if (r.status !== 200) throw new Error(`${url} → ${r.status} ${text.slice(0, 300)}`);
    return ms;
  };
  const rnd = seeded(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const kinds = ['signature', 'digest', 'file', 'api_call'];
  const measure = async (name: string, url: () => string): Promise<{ p50: number; p99: number }> => {
    const times: number[] = [];
    for (let i = 0; i < QUERIES + 10; i++) {
      const ms = await get(url());
      if (i >= 10) times.push(ms);
    }
    times.sort((a, b) => a - b);
    const r = { p50: round(percentile(times, 50)), p99: round(percentile(times, 99)) };
    log(`${name}: ${JSON.stringify(r)}`);
    return r;
  };
  const statsKinds = {
    project: await measure('stats project', () => `/stats?project=${pick(projects)}`),
    app: await measure('stats app', () => `/stats?app=${pick(apps).id}`),
    'project+kind': await measure(
      'stats project+kind',
      () => `/stats?project=${pick(projects)}&kind=${pick(kinds)}`,
    ),
    scope: await measure('stats whole scope', () => '/stats'),
  };
  const iso = (ms: number): string => new Date(ms).toISOString();
  const searchKinds = {
    serial: await measure('evidence serial', () => {
      const g = Math.floor(rnd() * EVIDENCE);
      return `/evidence/signature?project=${apps[g % apps.length]!.project}&serialNumber=SN-${String(g).padStart(7, '0')}`;
    }),
    'app+day': await measure('evidence app+day', () => {
      const a = pick(apps);
      const from = start + Math.floor(rnd() * 360) * 86_400_000;
      return `/evidence/signature?project=${a.project}&appId=${a.id}&from=${iso(from)}&to=${iso(from + 86_400_000)}&limit=50`;
    }),
    'project+hour': await measure('evidence project+hour', () => {
      const from = start + Math.floor(rnd() * 360 * 24) * 3_600_000;
      return `/evidence/signature?project=${pick(projects)}&from=${iso(from)}&to=${iso(from + 3_600_000)}&limit=50`;
    }),
  };
  const p99 = (o: Record<string, { p99: number }>): number => Math.max(...Object.values(o).map((v) => v.p99));
  const line = (bench: string, ours: number, reference: number, extra: Record<string, unknown>) =>
    `${JSON.stringify({ bench, ours, reference, ratio: Math.round((ours / reference) * 1000) / 1000, ...extra })}\n`;
  process.stdout.write(
    line('console.stats.postgres', p99(statsKinds), 100, {
      unit: 'p99 ms of GET /api/admin/v1/stats over HTTP (worst filter kind; reference: the 100 ms target)',
      records: RECORDS,
      statsRows: totalRows,
      projects: PROJECTS,
      appsPerProject: APPS,
      kinds: statsKinds,
    }),
  );
  process.stdout.write(
    line('console.evidence-search.postgres', p99(searchKinds), 100, {
      unit: 'p99 ms of GET /api/admin/v1/evidence/signature over HTTP (worst query kind; reference: 100 ms)',
      evidence: EVIDENCE,
      kinds: searchKinds,
    }),
  );
  process.stdout.write(
    line('console.first-load', firstLoad, 2000, {
      unit: 'ms for index.html and all its assets over loopback, first of 5 (reference: the 2 s target)',
      allMs: loadTimes.map(round),
    }),
  );
} finally {
  await app?.close();
  await db.close().catch(() => undefined);
  await tdb.drop();
  tmp.remove();
}
