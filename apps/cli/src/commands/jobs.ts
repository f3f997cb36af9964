/**
 * `yizheng jobs list|run|start|stop|schedule` — the server's jobs (任务管理) through the database they share:
 * changes are written to `job_state` and every running server applies them at its next sync (≤ 5 s); `run`
 * leaves a request that the first server to see it serves (`--wait` follows the run to its end).
 */
import type { Command } from 'commander';
import { jobs } from '@yizheng/server';
import { EXIT, UsageError, type Io } from '../cli-error.js';
import { dataDirOption, withServices } from './server.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function registerJobs(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program
    .command('jobs')
    .description('scheduled jobs (任务管理): list, run now, start, stop, schedule');

  cmd
    .command('list')
    .description('list the jobs with their state, schedule, last and next run')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const list = await withServices(o, (ctx) => jobs.listStoredJobs({ db: ctx.db, now: ctx.now() }));
      if (o.json) {
        io.out(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      if (list.length === 0) {
        io.out('no jobs registered yet (start the server once)\n');
        return;
      }
      io.out(`${pad('JOB', 22)}${pad('STATE', 10)}${pad('SCHEDULE', 18)}${pad('LAST RUN', 36)}NEXT RUN\n`);
      for (const j of list) {
        const state = j.running ? 'running' : j.enabled ? 'enabled' : 'stopped';
        const last = j.lastRun ? `${j.lastRun.outcome} ${j.lastRun.startedAt}` : '-';
        io.out(
          `${pad(j.id, 22)}${pad(state, 10)}${pad(j.schedule, 18)}${pad(last, 36)}${j.nextRun ?? '-'}${j.runRequested ? ' (run requested)' : ''}\n`,
        );
      }
    });

  cmd
    .command('run <id>')
    .description('ask the servers to run a job now (the first server to see the request runs it)')
    .option('--wait', 'wait for the run to end; exit 1 if it failed')
    .option('--timeout <seconds>', 'with --wait: give up after this long (default 600)', '600')
    .option(...dataDirOption)
    .action(async (id: string, o: { wait?: boolean; timeout: string; dataDir?: string }) => {
      const timeoutS = Number(o.timeout);
      if (!Number.isInteger(timeoutS) || timeoutS < 1)
        throw new UsageError('--timeout must be a positive integer');
      await withServices(o, async (ctx) => {
        const since = await jobs.requestJobRun({ ctx, id });
        io.out(`run of ${id} requested at ${since}\n`);
        if (!o.wait) return;
        const deadline = Date.now() + timeoutS * 1000;
        for (;;) {
          const runs = await jobs.runsSince({ db: ctx.db, id, since });
          const ended = runs.find((r) => r.endedAt !== null);
          if (ended) {
            io.out(
              `${ended.outcome} ${ended.startedAt} → ${ended.endedAt ?? ''} ${JSON.stringify(ended.counts)}${ended.error ? ` ${ended.error}` : ''}\n`,
            );
            if (ended.outcome !== 'succeeded') setExit(EXIT.INVALID);
            return;
          }
          if (Date.now() > deadline) {
            io.err(`yizheng: no run of ${id} ended within ${timeoutS} s (is a server running?)\n`);
            setExit(EXIT.INVALID);
            return;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      });
    });

  for (const [name, enabled] of [
    ['start', true],
    ['stop', false],
  ] as const)
    cmd
      .command(`${name} <id>`)
      .description(
        enabled ? 'start (enable) a stopped job' : 'stop a job (its current run is asked to finish)',
      )
      .option(...dataDirOption)
      .action(async (id: string, o: { dataDir?: string }) => {
        await withServices(o, (ctx) => jobs.setStoredJobEnabled({ ctx, id, enabled }));
        io.out(`${id} ${enabled ? 'started' : 'stopped'}\n`);
      });

  cmd
    .command('schedule <id> <schedule>')
    .description(
      'set a job\'s schedule: a cron pattern ("0 2 * * *"), "@every 5m" for interval jobs, or "default"',
    )
    .option(...dataDirOption)
    .action(async (id: string, schedule: string, o: { dataDir?: string }) => {
      await withServices(o, (ctx) =>
        jobs.setStoredJobSchedule({ ctx, id, schedule: schedule === 'default' ? null : schedule }),
      );
      io.out(`${id} schedule ${schedule}\n`);
    });
}
