/**
 * Jobs are declarations; `startJobs` runs each on a fixed interval from the app's onReady to its onClose.
 * One run at a time per job; a failing run is logged and the next one still happens.
 */
import type { FastifyBaseLogger } from 'fastify';

export interface JobDeps {
  log: FastifyBaseLogger;
}

export interface Job {
  id: string;
  /** Interval between the end of one run and the start of the next, in ms. */
  everyMs: number;
  handler(): Promise<unknown>;
}

export function startJobs(jobs: readonly Job[], deps: JobDeps): { stop(): Promise<void> } {
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  let stopped = false;
  const schedule = (job: Job): void => {
    if (stopped) return;
    const t = setTimeout(() => {
      const run = job
        .handler()
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
    }, job.everyMs);
    t.unref();
    timers.set(job.id, t);
  };
  for (const j of jobs) schedule(j);
  return {
    stop: async () => {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      await Promise.allSettled([...running]);
    },
  };
}
