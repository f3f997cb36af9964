/** `npm run bench -w packages/gm`: every benchmark of the package in sequence (one at a time: one core each). */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const name of ['sm3.ts', 'sm2.ts']) {
  const file = fileURLToPath(new URL(name, import.meta.url));
  execFileSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
}
