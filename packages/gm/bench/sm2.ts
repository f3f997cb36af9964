/**
 * SM2 sign/verify throughput, one core, per engine, against `openssl speed sm2` measured in the same run.
 * - verify (cached key): the same signer verified repeatedly (an imported key object reused);
 * - verify (key per call): the signer's SPKI parsed and validated on every call;
 * - sign.
 * Prints one JSON line per figure: {"bench","ours","reference","ratio"}.
 */
import { createSm3 } from '../src/node/sm3.js';
import { createJsEngine } from '../src/sm2/js-engine.js';
import { loadNativeEngine } from '../src/sm2/native-engine.js';
import { createSm2 } from '../src/sm2/sm2.js';
import type { Sm2Engine } from '../src/sm2/engine.js';
import { opensslSm2Speed, opsPerSecond, report, type BenchResult } from './measure.js';

export function benchSm2(seconds = 2): BenchResult[] {
  const ref = opensslSm2Speed(3);
  const engines: Sm2Engine[] = [createJsEngine()];
  const native = loadNativeEngine();
  if (native.engine) engines.unshift(native.engine);
  else console.error(`native engine unavailable: ${native.reason}`);

  const results: BenchResult[] = [];
  for (const engine of engines) {
    const sm2 = createSm2({ engine, hash: createSm3 });
    const { privateKey, publicKey } = sm2.generateKeyPair();
    const spki = publicKey.toSpki();
    const msg = new TextEncoder().encode('住院病历 — 医师签名原文 '.repeat(4));
    const sig = sm2.sign(privateKey, msg);
    if (!sm2.verify(publicKey, msg, sig)) throw new Error(`${engine.name}: self-check failed`);

    const cached = opsPerSecond(() => sm2.verify(publicKey, msg, sig), seconds);
    results.push(report(`sm2-verify-${engine.name}-cached-key`, cached, ref.verify));
    const perCall = opsPerSecond(() => sm2.verify(sm2.importPublicKey(spki), msg, sig), seconds);
    results.push(report(`sm2-verify-${engine.name}-key-per-call`, perCall, ref.verify));
    const sign = opsPerSecond(() => sm2.sign(privateKey, msg), seconds);
    results.push(report(`sm2-sign-${engine.name}`, sign, ref.sign));
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of benchSm2()) console.log(JSON.stringify(r));
}
