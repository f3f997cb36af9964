/**
 * `yizheng admin create|reset-password` — bootstrap console users (the first administrator) from the server's
 * machine, and `yizheng audit verify` — the integrity check of the hash-chained operation and API logs.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { adminUsers, ensureBuiltinRoles, verifyApiLogChain, verifyChain } from '@yizheng/server';
import { EXIT, UsageError, type Io } from '../cli-error.js';
import { dataDirOption, withServices } from './server.js';

function readCert(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

export function registerAdmin(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program.command('admin').description('console users (管理控制台用户): bootstrap and recovery');

  cmd
    .command('create')
    .description(
      'create a console user and print a one-time password (the first administrator, for instance)',
    )
    .requiredOption('--username <name>', 'user name')
    .requiredOption(
      '--role <role>',
      'administrator, operator, auditor or a custom role',
      (v, prev: string[]) => [...prev, v],
      [],
    )
    .option('--cert <file>', 'login certificate (PEM) to bind')
    .option('--display-name <name>', '姓名')
    .option(
      '--project <ref>',
      'assigned project (operators); repeatable',
      (v, prev: string[]) => [...prev, v],
      [],
    )
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(
      async (o: {
        username: string;
        role: string[];
        cert?: string;
        displayName?: string;
        project: string[];
        dataDir?: string;
        json?: boolean;
      }) => {
        const certificate = readCert(o.cert);
        const created = await withServices(o, async (ctx) => {
          await ensureBuiltinRoles({ db: ctx.db, now: ctx.now() });
          return adminUsers.createUser({
            ctx,
            username: o.username,
            displayName: o.displayName,
            roles: o.role,
            projects: o.project,
            certificate,
          });
        });
        if (o.json) io.out(`${JSON.stringify(created, null, 2)}\n`);
        else
          io.out(
            `created ${created.user.username} (${created.user.id}), roles ${created.user.roles.map((r) => r.name).join(', ')}\n` +
              `one-time password (shown once, change it at first login): ${created.oneTimePassword ?? '-'}\n`,
          );
      },
    );

  cmd
    .command('reset-password')
    .description('issue a new one-time password (also clears a lockout)')
    .requiredOption('--username <name>', 'user name')
    .option(...dataDirOption)
    .action(async (o: { username: string; dataDir?: string }) => {
      const r = await withServices(o, (ctx) => adminUsers.resetPassword({ ctx, ref: o.username }));
      io.out(`one-time password for ${r.user.username} (shown once): ${r.oneTimePassword}\n`);
    });

  program
    .command('audit')
    .description('audit logs (审计日志)')
    .command('verify')
    .description('recompute the hash chains of the operation log and the API log; exit 1 when one is broken')
    .option(...dataDirOption)
    .option('--json', 'print JSON')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const verdicts = await withServices(o, async (ctx) => ({
        operationLog: await verifyChain({ db: ctx.db, table: 'operation_logs' }),
        // Across `api_logs` and the write buffer's period tables (api_log_YYYYMM).
        apiLog: await verifyApiLogChain({ db: ctx.db }),
      }));
      if (o.json) io.out(`${JSON.stringify(verdicts, null, 2)}\n`);
      else
        for (const [name, v] of Object.entries(verdicts))
          io.out(
            v.ok
              ? `${name}: intact, ${v.count} entries, head ${v.head}\n`
              : `${name}: BROKEN at seq ${v.seq} (${v.reason}) after ${v.count} good entries\n`,
          );
      if (!verdicts.operationLog.ok || !verdicts.apiLog.ok) setExit(EXIT.INVALID);
    });
}
