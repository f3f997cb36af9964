/**
 * SM3 one-shot throughput on 1 KiB inputs, one core, against `openssl speed -evp sm3 -bytes 1024` measured in the
 * same run: the Node layer (`src/node/sm3.ts`: the native addon's C SM3 when built, else OpenSSL through
 * node:crypto) and the pure-TypeScript layer.
 * Both sides are per CPU-second (`openssl speed` divides by its own CPU time), so other load does not skew the ratio.
 * Prints one JSON line per figure: {"bench","ours","reference","ratio"} with bytes per second.
 */
import { sm3 as nodeSm3 } from '../src/node/sm3.js';
import { sm3 as jsSm3 } from '../src/sm3-js.js';
import { cpuOpsPerSecond, opensslEvpSpeed, report, type BenchResult } from './measure.js';

const SIZE = 1024;

export function benchSm3(seconds = 3): BenchResult[] {
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = (i * 131 + 7) & 0xff;
  const reference = opensslEvpSpeed('sm3', SIZE, 3);
  const node = cpuOpsPerSecond(() => nodeSm3(data), seconds) * SIZE;
  const js = cpuOpsPerSecond(() => jsSm3(data), seconds) * SIZE;
  return [report('sm3-1k', node, reference), report('sm3-js-1k', js, reference)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of benchSm3()) console.log(JSON.stringify(r));
}
