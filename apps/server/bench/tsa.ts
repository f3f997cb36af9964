/**
 * TSA benchmark: concurrent HTTP clients send RFC 3161 TimeStampReqs (`POST /tsa/sm2`, `/tsa/rsa`,
 * `/tsa/p256`) to the server running as a child process (SQLite), and the reference is `openssl speed`'s
 * single-core sign rate for the same key kind, measured in the same run. Target: stamps/s ≥ 0.8 × the sign rate.
 *
 *     npm run build && npm run bench:tsa -- [--seconds 5] [--clients 32]
 */
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { buildTimeStampReq } from '@yizheng/pki';
import { createWorkspace, freePort, startServer } from '../scripts/harness.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, clients: { type: 'string', default: '32' } },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);

/** `openssl speed` sign/s for one algorithm (single core). */
function opensslSignRate(alg: 'sm2' | 'rsa' | 'p256'): number {
  const arg = { sm2: 'sm2', rsa: 'rsa2048', p256: 'ecdsap256' }[alg];
  const out = execFileSync('openssl', ['speed', '-seconds', '2', arg], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // The last table line ends with "… sign/s verify/s": the second-to-last number is sign/s.
  const line = out.trim().split('\n').pop() ?? '';
  const nums = line
    .trim()
    .split(/\s+/)
    .map(Number)
    .filter((n) => Number.isFinite(n));
  return nums.length >= 2 ? nums[nums.length - 2]! : NaN;
}

async function phase(base: string, path: string, body: Uint8Array, seconds: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const url = new URL(path, base);
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode ?? 0}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(Buffer.from(body));
    });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        await one();
        done++;
      }
    }),
  );
  agent.destroy();
  return done / ((performance.now() - start) / 1000);
}

const ws = await createWorkspace('sqlite');
const server = await startServer(ws, await freePort());
try {
  for (const alg of ['sm2', 'rsa', 'p256'] as const) {
    const req = buildTimeStampReq({
      data: new TextEncoder().encode(`bench ${alg}`),
      hash: alg === 'sm2' ? 'sm3' : 'sha256',
    }).der;
    await phase(server.base, `/tsa/${alg}`, req, 1); // warm-up
    const rate = await phase(server.base, `/tsa/${alg}`, req, SECONDS);
    const ref = opensslSignRate(alg);
    console.log(
      `${alg}: ${rate.toFixed(0)} stamps/s over HTTP (${CLIENTS} clients) vs openssl speed ${ref.toFixed(0)} sign/s → ` +
        `${(rate / ref).toFixed(2)}× (target ≥ 0.8×)`,
    );
  }
} finally {
  await server.stop();
  await ws.remove();
}
