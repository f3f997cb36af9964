/**
 * The native engine's two field-arithmetic paths give identical results: `native/test/impl_diff.c` includes
 * sm2p256.c and runs every field operation on edge values, random values and values made of edge words, then
 * key derivation, signing, verification (with and without the key's table) and [k]Q, on the portable C and
 * on the BMI2/ADX assembly, comparing bit for bit (and against the GB/T 32918.5 Annex A signature). Built
 * at -O3 (the addon's level) and under AddressSanitizer/UBSan with frame pointers (fewest free registers
 * for the assembly's operands). The addon's own path is reported in its version string; the environment
 * variable YIZHENG_SM2_PORTABLE=1 selects the portable path at load.
 *
 * Runs where the CPU has BMI2 and ADX (x86-64); skipped with YIZHENG_SKIP_NATIVE=1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hostHasAdx, skipNative } from '../testing/engines.js';

const native = (p: string): string => fileURLToPath(new URL(`../../native/${p}`, import.meta.url));
const SOURCES = ['test/impl_diff.c', 'sm2_sign.c', 'sm3.c'].map(native);
const tmp = mkdtempSync(join(tmpdir(), 'yz-impl-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function buildAndRun(name: string, flags: string[], iterations: number): void {
  const exe = join(tmp, name);
  const cc = process.env.CC ?? 'cc';
  const b = spawnSync(cc, [...flags, '-std=c11', '-o', exe, ...SOURCES, '-lpthread'], { encoding: 'utf8' });
  if (b.error) throw new Error(`cannot run the C compiler ${cc}: ${b.error.message}`);
  expect(b.status, b.stderr).toBe(0);
  const r = spawnSync(exe, [String(iterations), '20261202'], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/paths agree/);
}

describe.skipIf(skipNative || !hostHasAdx)('native SM2: BMI2/ADX assembly = portable C', () => {
  it('field operations and the protocol functions agree (-O3)', () => {
    buildAndRun('impl_diff', ['-O3'], 50_000);
  });

  it('the same under ASan/UBSan with frame pointers', () => {
    buildAndRun(
      'impl_diff_asan',
      ['-O1', '-fno-omit-frame-pointer', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'],
      5_000,
    );
  });

  it('the addon reports its path and YIZHENG_SM2_PORTABLE=1 selects the portable one', () => {
    const addon = native('../build/Release/yizheng_sm2_native.node');
    const script = `process.stdout.write(require(${JSON.stringify(addon)}).version)`;
    const run = (env: NodeJS.ProcessEnv): string =>
      spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...env } })
        .stdout;
    expect(run({ YIZHENG_SM2_PORTABLE: '' })).toMatch(/BMI2\/ADX assembly/);
    expect(run({ YIZHENG_SM2_PORTABLE: '1' })).toMatch(/portable C/);
  });
});
