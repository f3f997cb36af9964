/** `npm run bench -w packages/pki`: every benchmark of the package in sequence (one at a time: one core each). */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const name of ['cms-sm2.ts']) {
  const file = fileURLToPath(new URL(name, import.meta.url));
  execFileSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
}
