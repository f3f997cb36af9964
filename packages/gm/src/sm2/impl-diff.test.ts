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
import { describe, expect, it } from 'vitest';
import { SANITIZE_FLAGS, cHarness, nativeSource as native } from '../testing/c-harness.js';
import { hostHasAdx, skipNative } from '../testing/engines.js';

const SOURCES = ['test/impl_diff.c', 'sm2_sign.c', 'sm3.c'].map(native);
const harness = cHarness('yz-impl-');

function buildAndRun(name: string, flags: readonly string[], iterations: number): void {
  harness({ name, sources: SOURCES, flags, args: [String(iterations), '20261202'], success: /paths agree/ });
}

describe.skipIf(skipNative || !hostHasAdx)('native SM2: BMI2/ADX assembly = portable C', () => {
  it('field operations and the protocol functions agree (-O3)', () => {
    buildAndRun('impl_diff', ['-O3'], 50_000);
  });

  it('the same under ASan/UBSan with frame pointers', () => {
    buildAndRun('impl_diff_asan', SANITIZE_FLAGS, 5_000);
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
