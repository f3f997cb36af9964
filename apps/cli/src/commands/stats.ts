/**
 * `yizheng stats rebuild` — recomputes the statistics aggregates (`stats_daily`: counts per project, application,
 * kind and Asia/Shanghai day) from the evidence tables (hot and, when configured, cold) and every API-log table,
 * in one transaction. A one-off for installations that held evidence before the aggregates existed; the server
 * keeps them current afterwards.
 */
import type { Command } from 'commander';
import { openDatabase, stats } from '@yizheng/server';
import type { Io } from '../cli-error.js';
import { configFrom, dataDirOption, withServices } from './server.js';

export function registerStats(program: Command, io: Io): void {
  const cmd = program.command('stats').description('statistics aggregates (统计)');
  cmd
    .command('rebuild')
    .description('recompute the daily counts from the evidence and API-log tables')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const r = await withServices(o, async (ctx) => {
        // Records archived to the cold database (YIZHENG_COLD_DATABASE_URL) still count.
        const coldConfig = configFrom({ dataDir: o.dataDir }).coldDatabase;
        if (coldConfig === undefined) return stats.rebuildStats(ctx.db, { cold: undefined });
        const cold = await openDatabase(coldConfig);
        try {
          return await stats.rebuildStats(ctx.db, { cold: cold.kysely });
        } finally {
          await cold.close();
        }
      });
      io.out(
        o.json
          ? `${JSON.stringify(r)}\n`
          : `statistics rebuilt: ${r.events} records and API calls in ${r.rows} daily counts\n`,
      );
    });
}
