/**
 * `yizheng app create|list|show|update|freeze|unfreeze|rotate-key` — third-party applications (第三方接入管理).
 * `create` and `rotate-key` generate an SM2 key pair unless `--pubkey` is given, and print the private key PEM
 * once (or write it to `--key-out` with mode 0600); the server stores only the public key.
 */
import type { Command } from 'commander';
import { applications } from '@yizheng/server';
import { UsageError, type Io } from '../cli-error.js';
import { readKeyFile, writeOutput } from '../files.js';
import { dataDirOption, withServices } from './server.js';

type Application = Awaited<ReturnType<typeof applications.getApplication>>;

function table(list: readonly Application[]): string {
  const rows = [
    ['ID', 'PROJECT', 'STATUS', 'KEY', 'RETENTION', 'NAME'],
    ...list.map((a) => [a.id, a.projectId, a.status, `v${a.keyVersion}`, `${a.retentionYears}y`, a.name]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') +
    '\n'
  );
}

function parseYears(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,3}$/.test(v) || Number(v) < 1)
    throw new UsageError('--retention-years must be a whole number of years ≥ 1');
  return Number(v);
}

function parseTags(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
}

async function showKey(
  io: Io,
  created: applications.CreatedApplication,
  keyOut: string | undefined,
): Promise<void> {
  const a = created.application;
  io.out(`application ${a.id} (project ${a.projectId}, key v${a.keyVersion})\n`);
  if (created.privateKeyPem === undefined) return;
  if (keyOut !== undefined) {
    await writeOutput(keyOut, created.privateKeyPem, 0o600);
    io.out(
      `private key written to ${keyOut} (mode 0600); it is not stored by Yizheng and cannot be shown again\n`,
    );
  } else {
    io.out('private key (shown once; not stored by Yizheng — keep it in the medical system):\n');
    io.out(created.privateKeyPem.endsWith('\n') ? created.privateKeyPem : `${created.privateKeyPem}\n`);
  }
}

export function registerApp(program: Command, io: Io): void {
  const cmd = program
    .command('app')
    .description('third-party applications (第三方应用): create, list, freeze, rotate keys');

  cmd
    .command('create')
    .description('register an application; generates its SM2 key pair unless --pubkey is given')
    .requiredOption('--project <project>', 'project id or number')
    .requiredOption('--name <name>', '接入名称')
    .option('--vendor <vendor>', '接入厂商名称')
    .option('--tags <a,b>', 'default tags, comma separated')
    .option('--retention-years <n>', 'storage duration in years (default 30)')
    .option('--pubkey <file>', "the application's own SM2 public key (PEM, DER or hex)")
    .option('--key-out <file>', 'write the generated private key here (mode 0600) instead of printing it')
    .option(...dataDirOption)
    .action(
      async (o: {
        project: string;
        name: string;
        vendor?: string;
        tags?: string;
        retentionYears?: string;
        pubkey?: string;
        keyOut?: string;
        dataDir?: string;
      }) => {
        const publicKey = o.pubkey === undefined ? undefined : await readKeyFile(io, o.pubkey, 'public key');
        const created = await withServices(o, (ctx) =>
          applications.createApplication({
            ctx,
            project: o.project,
            name: o.name,
            vendor: o.vendor,
            defaultTags: parseTags(o.tags),
            retentionYears: parseYears(o.retentionYears),
            publicKey,
          }),
        );
        await showKey(io, created, o.keyOut);
      },
    );

  cmd
    .command('list')
    .description('list applications')
    .option('--project <project>', 'project id or number')
    .option('--status <status>', 'active or frozen')
    .option('--name <text>', 'name contains')
    .option(...dataDirOption)
    .option('--json', 'print JSON (includes public keys)')
    .action(
      async (o: { project?: string; status?: string; name?: string; dataDir?: string; json?: boolean }) => {
        if (o.status !== undefined && o.status !== 'active' && o.status !== 'frozen')
          throw new UsageError('--status must be active or frozen');
        const status = o.status;
        const list = await withServices(o, (ctx) =>
          applications.listApplications({ ctx, project: o.project, status, name: o.name }),
        );
        io.out(o.json ? `${JSON.stringify(list, null, 2)}\n` : table(list));
      },
    );

  cmd
    .command('show')
    .description('show one application, with its public key')
    .argument('<id>', '接入编号')
    .option(...dataDirOption)
    .action(async (id: string, o: { dataDir?: string }) => {
      io.out(
        `${JSON.stringify(await withServices(o, (ctx) => applications.getApplication({ ctx, id })), null, 2)}\n`,
      );
    });

  cmd
    .command('update')
    .description('edit name, vendor, default tags or retention')
    .argument('<id>', '接入编号')
    .option('--name <name>')
    .option('--vendor <vendor>')
    .option('--tags <a,b>')
    .option('--retention-years <n>')
    .option(...dataDirOption)
    .action(
      async (
        id: string,
        o: { name?: string; vendor?: string; tags?: string; retentionYears?: string; dataDir?: string },
      ) => {
        const a = await withServices(o, (ctx) =>
          applications.updateApplication({
            ctx,
            id,
            name: o.name,
            vendor: o.vendor,
            defaultTags: parseTags(o.tags),
            retentionYears: parseYears(o.retentionYears),
          }),
        );
        io.out(`${JSON.stringify(a, null, 2)}\n`);
      },
    );

  for (const [name, st, what] of [
    ['freeze', 'frozen', '冻结: its API calls get 403'],
    ['unfreeze', 'active', '解冻'],
  ] as const) {
    cmd
      .command(name)
      .description(`${name} one or more applications (${what})`)
      .argument('<ids...>', '接入编号')
      .option(...dataDirOption)
      .action(async (ids: string[], o: { dataDir?: string }) => {
        io.out(
          table(await withServices(o, (ctx) => applications.setApplicationStatus({ ctx, ids, status: st }))),
        );
      });
  }

  cmd
    .command('rotate-key')
    .description(
      'replace the authentication key; requests signed with the old key are refused (AUTH_KEY_REVOKED)',
    )
    .argument('<id>', '接入编号')
    .option('--pubkey <file>', 'the new public key (else a pair is generated)')
    .option('--key-out <file>', 'write the generated private key here (mode 0600)')
    .option(...dataDirOption)
    .action(async (id: string, o: { pubkey?: string; keyOut?: string; dataDir?: string }) => {
      const publicKey = o.pubkey === undefined ? undefined : await readKeyFile(io, o.pubkey, 'public key');
      await showKey(
        io,
        await withServices(o, (ctx) => applications.rotateApplicationKey({ ctx, id, publicKey })),
        o.keyOut,
      );
    });
}
