/** Test support: an SM2 instance per engine. The native engine is required unless YIZHENG_SKIP_NATIVE=1. */
import { readFileSync } from 'node:fs';
import { createSm3, sm3 } from '../node/sm3.js';
import { createSm3 as createSm3Js } from '../symmetric.js';
import type { Sm2Engine } from '../sm2/engine.js';
import { createJsEngine } from '../sm2/js-engine.js';
import { loadNativeEngine } from '../sm2/native-engine.js';
import { loadOpensslEngine } from '../sm2/openssl-engine.js';
import { createSm2 } from '../sm2/sm2.js';

export const skipNative = process.env.YIZHENG_SKIP_NATIVE === '1';

/** Whether this x86-64 Linux host's CPU has all these flags (the `flags` line of /proc/cpuinfo). */
function hasCpuFlags(...wanted: string[]): boolean {
  if (process.arch !== 'x64') return false;
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [];
    return wanted.every((f) => flags.includes(f));
  } catch {
    return false;
  }
}

/**
 * Whether this host's CPU has BMI2 and ADX, i.e. whether the native engine's assembly field arithmetic can
 * run here (x86-64 Linux: the `flags` line of /proc/cpuinfo). Tests of that path run only where it can.
 */
export const hostHasAdx: boolean = hasCpuFlags('bmi2', 'adx');

/** Whether this host's CPU has AVX and BMI2: where the native SM3 expands messages on the vector unit. */
export const hostHasAvxBmi2: boolean = hasCpuFlags('avx', 'bmi2');

export function nativeEngine(): Sm2Engine {
  const r = loadNativeEngine();
  if (!r.engine)
    throw new Error(`native engine required by the tests (set YIZHENG_SKIP_NATIVE=1 to skip): ${r.reason}`);
  return r.engine;
}

/** The OpenSSL-backed addon engine (built by the same `npm ci`); required unless YIZHENG_SKIP_NATIVE=1. */
export function opensslEngine(): Sm2Engine {
  const r = loadOpensslEngine();
  if (!r.engine)
    throw new Error(`openssl engine required by the tests (set YIZHENG_SKIP_NATIVE=1 to skip): ${r.reason}`);
  return r.engine;
}

export type TestSm2 = ReturnType<typeof createSm2>;

/** [label, instance] pairs: native, openssl (node SM3), js+node SM3, js+pure SM3 (the browser configuration). */
export function sm2Instances(): [string, TestSm2][] {
  const list: [string, TestSm2][] = [
    ['js', createSm2({ engine: createJsEngine(), hash: createSm3 })],
    ['js+pure-sm3', createSm2({ engine: createJsEngine(), hash: createSm3Js })],
  ];
  if (!skipNative) {
    list.unshift(
      ['native', createSm2({ engine: nativeEngine(), hash: createSm3, hashOneShot: sm3 })],
      ['openssl', createSm2({ engine: opensslEngine(), hash: createSm3 })],
    );
  }
  return list;
}
