/** Test support: runs `yizheng` in-process with its output captured (the tests' one way to call the CLI). */
import { run } from './program.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI with `argv`; `stdin` is what the command reads from standard input (empty by default). */
export async function runCli(
  argv: readonly string[],
  stdin: () => Uint8Array = () => new Uint8Array(),
): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await run([...argv], {
    out: (s) => (out += s),
    err: (s) => (err += s),
    stdin: () => Promise.resolve(stdin()),
  });
  return { code, out, err };
}

/** `runCli` with an empty standard input. */
export function cli(...argv: string[]): Promise<CliResult> {
  return runCli(argv);
}
