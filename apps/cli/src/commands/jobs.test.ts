/**
 * `yizheng jobs` against a running server (in-process, same SQLite data directory): the CLI's stop, schedule
 * and run request reach the server's job manager through the database; `run --wait` follows the run it served.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, loadConfig } from '@yizheng/server';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'yz-cli-jobs-'));
const dataDir = join(dir, 'data');
const d = ['--data-dir', dataDir];

describe('yizheng jobs', () => {
  let app: FastifyInstance;
  let runs = 0;
  let fail = false;
  beforeAll(async () => {
    app = await build(loadConfig({ env: {}, overrides: { dataDir, port: 0 } }), {
      logger: false,
      extraJobs: [
        {
          id: 'cli-probe',
          defaultSchedule: '0 4 * * *',
          description: 'counts its runs',
          handler: () =>
            fail ? Promise.reject(new Error('probe failed')) : Promise.resolve({ runs: ++runs }),
        },
      ],
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the jobs registered by the server', async () => {
    const r = await cli('jobs', 'list', ...d);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^nonce-purge\s+enabled\s+@every 60s\s+-\s+\d{4}-/m);
    expect(r.out).toMatch(/^cli-probe\s+enabled\s+0 4 \* \* \*/m);
    const json = JSON.parse((await cli('jobs', 'list', '--json', ...d)).out) as { id: string }[];
    expect(json.map((j) => j.id)).toContain('log-integrator');
  });

  it('stop, schedule and start reach the server at its next sync', async () => {
    expect(await cli('jobs', 'stop', 'cli-probe', ...d)).toMatchObject({
      code: 0,
      out: 'cli-probe stopped\n',
    });
    expect((await cli('jobs', 'schedule', 'cli-probe', '15 3 * * *', ...d)).code).toBe(0);
    await app.jobs.sync(false);
    expect(await app.jobs.get('cli-probe')).toMatchObject({ enabled: false, schedule: '15 3 * * *' });
    expect((await cli('jobs', 'list', ...d)).out).toMatch(/^cli-probe\s+stopped\s+15 3 \* \* \*/m);
    expect((await cli('jobs', 'schedule', 'cli-probe', 'default', ...d)).code).toBe(0);
    expect((await cli('jobs', 'start', 'cli-probe', ...d)).code).toBe(0);
    await app.jobs.sync(false);
    expect(await app.jobs.get('cli-probe')).toMatchObject({ enabled: true, schedule: '0 4 * * *' });
  });

  it('run --wait: the server serves the request and the CLI reports the outcome (exit 1 on failure)', async () => {
    const ok = await cli('jobs', 'run', 'cli-probe', '--wait', ...d);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/succeeded .* \{"runs":1\}\n$/);
    fail = true;
    const bad = await cli('jobs', 'run', 'cli-probe', '--wait', ...d);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/failed .* probe failed\n$/);
  });

  it('unknown jobs and bad schedules exit 2 with their code', async () => {
    const r = await cli('jobs', 'stop', 'nope', ...d);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/JOB_NOT_FOUND/);
    const s = await cli('jobs', 'schedule', 'cli-probe', 'whenever', ...d);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/JOB_SCHEDULE_INVALID/);
    expect((await cli('jobs', 'run', 'cli-probe', '--wait', '--timeout', 'x', ...d)).code).toBe(2);
  });
});
