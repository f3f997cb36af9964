import type { Command } from 'commander';
import { defaultEngineSelection } from '@yizheng/gm';
import type { Io } from '../cli-error.js';

/** Text shown by `yizheng engines` (and by `yizheng start` until the server exists). */
export function describeEngines(): string {
  const s = defaultEngineSelection();
  const lines = [`SM2 engine: ${s.engine.name} — ${s.engine.description}`, `  chosen: ${s.reason}`];
  for (const e of s.engines) lines.push(`  ${e.available ? '✓' : '✗'} ${e.name.padEnd(6)} ${e.detail}`);
  lines.push('  (set YIZHENG_GM_ENGINE=native|openssl|js|auto to choose)');
  return lines.join('\n') + '\n';
}

export function registerEngines(program: Command, io: Io): void {
  program
    .command('engines')
    .description('show which SM2 engine is active and why')
    .action(() => {
      io.out(describeEngines());
    });
}
