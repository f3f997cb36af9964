/**
 * Jobs are declarations `{ id, defaultSchedule | everyMs, handler }`; the {@link JobManager} (`manager.ts`)
 * schedules them from the app's onReady to its onClose and manages them at runtime (list, start, stop, change
 * schedule, run now, run log, one instance at a time across servers).
 *
 * Two kinds:
 * - **cron jobs** (`defaultSchedule`, a croner pattern, e.g. `0 2 * * *`): maintenance work such as history
 *   migration or hot→cold archiving. By default exclusive (a database lease: one server runs them at a time)
 *   and recorded in `job_runs` when the job-log switch is on.
 * - **interval jobs** (`everyMs`): the platform's internal loops (log integration, checkpoints, nonce purge,
 *   TSA clock). Each run starts `everyMs` after the previous one ended; by default neither leased nor recorded
 *   (they are safe to run on every server and would flood the run log).
 *
 * `startJobs` remains for callers that only need the interval loop without a database.
 */
import type { FastifyBaseLogger } from 'fastify';

export interface JobDeps {
  log: FastifyBaseLogger;
}

/** What a handler receives for one run. */
export interface JobRunContext {
  runId: string;
  trigger: 'schedule' | 'manual';
  /** Aborted when the job is stopped, the server closes, or the lease is lost: finish the current batch, return. */
  signal: AbortSignal;
}

/**
 * A handler's result: its numeric properties are recorded as the run's counts (a bare number as `{ count }`);
 * anything else is recorded as no counts.
 */
export type JobResult = unknown;

export interface Job {
  id: string;
  /** Shown in the console and `yizheng jobs list`. */
  description?: string;
  /** Interval between the end of one run and the start of the next, in ms (interval jobs). */
  everyMs?: number;
  /** A cron pattern (croner: 5 or 6 fields, `@daily`, …) in the manager's time zone (cron jobs). */
  defaultSchedule?: string;
  /** Take the database lease for each run (default: true for cron jobs, false for interval jobs). */
  exclusive?: boolean;
  /** Record runs in `job_runs` when the job-log switch is on (default: true for cron jobs). */
  record?: boolean;
  /** Start stopped until someone starts it (default false). */
  initiallyStopped?: boolean;
  handler(run: JobRunContext): Promise<JobResult>;
}

export function startJobs(jobs: readonly Job[], deps: JobDeps): { stop(): Promise<void> } {
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  const abort = new AbortController();
  let stopped = false;
  const schedule = (job: Job): void => {
    if (stopped) return;
    const t = setTimeout(() => {
      const run = job
        .handler({ runId: `${job.id}-loop`, trigger: 'schedule', signal: abort.signal })
        .then((r) => {
          deps.log.debug({ job: job.id, result: r }, 'job run');
        })
        .catch((e: unknown) => {
          deps.log.error({ job: job.id, err: e }, 'job failed');
        })
        .finally(() => {
          running.delete(run);
          schedule(job);
        });
      running.add(run);
    }, job.everyMs ?? 60_000);
    t.unref();
    timers.set(job.id, t);
  };
  for (const j of jobs) schedule(j);
  return {
    stop: async () => {
      stopped = true;
      abort.abort();
      for (const t of timers.values()) clearTimeout(t);
      await Promise.allSettled([...running]);
    },
  };
}
