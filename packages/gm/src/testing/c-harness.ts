/**
 * Builds a C test harness from `native/` sources with the system compiler (`$CC`, else `cc`) into a temporary
 * directory and runs it: the white-box tests (impl-diff, sm3-paths) that include a native source to reach its
 * static functions. The run must exit 0, write nothing to stderr and print `success` on stdout.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';

/** AddressSanitizer and UBSan, stopping at the first report, with frame pointers (fewest free registers). */
export const SANITIZE_FLAGS: readonly string[] = [
  '-O1',
  '-fno-omit-frame-pointer',
  '-fsanitize=address,undefined',
  '-fno-sanitize-recover=all',
];

/** The absolute path of `native/<relative>`. */
export const nativeSource = (relative: string): string =>
  fileURLToPath(new URL(`../../native/${relative}`, import.meta.url));

/** A builder for one test file: its executables go to one temporary directory, removed after the file. */
export function cHarness(
  prefix: string,
): (options: {
  name: string;
  sources: readonly string[];
  flags: readonly string[];
  args: readonly string[];
  success: RegExp;
}) => void {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return ({ name, sources, flags, args, success }) => {
    const exe = join(dir, name);
    const cc = process.env.CC ?? 'cc';
    const b = spawnSync(cc, [...flags, '-std=c11', '-o', exe, ...sources, '-lpthread'], { encoding: 'utf8' });
    if (b.error) throw new Error(`cannot run the C compiler ${cc}: ${b.error.message}`);
    expect(b.status, b.stderr).toBe(0);
    const r = spawnSync(exe, [...args], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(success);
    expect(r.status).toBe(0);
  };
}
