/**
 * The native SM3's three compression paths give identical results: `native/test/sm3_diff.c` includes sm3.c
 * and runs the portable C, the BMI2 build of the same source and the AVX message-expansion path on random
 * chaining values and messages of 1–9 blocks (aligned and odd addresses), bit for bit, then checks the
 * GB/T 32905-2016 Appendix A digests. Built at -O3 (the addon's level) and under AddressSanitizer/UBSan.
 * The addon uses the AVX path where the CPU has AVX and BMI2; the agreement with node:crypto on every length
 * (sm3.test.ts) covers it end to end.
 *
 * Runs where the CPU has AVX and BMI2 (x86-64); skipped with YIZHENG_SKIP_NATIVE=1.
 */
import { describe, it } from 'vitest';
import { SANITIZE_FLAGS, cHarness, nativeSource } from './testing/c-harness.js';
import { hostHasAvxBmi2, skipNative } from './testing/engines.js';

const harness = cHarness('yz-sm3-');

function buildAndRun(name: string, flags: readonly string[], iterations: number): void {
  harness({
    name,
    sources: [nativeSource('test/sm3_diff.c')],
    flags,
    args: [String(iterations), '20261203'],
    success: /paths agree/,
  });
}

describe.skipIf(skipNative || !hostHasAvxBmi2)('native SM3: AVX expansion = BMI2 = portable C', () => {
  it('every path gives the same chaining value (-O3)', () => {
    buildAndRun('sm3_diff', ['-O3'], 200_000);
  });

  it('the same under ASan/UBSan', () => {
    buildAndRun('sm3_diff_asan', SANITIZE_FLAGS, 20_000);
  });
});
