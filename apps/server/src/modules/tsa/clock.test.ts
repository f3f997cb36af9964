import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createClockMonitor, parseNtpServer } from './clock.js';
import { querySntp, SntpError, writeNtpTimestamp } from './sntp.js';

/**
 * A fake NTP server on 127.0.0.1: answers each request with its own clock = local + skewMs (server-side
 * processing time zero), or misbehaves as told.
 */
async function fakeNtp(options: {
  skewMs: number;
  now: () => number;
  behaviour?: 'normal' | 'kiss' | 'wrong-origin' | 'silent' | 'unsynchronised';
}): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const b = options.behaviour ?? 'normal';
    if (b === 'silent') return;
    const out = Buffer.alloc(48);
    out[0] = ((b === 'unsynchronised' ? 3 : 0) << 6) | (4 << 3) | 4;
    out[1] = b === 'kiss' ? 0 : 2;
    if (b === 'kiss') out.write('RATE', 12, 'latin1');
    if (b === 'wrong-origin') out.fill(7, 24, 32);
    else msg.copy(out, 24, 40, 48);
    const t = options.now() + options.skewMs;
    writeNtpTimestamp(out, 32, t);
    writeNtpTimestamp(out, 40, t);
    socket.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { port: socket.address().port, socket };
}

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

// A fixed local clock: T1 = T4, so offset = server skew exactly and delay = 0 (deterministic).
const fixedNow = (): number => 1_780_000_000_000;

async function server(
  skewMs: number,
  behaviour?: 'normal' | 'kiss' | 'wrong-origin' | 'silent' | 'unsynchronised',
) {
  const s = await fakeNtp({ skewMs, now: fixedNow, ...(behaviour === undefined ? {} : { behaviour }) });
  sockets.push(s.socket);
  return s.port;
}

describe('SNTP client', () => {
  it('measures the offset against a server on loopback', async () => {
    const port = await server(2500);
    const r = await querySntp({ host: '127.0.0.1', port, now: fixedNow });
    expect(Math.round(r.offsetMs)).toBe(2500);
    expect(r.stratum).toBe(2);
  });

  it.each([
    ['kiss', 'kiss-of-death'],
    ['unsynchronised', 'unsynchronised'],
    ['wrong-origin', 'timeout'],
    ['silent', 'timeout'],
  ] as const)('%s server → %s', async (behaviour, reason) => {
    const port = await server(0, behaviour);
    const error = await querySntp({ host: '127.0.0.1', port, now: fixedNow, timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SntpError);
    expect((error as SntpError).reason).toBe(reason);
  });
});

describe('clock monitor', () => {
  it('is unmonitored (never refuses) without an NTP server', async () => {
    const m = createClockMonitor({
      config: { ntpServer: undefined, maxDriftMs: 1000, checkIntervalMs: 60_000 },
      now: fixedNow,
    });
    expect(m.refusal()).toBeUndefined();
    expect((await m.check()).state).toBe('unmonitored');
  });

  it('refuses before the first check, accepts within the bound, refuses beyond it and says why', async () => {
    const ok = createClockMonitor({
      config: { ntpServer: `127.0.0.1:${await server(400)}`, maxDriftMs: 1000, checkIntervalMs: 60_000 },
      now: fixedNow,
    });
    expect(ok.refusal()).toMatch(/not yet checked/);
    expect((await ok.check()).state).toBe('ok');
    expect(ok.refusal()).toBeUndefined();

    const drifting = createClockMonitor({
      config: { ntpServer: `127.0.0.1:${await server(-5000)}`, maxDriftMs: 1000, checkIntervalMs: 60_000 },
      now: fixedNow,
    });
    expect((await drifting.check()).state).toBe('drift');
    expect(drifting.refusal()).toMatch(/drift -5000 ms exceeds the bound of 1000 ms/);
  });

  it('refuses when the server is unreachable or the last measurement is stale', async () => {
    const silent = createClockMonitor({
      config: {
        ntpServer: `127.0.0.1:${await server(0, 'silent')}`,
        maxDriftMs: 1000,
        checkIntervalMs: 60_000,
        timeoutMs: 200,
      },
      now: fixedNow,
    });
    expect((await silent.check()).state).toBe('unreachable');
    expect(silent.refusal()).toMatch(/timeout/);

    let t = fixedNow();
    const port = await server(0);
    const stale = createClockMonitor({
      config: { ntpServer: `127.0.0.1:${port}`, maxDriftMs: 1000, checkIntervalMs: 1000 },
      now: () => t,
    });
    await stale.check();
    expect(stale.refusal()).toBeUndefined();
    t += 3001;
    expect(stale.refusal()).toMatch(/stale/);
  });

  it('parses host, host:port and [v6]:port', () => {
    expect(parseNtpServer('ntp.example')).toEqual({ host: 'ntp.example', port: 123 });
    expect(parseNtpServer('10.0.0.1:1123')).toEqual({ host: '10.0.0.1', port: 1123 });
    expect(parseNtpServer('[::1]:123')).toEqual({ host: '::1', port: 123 });
    expect(() => parseNtpServer('a:b:c')).toThrow();
    expect(() => parseNtpServer('h:70000')).toThrow();
  });
});
