/**
 * Statistics (统计, seed §2.4) end to end on every available database: evidence and API calls pushed through the
 * signed API at chosen instants feed `stats_daily` in the write path; the totals and the day / month / year series
 * by project and application; the Asia/Shanghai day boundary; rebuild from the evidence and API-log tables
 * equals the incremental counts; the console route with the operator's project scope; project deletion.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sm2, sm3, toHex, type Sm2PrivateKey } from '@yizheng/gm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigrator, migrateToLatest, openDatabase, type Db } from '../db/connect.js';
import { MIGRATIONS } from '../db/migrations/index.js';
import {
  certificateLogin,
  clientOf,
  clockWithin,
  makeCa,
  makeUserCert,
  seedUser,
  type ConsoleClient,
} from '../modules/admin/testing.js';
import { createApplication } from '../modules/applications/service.js';
import { makePki, type Pki } from '../modules/evidence/fixtures.test-support.js';
import { createProject, deleteProject } from '../modules/projects/service.js';
import { eventually, signWithGm, tempDir, testApp, testConfig } from '../testing/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../testing/databases.js';
import { statsView } from './query.js';
import { rebuildStats, shanghaiDay } from './repo.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** 2026-12-15 12:00 in Shanghai. */
const VIEW = Date.UTC(2026, 11, 15, 4, 0);
/** 2026-12-14 23:59:59.999 in Shanghai (15:59:59.999 UTC). */
const LAST_MS_OF_14 = Date.UTC(2026, 11, 14, 15, 59, 59, 999);
/** 2026-12-15 00:00 in Shanghai (still the 14th in UTC). */
const FIRST_MS_OF_15 = Date.UTC(2026, 11, 14, 16, 0, 0, 0);

interface Client {
  appId: string;
  key: Sm2PrivateKey;
}

let pki: Pki;
beforeAll(() => {
  pki = makePki();
}, 60_000);

it('shanghaiDay is UTC+8', () => {
  expect(shanghaiDay(LAST_MS_OF_14)).toBe('2026-12-14');
  expect(shanghaiDay(FIRST_MS_OF_15)).toBe('2026-12-15');
  expect(shanghaiDay('2026-12-31T16:00:00.000Z')).toBe('2027-01-01');
});

describe.each(testDialects())('statistics on %s', (dialect) => {
  const tmp = tempDir('yz-stats-');
  let tdb: TestDatabase;
  let db: Db;
  let app: FastifyInstance;
  let clock = VIEW;
  let live: number;
  let a: Client; // project A
  let a2: Client; // project A, second application
  let b: Client; // project B
  let projectA: string;
  let projectB: string;
  let operator: ConsoleClient;
  const ctx = () => ({ db: app.db, now: () => clock, actor: 'test' });

  beforeAll(async () => {
    const ca = makeCa(tmp.dir);
    const opId = makeUserCert(tmp.dir, ca, 'operator1', 21);
    live = clockWithin(opId.certPem);
    tdb = await createTestDatabase(dialect);
    db = await openDatabase(tdb.config);
    await migrateToLatest(db.kysely);
    const trustFile = join(tmp.dir, 'trust.pem');
    writeFileSync(trustFile, ca.certPem);
    app = await testApp(testConfig(tdb.config, tmp.dir, { consoleTrustFile: trustFile }), {
      db,
      now: () => clock,
    });
    projectA = (await createProject({ ctx: ctx(), number: 'S-A', name: '心内科' })).id;
    projectB = (await createProject({ ctx: ctx(), number: 'S-B', name: '急诊' })).id;
    const mk = async (project: string, name: string): Promise<Client> => {
      const c = await createApplication({ ctx: ctx(), project, name });
      return { appId: c.application.id, key: sm2.importPrivateKey(c.privateKeyPem!) };
    };
    a = await mk('S-A', 'EMR');
    a2 = await mk('S-A', 'HIS');
    b = await mk('S-B', 'LIS');
    await seedUser(db, live, {
      username: 'operator1',
      roles: ['operator'],
      certificate: opId.certPem,
      projects: [projectA],
    });
    clock = live;
    operator = clientOf(app, await certificateLogin(app, 'operator1', opId.keyPem));
  }, 120_000);
  afterAll(async () => {
    await app.close();
    await db.close();
    await tdb.drop();
    tmp.remove();
  });

  const apiLogCount = async () =>
    Number(
      (
        await db.kysely
          .selectFrom('api_logs')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  let calls = 0;
  const call = async (c: Client, at: number, url: string, body: unknown) => {
    clock = at;
    const text = JSON.stringify(body);
    const res = await app.inject({
      method: 'POST',
      url,
      headers: {
        ...signWithGm(c.key, { method: 'POST', url, appId: c.appId, timestamp: at, body: text }),
        'content-type': 'application/json',
      },
      payload: text,
    });
    // The API log takes its time from the clock after the response: let it write before the clock moves on.
    calls++;
    await eventually(async () => (await apiLogCount()) === calls);
    return { status: res.statusCode, json: (): Json => res.json() };
  };
  let n = 0;
  const digest = async (c: Client, at: number) => {
    n++;
    const r = await call(c, at, '/api/v1/digests', {
      serialNumber: `D-${n}`,
      algorithm: 'sm3',
      value: toHex(sm3(utf8(`病历 ${n}`))),
    });
    expect(r.status).toBe(201);
  };
  it('counts evidence by day, month, year, project and application, with the Shanghai day boundary', async () => {
    await digest(a, LAST_MS_OF_14);
    await digest(a, FIRST_MS_OF_15);
    await digest(a, FIRST_MS_OF_15 + 3600_000);
    await digest(a2, VIEW);
    await digest(a, Date.UTC(2026, 9, 20, 2)); // October 2026
    await digest(a, Date.UTC(2026, 8, 1, 2)); // September 2026: outside the last 3 months
    await digest(a, Date.UTC(2025, 5, 1, 2)); // 2025
    await digest(a, Date.UTC(2022, 5, 1, 2)); // before the 3-year window
    await digest(b, VIEW);
    // A duplicate (same evidence again) is not counted twice.
    clock = VIEW;
    const dup = await call(a2, VIEW, '/api/v1/digests', {
      serialNumber: 'D-4',
      algorithm: 'sm3',
      value: toHex(sm3(utf8('病历 4'))),
    });
    expect(dup.status).toBe(200);

    const v = await statsView({ db: db.kysely, now: VIEW, projects: [projectA], kind: 'digest' });
    expect(v.today).toBe('2026-12-15');
    expect(v.kinds).toEqual(['digest']);
    expect(v.totals.digest).toEqual({ all: 8, last3Months: 5, month: 4, today: 3 });
    const day = (d: string) => v.days.find((p) => p.period === d)?.counts.digest;
    expect(v.days).toHaveLength(30);
    expect(v.days[29]!.period).toBe('2026-12-15');
    expect(v.days[0]!.period).toBe('2026-11-16');
    expect(day('2026-12-15')).toBe(3);
    expect(day('2026-12-14')).toBe(1);
    expect(v.months.map((m) => m.period)).toEqual([
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
      '2026-11',
      '2026-12',
    ]);
    expect(v.months.map((m) => m.counts.digest)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 4]);
    expect(v.years).toEqual([
      { period: '2024', counts: { digest: 0 } },
      { period: '2025', counts: { digest: 1 } },
      { period: '2026', counts: { digest: 6 } },
    ]);
    // By application; by project B; all projects.
    const byApp = await statsView({ db: db.kysely, now: VIEW, app: a2.appId });
    expect(byApp.totals.digest).toEqual({ all: 1, last3Months: 1, month: 1, today: 1 });
    expect(byApp.totals.signature).toEqual({ all: 0, last3Months: 0, month: 0, today: 0 });
    const pb = await statsView({ db: db.kysely, now: VIEW, projects: [projectB] });
    expect(pb.totals.digest!.all).toBe(1);
    expect((await statsView({ db: db.kysely, now: VIEW })).totals.digest!.all).toBe(9);
    expect((await statsView({ db: db.kysely, now: VIEW, projects: [] })).totals.digest!.all).toBe(0);
    // At the last millisecond of the 14th, "today" is the 14th.
    const before = await statsView({ db: db.kysely, now: LAST_MS_OF_14, projects: [projectA] });
    expect(before.totals.digest!.today).toBe(1);
  });

  it('counts signature data, files and API calls', async () => {
    const r = await call(a, live, '/api/v1/signatures', {
      serialNumber: 'SN-1',
      signature: { format: 'raw', value: b64(pki.sm2Raw(utf8('入院记录'))), certificate: pki.sm2CertPem },
      original: b64(utf8('入院记录')),
    });
    expect(r.status).toBe(201);
    const rejected = await call(a, live, '/api/v1/digests', {
      serialNumber: 'X',
      algorithm: 'sha512',
      value: '00',
    });
    expect(rejected.status).toBe(400);
    // Every call is an API call: 9 digest pushes, the duplicate, the signature and the rejected push (11 in A).
    // Counted by the API-log writer after the response: wait for all 12 entries and their counts.
    const counted = async () => (await statsView({ db: db.kysely, now: live })).totals.api_call!.all;
    await eventually(async () => (await apiLogCount()) === 12 && (await counted()) === 12);
    const v = await statsView({ db: db.kysely, now: live, projects: [projectA] });
    expect(v.totals.signature!.all).toBe(1);
    expect(v.totals.signature!.today).toBe(1);
    expect(v.totals.api_call!.all).toBe(11);
    expect((await statsView({ db: db.kysely, now: live, app: b.appId })).totals.api_call!.all).toBe(1);
    const day = await statsView({ db: db.kysely, now: VIEW, app: a.appId, kind: 'api_call' });
    // By Shanghai day: the 14th once, the 15th twice (plus the two calls made at the live clock, on its day).
    const extra = (d: string) => (shanghaiDay(live) === d ? 2 : 0);
    expect(day.totals.api_call!.all).toBe(9);
    expect(day.days.find((p) => p.period === '2026-12-14')!.counts.api_call).toBe(1 + extra('2026-12-14'));
    expect(day.days.find((p) => p.period === '2026-12-15')!.counts.api_call).toBe(2 + extra('2026-12-15'));
  });

  it('rebuild from the evidence and API-log tables equals the incremental counts, rollups included', async () => {
    const rows = async () => {
      const daily = await db.kysely
        .selectFrom('stats_daily')
        .selectAll()
        .orderBy('project_id')
        .orderBy('app_id')
        .orderBy('kind')
        .orderBy('day')
        .execute();
      const monthly = await db.kysely
        .selectFrom('stats_monthly')
        .selectAll()
        .orderBy('project_id')
        .orderBy('app_id')
        .orderBy('kind')
        .orderBy('month')
        .execute();
      const yearly = await db.kysely
        .selectFrom('stats_yearly')
        .selectAll()
        .orderBy('project_id')
        .orderBy('app_id')
        .orderBy('kind')
        .orderBy('year')
        .execute();
      const num = <T extends { count: unknown }>(r: T[]) => r.map((x) => ({ ...x, count: Number(x.count) }));
      return { daily: num(daily), monthly: num(monthly), yearly: num(yearly) };
    };
    const incremental = await rows();
    expect(incremental.daily.length).toBeGreaterThan(5);
    // The rollups kept in the write transaction equal the daily rows summed by month and by year.
    const sumBy = (width: number, col: 'month' | 'year') => {
      const m = new Map<string, Record<string, unknown>>();
      for (const d of incremental.daily) {
        const period = d.day.slice(0, width);
        const key = [d.project_id, d.app_id, d.kind, period].join('|');
        const e = m.get(key) ?? {
          project_id: d.project_id,
          app_id: d.app_id,
          kind: d.kind,
          [col]: period,
          count: 0,
        };
        e.count = (e.count as number) + d.count;
        m.set(key, e);
      }
      return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, e]) => e);
    };
    expect(incremental.monthly).toEqual(sumBy(7, 'month'));
    expect(incremental.yearly).toEqual(sumBy(4, 'year'));
    expect(incremental.yearly.length).toBeGreaterThan(1); // records in two years
    await db.kysely.deleteFrom('stats_daily').execute();
    await db.kysely.deleteFrom('stats_monthly').execute();
    await db.kysely.deleteFrom('stats_yearly').execute();
    const r = await rebuildStats(db.kysely);
    expect(r.rows).toBe(incremental.daily.length);
    expect(await rows()).toEqual(incremental);
  });

  it('GET /stats: the operator sees the assigned project; other projects are refused', async () => {
    clock = live;
    const res = await operator.request('GET', '/stats?project=S-A');
    expect(res.statusCode).toBe(200);
    const v = res.json();
    expect(v.totals.digest.all).toBe(8);
    expect(v.totals.signature.all).toBe(1);
    expect(v.days).toHaveLength(30);
    expect(v.months).toHaveLength(12);
    expect(v.years).toHaveLength(3);
    const scoped = (await operator.request('GET', '/stats')).json();
    expect(scoped.totals.digest.all).toBe(8); // project B is not in the operator's scope
    const one = (await operator.request('GET', `/stats?app=${a2.appId}&kind=digest`)).json();
    expect(one.kinds).toEqual(['digest']);
    expect(one.totals.digest.all).toBe(1);
    const codeOf = async (url: string) => (await operator.request('GET', url)).json<{ code: string }>().code;
    expect(await codeOf('/stats?project=S-B')).toBe('ADMIN_PROJECT_SCOPE');
    expect(await codeOf(`/stats?app=${b.appId}`)).toBe('ADMIN_PROJECT_SCOPE');
    expect(await codeOf('/stats?project=NOPE')).toBe('PROJECT_NOT_FOUND');
    expect(await codeOf('/stats?app=nope')).toBe('APP_NOT_FOUND');
    expect(await codeOf('/stats?kind=other')).toBe('REQUEST_VALIDATION');
  });

  it('deleting a project removes its statistics', async () => {
    clock = live;
    await deleteProject({ ctx: ctx(), ref: 'S-B' });
    for (const table of ['stats_daily', 'stats_monthly', 'stats_yearly'] as const) {
      const left = await db.kysely
        .selectFrom(table)
        .select('project_id')
        .where('project_id', '=', projectB)
        .execute();
      expect(left).toEqual([]);
    }
    expect((await statsView({ db: db.kysely, now: live, projects: [projectA] })).totals.digest!.all).toBe(8);
  });
});

describe.each(testDialects())('migration 0012-stats-rollup on %s', (dialect) => {
  it('fills the monthly and yearly rollups from the daily rows of an existing installation', async () => {
    const tdb = await createTestDatabase(dialect);
    const db = await openDatabase(tdb.config);
    try {
      const names = Object.keys(MIGRATIONS).sort();
      const before = names[names.indexOf('0012-stats-rollup') - 1]!;
      const up = await createMigrator(db.kysely).migrateTo(before);
      expect(up.error).toBeUndefined();
      const day = (d: string, kind: 'signature' | 'digest', count: number) => ({
        project_id: 'prj_a',
        app_id: 'app_a',
        kind,
        day: d,
        count,
      });
      await db.kysely
        .insertInto('stats_daily')
        .values([
          day('2025-12-30', 'digest', 2),
          day('2025-12-31', 'digest', 3),
          day('2026-01-01', 'digest', 5),
          day('2026-01-15', 'signature', 7),
        ])
        .execute();
      expect(await migrateToLatest(db.kysely)).toContain('0012-stats-rollup');
      const monthly = await db.kysely
        .selectFrom('stats_monthly')
        .select(['kind', 'month', 'count'])
        .orderBy('kind')
        .orderBy('month')
        .execute();
      expect(monthly.map((r) => [r.kind, r.month, Number(r.count)])).toEqual([
        ['digest', '2025-12', 5],
        ['digest', '2026-01', 5],
        ['signature', '2026-01', 7],
      ]);
      const yearly = await db.kysely
        .selectFrom('stats_yearly')
        .select(['kind', 'year', 'count'])
        .orderBy('kind')
        .orderBy('year')
        .execute();
      expect(yearly.map((r) => [r.kind, r.year, Number(r.count)])).toEqual([
        ['digest', '2025', 5],
        ['digest', '2026', 5],
        ['signature', '2026', 7],
      ]);
      // The console reads them: all time from the years, the months from the months, the days from the days.
      const v = await statsView({ db: db.kysely, now: Date.UTC(2026, 0, 20, 4), projects: ['prj_a'] });
      expect(v.totals.digest).toEqual({ all: 10, last3Months: 10, month: 5, today: 0 });
      expect(v.totals.signature!.month).toBe(7);
      expect(v.years.map((p) => p.counts.digest)).toEqual([0, 5, 5]);
      expect(v.days.find((p) => p.period === '2026-01-15')!.counts.signature).toBe(7);
    } finally {
      await db.close();
      await tdb.drop();
    }
  });
});
