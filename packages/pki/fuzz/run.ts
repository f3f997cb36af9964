/**
 * `npm run fuzz -w packages/pki -- [--seconds N] [--seed S] [--target certificate|cms|tsp|crl|ocsp]`
 *
 * Mutation fuzzing of every parser for N seconds each (default 20), seeds made by openssl at start. Prints one
 * JSON line per target; a finding (an error other than PkiError, or an input slower than 1 s) is written to
 * `--out` (default $TMPDIR/yizheng-fuzz-findings; base64 input + stack) and makes the exit code 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeCorpus } from '../src/fuzz/corpus.js';
import { Prng } from '../src/fuzz/mutate.js';
import { fuzz, targets } from '../src/fuzz/targets.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    seed: { type: 'string' },
    target: { type: 'string', multiple: true },
    out: { type: 'string', default: join(tmpdir(), 'yizheng-fuzz-findings') },
  },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('--seconds must be a positive number');
const seed = values.seed === undefined ? Date.now() : Number(values.seed);

const corpus = makeCorpus();
const all = targets(corpus);
const chosen = values.target === undefined ? all : all.filter((t) => values.target?.includes(t.name));
if (chosen.length === 0) throw new Error(`no such target; targets: ${all.map((t) => t.name).join(', ')}`);

let failed = false;
for (const target of chosen) {
  const rng = new Prng(seed);
  const end = performance.now() + seconds * 1000;
  const stats = fuzz(target, rng, () => performance.now() >= end);
  console.log(
    JSON.stringify({
      fuzz: target.name,
      seed,
      seconds,
      inputs: stats.inputs,
      rejected: stats.rejected,
      slowestMs: Math.round(stats.slowestMillis),
      findings: stats.findings.length,
    }),
  );
  if (stats.findings.length > 0) {
    failed = true;
    mkdirSync(values.out, { recursive: true });
    stats.findings.forEach((f, i) => {
      const file = join(values.out, `${target.name}-${seed}-${i}.txt`);
      writeFileSync(file, `${f.kind}\n${f.detail}\n\n${Buffer.from(f.input).toString('base64')}\n`);
      console.error(`${target.name}: ${f.kind}: ${f.detail.split('\n')[0] ?? ''} → ${file}`);
    });
  }
}
process.exitCode = failed ? 1 : 0;
