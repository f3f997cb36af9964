/** `yizheng project create|list|show|update|freeze|unfreeze|delete` — project management until the console exists. */
import type { Command } from 'commander';
import { projects } from '@yizheng/server';
import { UsageError, type Io } from '../cli-error.js';
import { dataDirOption, withServices } from './server.js';

type Project = Awaited<ReturnType<typeof projects.getProject>>;

function table(list: readonly Project[]): string {
  const rows = [
    ['ID', 'NUMBER', 'STATUS', 'CREATED', 'NAME'],
    ...list.map((p) => [p.id, p.number, p.status, p.createdAt, p.name]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') +
    '\n'
  );
}

function fileStorage(v: string | undefined): 'local' | 'database' | undefined {
  if (v === undefined || v === 'local' || v === 'database') return v;
  throw new UsageError('--file-storage must be local or database');
}

function status(v: string | undefined): 'active' | 'frozen' | undefined {
  if (v === undefined || v === 'active' || v === 'frozen') return v;
  throw new UsageError('--status must be active or frozen');
}

export function registerProject(program: Command, io: Io): void {
  const cmd = program
    .command('project')
    .description('projects (项目管理): create, list, freeze, unfreeze, delete');
  const json = (v: unknown): void => {
    io.out(`${JSON.stringify(v, null, 2)}\n`);
  };

  cmd
    .command('create')
    .description('create a project')
    .requiredOption('--number <number>', '项目编号 (unique)')
    .requiredOption('--name <name>', '项目名称')
    .option(
      '--file-storage <where>',
      '电子文件存储方式: local (content-addressed directory, default) or database',
    )
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(
      async (o: { number: string; name: string; fileStorage?: string; dataDir?: string; json?: boolean }) => {
        const storage = fileStorage(o.fileStorage);
        const p = await withServices(o, (ctx) =>
          projects.createProject({ ctx, number: o.number, name: o.name, fileStorage: storage }),
        );
        if (o.json) json(p);
        else io.out(`created project ${p.id} (${p.number} ${p.name})\n`);
      },
    );

  cmd
    .command('list')
    .description('list projects, optionally filtered')
    .option('--number <number>', 'exact project number')
    .option('--name <text>', 'name contains')
    .option('--status <status>', 'active or frozen')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(
      async (o: { number?: string; name?: string; status?: string; dataDir?: string; json?: boolean }) => {
        const list = await withServices(o, (ctx) =>
          projects.listProjects({ ctx, number: o.number, name: o.name, status: status(o.status) }),
        );
        if (o.json) json(list);
        else io.out(table(list));
      },
    );

  cmd
    .command('show')
    .description('show one project (by id or number)')
    .argument('<project>', 'project id or number')
    .option(...dataDirOption)
    .action(async (ref: string, o: { dataDir?: string }) => {
      json(await withServices(o, (ctx) => projects.getProject({ ctx, ref })));
    });

  cmd
    .command('update')
    .description('change a project number, name or file storage')
    .argument('<project>', 'project id or number')
    .option('--number <number>', 'new number')
    .option('--name <name>', 'new name')
    .option('--file-storage <where>', 'local or database (for files stored from now on)')
    .option(...dataDirOption)
    .action(
      async (ref: string, o: { number?: string; name?: string; fileStorage?: string; dataDir?: string }) => {
        if (o.number === undefined && o.name === undefined && o.fileStorage === undefined) {
          throw new UsageError('give --number, --name and/or --file-storage');
        }
        const storage = fileStorage(o.fileStorage);
        json(
          await withServices(o, (ctx) =>
            projects.updateProject({ ctx, ref, number: o.number, name: o.name, fileStorage: storage }),
          ),
        );
      },
    );

  for (const [name, st, what] of [
    ['freeze', 'frozen', '冻结: data operations are refused'],
    ['unfreeze', 'active', '解冻'],
  ] as const) {
    cmd
      .command(name)
      .description(`${name} one or more projects (${what})`)
      .argument('<projects...>', 'project ids or numbers')
      .option(...dataDirOption)
      .action(async (refs: string[], o: { dataDir?: string }) => {
        const list = await withServices(o, (ctx) => projects.setProjectStatus({ ctx, refs, status: st }));
        io.out(table(list));
      });
  }

  cmd
    .command('delete')
    .description('delete a project and ALL its data and configuration (irreversible)')
    .argument('<project>', 'project id or number')
    .option('--yes', 'confirm the deletion')
    .option(...dataDirOption)
    .action(async (ref: string, o: { yes?: boolean; dataDir?: string }) => {
      if (!o.yes)
        throw new UsageError(
          'deleting a project removes all its data and configuration: add --yes to confirm',
        );
      const p = await withServices(o, (ctx) => projects.deleteProject({ ctx, ref }));
      io.out(`deleted project ${p.id} (${p.number} ${p.name})\n`);
    });
}
