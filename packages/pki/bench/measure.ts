/** Benchmark helpers: a fixed-time operation counter and the JSON result line. */
import { readFileSync } from 'node:fs';

/** Runs `op` repeatedly for about `seconds` (after a short warm-up) and returns operations per second. */
export function opsPerSecond(op: () => void, seconds = 2): number {
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) op();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 8; i++) op();
    n += 8;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/**
 * The CPU time of the calling thread in ms (Linux: /proc/thread-self/schedstat, nanoseconds on CPU), or
 * undefined where it cannot be read.
 */
function threadCpuMs(): number | undefined {
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Which clock {@link compareOps} divides by: the main thread's CPU time where readable, else wall time. */
export const clock: 'thread-cpu' | 'wall' = threadCpuMs() === undefined ? 'wall' : 'thread-cpu';

/**
 * Operations per second of `a` and `b`, measured in alternating slices of ~100 ms (wall) for about `seconds`
 * each, so that load from other processes falls on both alike. Each slice's operations are divided by the
 * main thread's CPU time over the slice ({@link clock}): on a loaded machine, time spent waiting for a core is
 * not counted against either side.
 */
export function compareOps(a: () => void, b: () => void, seconds = 3): [number, number] {
  const total = [0, 0];
  const time = [0, 0];
  const ops = [a, b];
  const cpu = clock === 'thread-cpu' ? threadCpuMs : undefined;
  for (const op of ops) for (const end = performance.now() + 200; performance.now() < end;) op();
  const slices = Math.max(1, Math.round(seconds * 10));
  for (let s = 0; s < slices; s++) {
    for (let k = 0; k < 2; k++) {
      const op = ops[k] ?? a;
      const start = performance.now();
      const cpuStart = cpu?.() ?? 0;
      const end = start + 100;
      let n = 0;
      let now = start;
      while (now < end) {
        // Eight per clock reading: the reading costs about as much as a fast operation.
        for (let i = 0; i < 8; i++) op();
        n += 8;
        now = performance.now();
      }
      total[k] = (total[k] ?? 0) + n;
      time[k] = (time[k] ?? 0) + (cpu ? (cpu() ?? 0) - cpuStart : now - start);
    }
  }
  return [((total[0] ?? 0) * 1000) / (time[0] ?? 1), ((total[1] ?? 0) * 1000) / (time[1] ?? 1)];
}

export interface BenchResult {
  readonly bench: string;
  readonly ours: number;
  readonly reference: number;
  readonly ratio: number;
  /** Operations per second of which clock ({@link compareOps}). */
  readonly clock: typeof clock;
}

export function report(bench: string, ours: number, reference: number): BenchResult {
  return {
    bench,
    ours: Math.round(ours),
    reference: Math.round(reference),
    ratio: Number((ours / reference).toFixed(3)),
    clock,
  };
}
