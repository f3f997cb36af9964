/**
 * Constant-time check of the native engine (the ctgrind/timecop technique): `native/test/ct_harness.c`
 * marks the private key and the nonce undefined with VALGRIND_MAKE_MEM_UNDEFINED and calls key derivation,
 * signing (given k, RFC 6979 and CSPRNG nonces) and the scalar multiplication of decryption; memcheck then
 * reports any conditional jump or memory address that depends on them. Built with the addon's optimisation
 * level (-O3) and at -O2, since the compiler decides what becomes a branch; on a CPU with BMI2/ADX also on
 * the assembly field arithmetic (forced: valgrind hides ADX from CPUID). A control run branches on the
 * secret on purpose and must be reported, so a silently broken check cannot pass.
 *
 * Needs a C compiler and valgrind (CI installs it); skipped only with YIZHENG_SKIP_NATIVE=1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hostHasAdx, skipNative } from '../testing/engines.js';

const native = (p: string): string => fileURLToPath(new URL(`../../native/${p}`, import.meta.url));
const SOURCES = ['test/ct_harness.c', 'sm2p256.c', 'sm2_sign.c', 'sm3.c'].map(native);
const tmp = mkdtempSync(join(tmpdir(), 'yz-ct-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const built = new Map<string, string>();
function build(opt: string): string {
  const done = built.get(opt);
  if (done !== undefined) return done;
  const out = join(tmp, `ct_harness${opt}`);
  const cc = process.env.CC ?? 'cc';
  const r = spawnSync(cc, [opt, '-g', '-std=c11', '-DSM2_CT_VALGRIND', '-o', out, ...SOURCES, '-lpthread'], {
    encoding: 'utf8',
  });
  if (r.error) throw new Error(`cannot run the C compiler ${cc}: ${r.error.message}`);
  expect(r.status, r.stderr).toBe(0);
  built.set(opt, out);
  return out;
}

function valgrind(exe: string, ...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('valgrind', ['-q', '--error-exitcode=1', '--track-origins=yes', exe, ...args], {
    encoding: 'utf8',
  });
  if (r.error)
    throw new Error(`valgrind is required by this test (apt-get install valgrind): ${r.error.message}`);
  return { status: r.status, stderr: r.stderr };
}

describe.skipIf(skipNative)('native SM2: constant time in the private key and the nonce (valgrind)', () => {
  for (const opt of ['-O3', '-O2']) {
    it(`sign, key derivation and decryption's [d]C1 have no secret-dependent branch or index (${opt})`, () => {
      const r = valgrind(build(opt));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  for (const opt of ['-O3', '-O2']) {
    it.skipIf(!hostHasAdx)(`the same on the BMI2/ADX assembly path (${opt})`, () => {
      const r = valgrind(build(opt), 'adx');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it('the check reports a secret-dependent branch (control)', () => {
    const r = valgrind(build('-O2'), 'leak');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Conditional jump or move depends on uninitialised value/);
  });
});
