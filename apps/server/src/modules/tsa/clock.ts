import { querySntp, SntpError, type SntpResult } from './sntp.js';

/**
 * The TSA's time source: the system clock, watched against one configured NTP server (none by default, seed 001
 * §6 items 4 and 6). When a server is configured the TSA stamps only while the last measurement is recent,
 * succeeded, and within the drift bound; otherwise `refusal()` says why and the TSA answers `rejection` with
 * failure info `timeNotAvailable`.
 */
export interface ClockConfig {
  /** `host` or `host:port` (IPv6 in brackets); undefined: the system clock is trusted unmonitored. */
  ntpServer: string | undefined;
  /** Largest tolerated |offset| in ms. */
  maxDriftMs: number;
  /** Interval between measurements in ms; a measurement older than 3 intervals no longer counts. */
  checkIntervalMs: number;
  timeoutMs?: number;
}

export type ClockStatus =
  | { state: 'unmonitored' }
  | { state: 'pending' }
  | { state: 'ok'; offsetMs: number; delayMs: number; checkedAt: number }
  | { state: 'drift'; offsetMs: number; delayMs: number; checkedAt: number }
  | { state: 'unreachable'; reason: string; checkedAt: number };

export interface ClockMonitor {
  /** Measure now (also what the periodic job runs). */
  check(): Promise<ClockStatus>;
  status(): ClockStatus;
  /** Why the TSA must not stamp at this moment, or undefined when it may. */
  refusal(): string | undefined;
}

export function parseNtpServer(spec: string): { host: string; port: number } {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(spec) ?? /^([^:\s]+)(?::(\d{1,5}))?$/.exec(spec);
  if (!m) throw new Error(`NTP server must be host or host:port, got ${spec}`);
  const port = m[2] === undefined ? 123 : Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`NTP port out of range: ${spec}`);
  return { host: m[1]!, port };
}

export function createClockMonitor(options: {
  config: ClockConfig;
  now: () => number;
  query?: typeof querySntp;
}): ClockMonitor {
  const { config, now } = options;
  const query = options.query ?? querySntp;
  const server = config.ntpServer === undefined ? undefined : parseNtpServer(config.ntpServer);
  let current: ClockStatus = server === undefined ? { state: 'unmonitored' } : { state: 'pending' };

  return {
    async check() {
      if (server === undefined) return current;
      let result: SntpResult;
      try {
        result = await query({
          ...server,
          now,
          ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
        });
      } catch (e) {
        const reason = e instanceof SntpError ? `${e.reason}: ${e.message}` : String(e);
        current = { state: 'unreachable', reason, checkedAt: now() };
        return current;
      }
      const measured = { offsetMs: result.offsetMs, delayMs: result.delayMs, checkedAt: now() };
      current =
        Math.abs(result.offsetMs) > config.maxDriftMs
          ? { state: 'drift', ...measured }
          : { state: 'ok', ...measured };
      return current;
    },
    status: () => current,
    refusal() {
      const where = config.ntpServer ?? '';
      switch (current.state) {
        case 'unmonitored':
          return undefined;
        case 'pending':
          return `time source not yet checked against NTP server ${where}`;
        case 'unreachable':
          return `time source unverified: NTP server ${where} ${current.reason}`;
        case 'drift':
          return `system clock drift ${Math.round(current.offsetMs)} ms exceeds the bound of ${config.maxDriftMs} ms (NTP server ${where})`;
        case 'ok':
          if (now() - current.checkedAt > 3 * config.checkIntervalMs) {
            return `time source check is stale (last NTP measurement ${Math.round((now() - current.checkedAt) / 1000)} s ago)`;
          }
          return undefined;
      }
    },
  };
}
