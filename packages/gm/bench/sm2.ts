/**
 * SM2 throughput, one core, against references measured in the same run: `openssl speed -seconds 3 sm2`
 * and `openssl speed -seconds 3 ecdsap256` (OpenSSL's tuned P-256), and the native engine's own C-level
 * rate (bench/native/sm2_bench.c, compiled here with the addon's -O3) for the N-API batch.
 *
 * Rates divide by process CPU time, as `openssl speed` does, so other work on a shared machine does not
 * count against either side (it still disturbs caches: figures on a busy machine are noisy).
 *
 * What `openssl speed ecdsap256` verify does per operation: ECDSA_verify of a DER signature over a fixed
 * 20-byte digest with one already-decoded key (no message hashing; P-256 has no per-key hash like Z_A; the
 * x86-64 nistz256 assembly, with a precomputed table for G only).
 *
 * Engine level (e precomputed: the curve part only; `openssl speed sm2` also hashes Z ‖ M with SM3 on each
 * operation, a few µs of its ~300 µs):
 *   sm2-verify-native            native verify, same signer (cached key table) / openssl speed sm2 verify
 *   sm2-verify-native-vs-p256    the same / openssl speed ecdsap256 verify
 *   sm2-verify-native-new-key    a key not seen before on every call (no table) / openssl sm2 verify:
 *                                cache size 0, so point decoding + on-curve check + verify, no Z_A
 *   sm2-verify-native-first-seen-vs-p256   (the last line) the "verify with a first-seen public key"
 *                                target: all the work SM2 needs for a signer it has not seen, per operation:
 *                                Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ G ‖ P_A) for the default ID (native
 *                                computeZ, one N-API call, the ID's two constant blocks pre-absorbed),
 *                                e = SM3(Z_A ‖ M) for a 32-byte M (the package's one-shot SM3 on
 *                                node:crypto, as Sm2.computeDigest), and
 *                                verify(e, r‖s, P_A) through N-API on the default engine (cache 1024) over
 *                                2048 distinct keys in turn, so every call misses the cache: point decoding,
 *                                on-curve check, LRU insertion with eviction, no per-key table, Straus/wNAF
 *                                with P's odd multiples built per call. Not included (as on the P-256 side):
 *                                DER and SPKI decoding. Reference: the mean of ecdsap256 verify measured
 *                                right before and right after (load on a shared machine drifts).
 *   sm2-sign-native              native sign (CSPRNG nonces) / openssl speed sm2 sign
 *   sm2-verify-native-batch      verifyBatch of 1024 through N-API / the C-level rate, same key state
 *   sm2-verify-native-async-2t   verifyBatchAsync on the pool (2 chunks in flight), wall-clock rate / C rate
 * API level (`Sm2.verify`/`sign`: DER decoding, Z cached per key object, e = SM3(Z ‖ M) in TypeScript):
 *   sm2-api-verify-<engine>, sm2-api-sign-<engine> / openssl speed sm2
 * Prints one JSON line per figure: {"bench","ours","reference","ratio"}.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSm3, sm3 } from '../src/node/sm3.js';
import type { Sm2Engine } from '../src/sm2/engine.js';
import { createJsEngine } from '../src/sm2/js-engine.js';
import {
  DEFAULT_PUBLIC_KEY_CACHE_SIZE,
  loadNativeEngine,
  type NativeSm2Engine,
} from '../src/sm2/native-engine.js';
import { loadOpensslEngine } from '../src/sm2/openssl-engine.js';
import { createSm2 } from '../src/sm2/sm2.js';
import {
  cpuOpsPerSecond,
  opensslEcdsaP256Speed,
  opensslSm2Speed,
  report,
  type BenchResult,
} from './measure.js';

interface CRates {
  verify_cached: number;
  verify_uncached: number;
  /** A repeat signer (key prepared once, as the addon's context keeps the last key). */
  sign: number;
  /** The key prepared for every signature. */
  sign_new_key: number;
  derive: number;
}

/** Compiles and runs bench/native/sm2_bench.c (same sources and -O3 as the addon). */
function cLevelRates(seconds: number): CRates {
  const dir = mkdtempSync(join(tmpdir(), 'yz-sm2-bench-'));
  try {
    const native = (p: string): string => fileURLToPath(new URL(`../native/${p}`, import.meta.url));
    const exe = join(dir, 'sm2_bench');
    execFileSync(process.env.CC ?? 'cc', [
      '-O3',
      '-std=c11',
      '-o',
      exe,
      fileURLToPath(new URL('native/sm2_bench.c', import.meta.url)),
      native('sm2p256.c'),
      native('sm2_sign.c'),
      native('sm3.c'),
      '-lpthread',
    ]);
    return JSON.parse(execFileSync(exe, [String(seconds)], { encoding: 'utf8' })) as CRates;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Verifications per CPU second for signers the engine has never seen (see the header): 2048 distinct keys,
 * twice the default cache capacity, visited in turn, so each call misses the LRU and evicts.
 */
function firstSeenVerifyRate(native: NativeSm2Engine, seconds: number): number {
  const KEYS = 2 * DEFAULT_PUBLIC_KEY_CACHE_SIZE;
  const id = new TextEncoder().encode('1234567812345678');
  const m = new Uint8Array(32).fill(0x5a);
  const digestOf = (pub: Uint8Array): Uint8Array => {
    const zm = new Uint8Array(64); // as Sm2.computeDigest does with the one-shot hash
    zm.set(native.computeZ(pub, id));
    zm.set(m, 32);
    return sm3(zm);
  };
  const pubs: Uint8Array[] = [];
  const sigs: Uint8Array[] = [];
  for (let i = 0; i < KEYS; i++) {
    const d = createSm3()
      .update(Uint8Array.of(i >> 8, i & 0xff))
      .digest();
    d[0] = 0x11; // < n - 2
    const pub = native.publicKeyFromPrivate(d);
    pubs.push(pub);
    sigs.push(native.sign(digestOf(pub), d));
  }
  let i = 0;
  let failed = 0;
  const before = native.publicKeyCacheStats();
  const rate = cpuOpsPerSecond(() => {
    const pub = pubs[i]!;
    if (!native.verify(digestOf(pub), sigs[i]!, pub)) failed++;
    i = (i + 1) % KEYS;
  }, seconds);
  const after = native.publicKeyCacheStats();
  if (failed > 0) throw new Error('first-seen verify: a signature did not verify');
  if (after.hits !== before.hits) throw new Error('first-seen verify: a key was found in the cache');
  return rate;
}

function sampleSignature(engine: Sm2Engine): {
  e: Uint8Array;
  rs: Uint8Array;
  pub: Uint8Array;
  d: Uint8Array;
} {
  const d = new Uint8Array(32).fill(0x11);
  const e = new Uint8Array(32).fill(0x22);
  const pub = engine.publicKeyFromPrivate(d);
  const rs = engine.sign(e, d);
  if (!engine.verify(e, rs, pub)) throw new Error(`${engine.name}: self-check failed`);
  return { e, rs, pub, d };
}

export async function benchSm2(seconds = 2): Promise<BenchResult[]> {
  const sm2Ref = opensslSm2Speed(3);
  const p256Ref = opensslEcdsaP256Speed(3);
  const results: BenchResult[] = [];
  const last: BenchResult[] = [];

  const loaded = loadNativeEngine();
  if (loaded.engine) {
    const native = loaded.engine;
    const c = cLevelRates(seconds);
    const { e, rs, pub, d } = sampleSignature(native);
    native.verify(e, rs, pub); // second use: the key's table is built
    const verify = cpuOpsPerSecond(() => native.verify(e, rs, pub), seconds);
    results.push(report('sm2-verify-native', verify, sm2Ref.verify));
    results.push(report('sm2-verify-native-vs-p256', verify, p256Ref.verify));

    // A signer never seen before on every call: a cache of size 0 parses and validates the key each time.
    const cold = loadNativeEngine({ publicKeyCacheSize: 0 }).engine;
    if (cold) {
      const newKey = cpuOpsPerSecond(() => cold.verify(e, rs, pub), seconds);
      results.push(report('sm2-verify-native-new-key', newKey, sm2Ref.verify));
      results.push(report('sm2-verify-native-new-key-vs-c', newKey, c.verify_uncached));
    }
    const p256Before = opensslEcdsaP256Speed(3).verify;
    const rate = firstSeenVerifyRate(native, seconds);
    const p256After = opensslEcdsaP256Speed(3).verify;
    last.push(report('sm2-verify-native-first-seen-vs-p256', rate, (p256Before + p256After) / 2));
    const sign = cpuOpsPerSecond(() => native.sign(e, d), seconds);
    results.push(report('sm2-sign-native', sign, sm2Ref.sign));
    results.push(report('sm2-sign-native-vs-c', sign, c.sign));
    // A signer other than the last one on every call: the addon prepares the key each time.
    const keys = [d, Uint8Array.from(d, (b, i) => (i === 31 ? b ^ 1 : b))];
    let turn = 0;
    const alternating = cpuOpsPerSecond(() => native.sign(e, keys[turn++ & 1]!), seconds);
    results.push(report('sm2-sign-native-new-key-vs-c', alternating, c.sign_new_key));

    const BATCH = 1024;
    const es = new Uint8Array(BATCH * 32);
    const rss = new Uint8Array(BATCH * 64);
    const pubs = new Uint8Array(BATCH * 65);
    for (let i = 0; i < BATCH; i++) {
      es.set(e, i * 32);
      rss.set(rs, i * 64);
      pubs.set(pub, i * 65);
    }
    const batches = cpuOpsPerSecond(() => {
      if (native.verifyBatch(es, rss, pubs)[BATCH - 1] !== 1) throw new Error('batch self-check failed');
    }, seconds);
    results.push(report('sm2-verify-native-batch', batches * BATCH, c.verify_cached));

    // Two batches in flight on the libuv pool (this machine has two cores): wall-clock rate.
    const start = performance.now();
    let done = 0;
    while (performance.now() - start < seconds * 1000) {
      await Promise.all([native.verifyBatchAsync(es, rss, pubs), native.verifyBatchAsync(es, rss, pubs)]);
      done += 2 * BATCH;
    }
    const asyncRate = (done * 1000) / (performance.now() - start);
    results.push(report('sm2-verify-native-async-2t', asyncRate, c.verify_cached));
  } else {
    console.error(`native engine unavailable: ${loaded.reason}`);
  }

  const engines: Sm2Engine[] = [];
  if (loaded.engine) engines.push(loaded.engine);
  const openssl = loadOpensslEngine();
  if (openssl.engine) engines.push(openssl.engine);
  else console.error(`openssl engine unavailable: ${openssl.reason}`);
  engines.push(createJsEngine());
  for (const engine of engines) {
    const sm2 = createSm2({ engine, hash: createSm3, hashOneShot: sm3 });
    const { privateKey, publicKey } = sm2.generateKeyPair();
    const msg = new TextEncoder().encode('住院病历 — 医师签名原文 '.repeat(4));
    const sig = sm2.sign(privateKey, msg);
    if (!sm2.verify(publicKey, msg, sig)) throw new Error(`${engine.name}: self-check failed`);
    const s = engine.name === 'js' ? Math.min(seconds, 1) : seconds;
    results.push(
      report(
        `sm2-api-verify-${engine.name}`,
        cpuOpsPerSecond(() => sm2.verify(publicKey, msg, sig), s),
        sm2Ref.verify,
      ),
    );
    results.push(
      report(
        `sm2-api-sign-${engine.name}`,
        cpuOpsPerSecond(() => sm2.sign(privateKey, msg), s),
        sm2Ref.sign,
      ),
    );
  }
  return [...results, ...last];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchSm2()) console.log(JSON.stringify(r));
}
