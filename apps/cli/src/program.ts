import { Command, CommanderError } from 'commander';
import { GmError } from '@yizheng/gm';
import { EXIT, UsageError, type Io } from './cli-error.js';
import { registerAdmin } from './commands/admin.js';
import { registerApp } from './commands/app.js';
import { registerEngines } from './commands/engines.js';
import { registerProject } from './commands/project.js';
import { registerServer } from './commands/server.js';
import { registerSm2 } from './commands/sm2.js';
import { registerSm3 } from './commands/sm3.js';
import { registerSm4 } from './commands/sm4.js';
import { registerCert } from './commands/cert.js';
import { registerCms } from './commands/cms.js';
import { registerTs } from './commands/ts.js';
import { registerTsa } from './commands/tsa.js';
import { registerJobs } from './commands/jobs.js';
import { registerMigrateHistory } from './commands/migrate-history.js';
import { registerStrategy } from './commands/strategy.js';
import { registerVerify } from './commands/verify.js';
import { registerStats } from './commands/stats.js';
import { registerDemo } from './commands/demo.js';

export const VERSION = '0.1.0';

function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('yizheng')
    .description('医证 Yizheng — trust platform for hospital electronic-signature evidence')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError();

  registerServer(program, io);
  registerProject(program, io);
  registerApp(program, io);
  registerAdmin(program, io, setExit);
  registerEngines(program, io);
  registerSm3(program, io);
  registerSm2(program, io, setExit);
  registerSm4(program, io, setExit);
  registerCert(program, io, setExit);
  registerCms(program, io, setExit);
  registerTs(program, io, setExit);
  registerTsa(program, io);
  registerJobs(program, io, setExit);
  registerMigrateHistory(program, io);
  registerStrategy(program, io);
  registerVerify(program, io, setExit);
  registerStats(program, io);
  registerDemo(program, io);
  return program;
}

/** Runs the CLI in-process and resolves to the exit code (0 ok/valid, 1 invalid, 2 usage or input error). */
export async function run(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; every parse error is a usage error.
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (e instanceof UsageError) {
      io.err(`yizheng: ${e.message}\n`);
      return EXIT.USAGE;
    }
    if (e instanceof GmError) {
      io.err(`yizheng: ${e.code}: ${e.message}\n`);
      return EXIT.USAGE;
    }
    throw e;
  }
}
