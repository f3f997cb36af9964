/** `yizheng migrate-history status` — progress of the history migration tasks (历史数据迁移) with a text bar. */
import type { Command } from 'commander';
import { history } from '@yizheng/server';
import type { Io } from '../cli-error.js';
import { dataDirOption, withServices } from './server.js';

/** `[#########-----------]  45%` — done of total (unknown total: an empty bar). */
export function progressBar(done: number, total: number | null, width = 30): string {
  if (total === null || total <= 0) return `[${'-'.repeat(width)}]    ?`;
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

export function registerMigrateHistory(program: Command, io: Io): void {
  const cmd = program
    .command('migrate-history')
    .description('history migration from hospital databases (历史数据迁移)');
  cmd
    .command('status')
    .description('progress of every migration task: rows done of the source total, migrated, failed')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const tasks = await withServices(o, (ctx) => history.listTasks({ db: ctx.db }));
      if (o.json) {
        io.out(`${JSON.stringify(tasks, null, 2)}\n`);
        return;
      }
      if (tasks.length === 0) {
        io.out('no history migration tasks\n');
        return;
      }
      for (const t of tasks) {
        const done = t.migrated + t.failed;
        io.out(
          `${t.id}  ${t.status.padEnd(9)} ${progressBar(done, t.total)}  ${done}/${t.total ?? '?'}  migrated ${t.migrated} (already present ${t.duplicates})  failed ${t.failed}  level ${t.level}${t.window ? `  window ${t.window.start}–${t.window.end}` : ''}\n`,
        );
        if (t.lastError) io.out(`    last error: ${t.lastError}\n`);
      }
    });
}
