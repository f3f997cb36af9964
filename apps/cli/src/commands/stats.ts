/**
 * `yizheng stats rebuild` — recomputes the statistics aggregates (`stats_daily`: counts per project, application,
 * kind and Asia/Shanghai day) from the evidence and API-log tables, in one transaction. A one-off for
 * installations that held evidence before the aggregates existed; the server keeps them current afterwards.
 */
import type { Command } from 'commander';
import { stats } from '@yizheng/server';
import type { Io } from '../cli-error.js';
import { dataDirOption, withServices } from './server.js';

export function registerStats(program: Command, io: Io): void {
  const cmd = program.command('stats').description('statistics aggregates (统计)');
  cmd
    .command('rebuild')
    .description('recompute the daily counts from the evidence and API-log tables')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const r = await withServices(o, (ctx) => stats.rebuildStats(ctx.db));
      io.out(
        o.json
          ? `${JSON.stringify(r)}\n`
          : `statistics rebuilt: ${r.events} records and API calls in ${r.rows} daily counts\n`,
      );
    });
}
