/**
 * `yizheng strategy list|create|update|show|delete` — hot → cold migration strategies (迁移策略) in the database
 * the servers share; the `cold-migration` job applies them at its next run.
 */
import type { Command } from 'commander';
import { strategies } from '@yizheng/server';
import { UsageError, type Io } from '../cli-error.js';
import { dataDirOption, withServices } from './server.js';

type Kind = 'signature' | 'digest' | 'file';
type View = Awaited<ReturnType<typeof strategies.getStrategy>>;

interface StrategyOptions {
  name?: string;
  project?: string;
  kinds?: string;
  ageDays?: string;
  retentionDays?: string;
  batchSize?: string;
  window?: string;
  timezone?: string;
  enable?: boolean;
  disable?: boolean;
  dataDir?: string;
  json?: boolean;
}

function int(v: string, what: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`${what} must be a non-negative integer`);
  return Number(v);
}

function kinds(v: string): Kind[] {
  const out = v.split(',').map((k) => k.trim());
  for (const k of out)
    if (k !== 'signature' && k !== 'digest' && k !== 'file')
      throw new UsageError(`--kinds takes signature,digest,file (got ${k.slice(0, 40)})`);
  return out as Kind[];
}

/** `01:00-05:00` → { start, end }; `none` → null. */
function windowOf(v: string): { start: string; end: string } | null {
  if (v === 'none') return null;
  const m = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(v);
  if (!m) throw new UsageError('--window takes HH:MM-HH:MM or none');
  return { start: m[1]!, end: m[2]! };
}

/** The fields given on the command line (the service checks their bounds). */
function fieldsOf(o: StrategyOptions): Record<string, unknown> {
  if (o.enable && o.disable) throw new UsageError('--enable and --disable exclude each other');
  return {
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.project !== undefined ? { project: o.project === 'all' ? null : o.project } : {}),
    ...(o.kinds !== undefined ? { kinds: kinds(o.kinds) } : {}),
    ...(o.ageDays !== undefined ? { ageDays: int(o.ageDays, '--age-days') } : {}),
    ...(o.retentionDays !== undefined ? { hotRetentionDays: int(o.retentionDays, '--retention-days') } : {}),
    ...(o.batchSize !== undefined ? { batchSize: int(o.batchSize, '--batch-size') } : {}),
    ...(o.window !== undefined ? { window: windowOf(o.window) } : {}),
    ...(o.timezone !== undefined ? { timezone: o.timezone } : {}),
    ...(o.enable ? { enabled: true } : o.disable ? { enabled: false } : {}),
  };
}

function line(s: View): string {
  const w = s.window ? `${s.window.start}–${s.window.end} ${s.timezone}` : `any time (${s.timezone})`;
  return `${s.id}  ${s.enabled ? 'enabled ' : 'disabled'}  ${s.name}  project ${s.projectId ?? 'all'}  ${s.kinds.join(',')}  older than ${s.ageDays} d  keep hot ${s.hotRetentionDays} d  batch ${s.batchSize}  window ${w}  archived ${s.moved} (kept hot ${s.keptHot})\n`;
}

export function registerStrategy(program: Command, io: Io): void {
  const cmd = program
    .command('strategy')
    .description('hot → cold migration strategies (迁移策略): list, create, update, show, delete');
  const print = (o: { json?: boolean }, v: View | View[]): void => {
    if (o.json) io.out(`${JSON.stringify(v, null, 2)}\n`);
    else for (const s of Array.isArray(v) ? v : [v]) io.out(line(s));
  };
  const fieldOptions = (c: Command): Command =>
    c
      .option('--name <name>', 'strategy name (unique)')
      .option('--project <ref>', 'project id or number ("all": every project)')
      .option('--kinds <list>', 'data kinds: signature,digest,file')
      .option('--age-days <n>', 'archive records received more than n days ago')
      .option('--retention-days <n>', 'keep the hot copy n days after the cold copy is verified (default 0)')
      .option('--batch-size <n>', 'records per batch (default 500, at most 5000)')
      .option('--window <HH:MM-HH:MM>', 'allowed time window, e.g. 01:00-05:00 ("none": any time)')
      .option('--timezone <tz>', 'time zone of the window (default Asia/Shanghai)')
      .option(...dataDirOption)
      .option('--json', 'print JSON');

  cmd
    .command('list')
    .description('list the strategies with what each has archived')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(async (o: StrategyOptions) => {
      const list = await withServices(o, (ctx) => strategies.listStrategies({ db: ctx.db }));
      if (!o.json && list.length === 0) io.out('no migration strategies\n');
      else print(o, list);
    });

  fieldOptions(cmd.command('create').description('create a strategy'))
    .option('--disable', 'create it disabled')
    .action(async (o: StrategyOptions) => {
      const f = fieldsOf(o);
      if (o.name === undefined || o.kinds === undefined || o.ageDays === undefined)
        throw new UsageError('create needs --name, --kinds and --age-days');
      const s = await withServices(o, (ctx) =>
        strategies.createStrategy({
          ctx,
          body: f as Parameters<typeof strategies.createStrategy>[0]['body'],
        }),
      );
      print(o, s);
    });

  fieldOptions(cmd.command('update <ref>').description('modify a strategy (by id or name)'))
    .option('--enable', 'enable it')
    .option('--disable', 'disable it')
    .action(async (ref: string, o: StrategyOptions) => {
      const f = fieldsOf(o);
      if (Object.keys(f).length === 0) throw new UsageError('update needs at least one field to change');
      const s = await withServices(o, async (ctx) => {
        const { id } = await strategies.getStrategy({ db: ctx.db, ref });
        return strategies.updateStrategy({
          ctx,
          id,
          patch: f,
        });
      });
      print(o, s);
    });

  cmd
    .command('show <ref>')
    .description('show one strategy (by id or name)')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(async (ref: string, o: StrategyOptions) => {
      print(o, await withServices(o, (ctx) => strategies.getStrategy({ db: ctx.db, ref })));
    });

  cmd
    .command('delete <ref>')
    .description('delete a strategy (records it archived stay archived)')
    .option(...dataDirOption)
    .action(async (ref: string, o: StrategyOptions) => {
      const s = await withServices(o, async (ctx) => {
        const { id } = await strategies.getStrategy({ db: ctx.db, ref });
        return strategies.deleteStrategy({ ctx, id });
      });
      io.out(`deleted ${s.id} ${s.name}\n`);
    });
}
