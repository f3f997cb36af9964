/**
 * Test support: a scratch directory and an `openssl` CLI runner working in it, for the tests that make
 * artefacts with the openssl CLI (the package's proof against an independent implementation). Not exported
 * from the testing index: tests import it directly.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslWorkdir {
  /** The scratch directory (a fresh one under the system temp directory). */
  readonly dir: string;
  /** `file` inside the scratch directory. */
  readonly path: (file: string) => string;
  /** Runs `openssl args…` in the scratch directory; throws (with openssl's stderr) when it fails. */
  readonly run: (...args: string[]) => void;
  /** As {@link run}, returning stdout as UTF-8. */
  readonly output: (...args: string[]) => string;
  /** The bytes of `file` in the scratch directory. */
  readonly read: (file: string) => Uint8Array;
}

export function opensslWorkdir(prefix: string): OpensslWorkdir {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const exec = (args: string[]): string =>
    execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    dir,
    path: (file) => join(dir, file),
    run: (...args) => {
      exec(args);
    },
    output: (...args) => exec(args),
    read: (file) => new Uint8Array(readFileSync(join(dir, file))),
  };
}
