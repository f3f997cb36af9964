/** Shared benchmark helpers: a fixed-time op counter and OpenSSL's `speed` as the in-run reference. */
import { execFileSync } from 'node:child_process';

/** Runs `op` repeatedly for about `seconds` (after a short warm-up) and returns operations per second. */
export function opsPerSecond(op: () => void, seconds = 2): number {
  const warmEnd = performance.now() + 200;
  while (performance.now() < warmEnd) op();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 16; i++) op();
    n += 16;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/**
 * Like {@link opsPerSecond} but divides by the process's CPU time (user + system), as `openssl speed` does by
 * default: on a machine shared with other work, wall time would count the time the benchmark was not running.
 */
export function cpuOpsPerSecond(op: () => void, seconds = 2): number {
  const warmEnd = performance.now() + 200;
  while (performance.now() < warmEnd) op();
  let n = 0;
  const start = process.cpuUsage();
  const cpu = (): number => {
    const u = process.cpuUsage(start);
    return (u.user + u.system) / 1e6;
  };
  let used = 0;
  while (used < seconds) {
    for (let i = 0; i < 16; i++) op();
    n += 16;
    used = cpu();
  }
  return n / used;
}

/** `openssl speed -seconds S ecdsap256` → { sign, verify } per second (one core). */
export function opensslEcdsaP256Speed(seconds = 3): { sign: number; verify: number } {
  const out = execFileSync('openssl', ['speed', '-seconds', String(seconds), 'ecdsap256'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const m = /256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`cannot parse openssl speed output:\n${out}`);
  return { sign: Number(m[1]), verify: Number(m[2]) };
}

/** `openssl speed -seconds S sm2` → { sign, verify } per second (one core). */
export function opensslSm2Speed(seconds = 3): { sign: number; verify: number } {
  const out = execFileSync('openssl', ['speed', '-seconds', String(seconds), 'sm2'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const m = /SM2 \(CurveSM2\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`cannot parse openssl speed output:\n${out}`);
  return { sign: Number(m[1]), verify: Number(m[2]) };
}

/** `openssl speed -seconds S -evp <alg> -bytes N` → bytes per second. */
export function opensslEvpSpeed(alg: string, bytes: number, seconds = 3): number {
  const out = execFileSync(
    'openssl',
    ['speed', '-seconds', String(seconds), '-evp', alg, '-bytes', String(bytes)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  // The last line: "<alg>   <n>k" where the figure is in 1000s of bytes per second.
  const line = out.trim().split('\n').pop() ?? '';
  const m = /([\d.]+)k\s*$/.exec(line);
  if (!m) throw new Error(`cannot parse openssl speed output:\n${out}`);
  return Number(m[1]) * 1000;
}

export interface BenchResult {
  bench: string;
  ours: number;
  reference: number;
  ratio: number;
}

export function report(bench: string, ours: number, reference: number): BenchResult {
  const r = {
    bench,
    ours: Math.round(ours),
    reference: Math.round(reference),
    ratio: Number((ours / reference).toFixed(3)),
  };
  return r;
}
