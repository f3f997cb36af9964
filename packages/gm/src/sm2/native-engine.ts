/**
 * The `native` SM2 engine: Yizheng's own curve arithmetic in C, the N-API addon
 * `build/Release/yizheng_sm2_native.node` (sources `native/sm2p256.c`, `sm2_sign.c`, `sm3.c`,
 * `sm2_native_addon.c`; no OpenSSL). Verification is variable-time (public data only: Straus/wNAF over a
 * precomputed table of G and, for keys seen twice, a cached table of the key); key derivation, signing and
 * scalar multiplication are constant-time in the secret (a fixed-base comb and complete formulas with masked
 * table scans — checked under valgrind by `ct.test.ts`).
 *
 * It adds batch verification (many signatures per N-API call) and an asynchronous batch on the libuv thread
 * pool to the {@link Sm2Engine} contract. Nonces: the system CSPRNG (default) or RFC 6979 deterministic
 * nonces with HMAC-SM3 (`nonce: 'rfc6979'`).
 *
 * The addon is built by `scripts/build-native.cjs` during `npm ci` and may be missing (no compiler, or
 * `YIZHENG_SKIP_NATIVE=1`); {@link loadNativeEngine} never throws and says why it is unavailable.
 */
import { createRequire } from 'node:module';
import { GmError, type GmErrorCode } from '../errors.js';
import type { PublicKeyCacheStats, Sm2Engine } from './engine.js';

/** Default capacity of the validated-public-key LRU cache used by `verify`. */
export const DEFAULT_PUBLIC_KEY_CACHE_SIZE = 1024;

const ADDON_NAME = 'yizheng_sm2_native.node';
/** Relative to this module: `src/sm2/` and `dist/sm2/` both sit two levels below the package root. */
const CANDIDATES = [`../../build/Release/${ADDON_NAME}`, `../../build/Debug/${ADDON_NAME}`] as const;

/** How `sign` chooses k (GB/T 32918.2 clause 6.1 A3) when none is given. */
export type NonceMode = 'random' | 'rfc6979';

/** The functions of one addon context (see `native/sm2_native_addon.c`); they do not use `this`. */
interface AddonContext {
  readonly publicKeyFromPrivate: (d: Uint8Array) => Uint8Array;
  readonly sign: (e: Uint8Array, d: Uint8Array, k?: Uint8Array) => Uint8Array;
  readonly verify: (e: Uint8Array, rs: Uint8Array, publicKey: Uint8Array) => boolean;
  readonly verifyBatch: (e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array) => Uint8Array;
  readonly verifyBatchAsync: (e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array) => Promise<Uint8Array>;
  readonly multiply: (point: Uint8Array, k: Uint8Array) => Uint8Array;
  readonly cacheStats: () => PublicKeyCacheStats;
}

interface Addon {
  readonly version: string;
  readonly createContext: (publicKeyCacheSize?: number, nonce?: NonceMode) => AddonContext;
}

/** The native engine: batch and asynchronous verification are always present. */
export interface NativeSm2Engine extends Sm2Engine {
  readonly name: 'native';
  readonly nonce: NonceMode;
  verifyBatch(e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array): Uint8Array;
  verifyBatchAsync(e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array): Promise<Uint8Array>;
  publicKeyCacheStats(): PublicKeyCacheStats;
}

export interface NativeEngineOptions {
  /** Capacity of the LRU cache of validated public keys (with their tables, ~4.2 KB each); 0 disables it. At most 65536; default 1024. */
  publicKeyCacheSize?: number;
  /** Nonce source for `sign` without k. Default `random`. */
  nonce?: NonceMode;
}

export type NativeEngineLoad = { engine: NativeSm2Engine } | { engine: undefined; reason: string };

/** Generator G of GB/T 32918.5 (uncompressed), for the load-time known-answer check 1·G = G. */
const G_HEX =
  '0432c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7' +
  'bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0';

const ADDON_CODES: ReadonlySet<string> = new Set<GmErrorCode>(['GM_INVALID_ARGUMENT', 'GM_INVALID_KEY']);

/**
 * Addon errors carry a `code`: GM_INVALID_ARGUMENT and GM_INVALID_KEY become {@link GmError}s with that code;
 * anything else (GM_NATIVE_FAILURE: allocation or the OS random source failed) is an internal fault and is
 * rethrown as is.
 */
function wrapError(err: unknown): unknown {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && ADDON_CODES.has(code)) {
      return new GmError(code as GmErrorCode, err.message, { cause: err });
    }
  }
  return err;
}

let cachedAddon: { addon: Addon } | { addon: undefined; reason: string } | undefined;

function loadAddon(): { addon: Addon } | { addon: undefined; reason: string } {
  if (cachedAddon) return cachedAddon;
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const rel of CANDIDATES) {
    let path: string;
    try {
      path = require.resolve(rel);
    } catch {
      continue; // not built there
    }
    try {
      cachedAddon = { addon: require(path) as Addon };
      return cachedAddon;
    } catch (err) {
      failures.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  cachedAddon =
    failures.length > 0
      ? { addon: undefined, reason: `the native addon failed to load (${failures.join('; ')})` }
      : {
          addon: undefined,
          reason:
            `the native addon is not built (no build/Release/${ADDON_NAME}; ` +
            'run `npm run build:native -w packages/gm`, which needs python3, make and a C compiler)',
        };
  return cachedAddon;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/**
 * Loads the addon and returns a native engine with its own public-key cache, or the reason it is
 * unavailable. Never throws. Each call returns an independent engine; the addon itself is loaded once.
 */
export function loadNativeEngine(options: NativeEngineOptions = {}): NativeEngineLoad {
  const loaded = loadAddon();
  if (!loaded.addon) return { engine: undefined, reason: loaded.reason };
  const addon = loaded.addon;
  const nonce = options.nonce ?? 'random';
  let cx: AddonContext;
  try {
    cx = addon.createContext(options.publicKeyCacheSize ?? DEFAULT_PUBLIC_KEY_CACHE_SIZE, nonce);
    const one = new Uint8Array(32);
    one[31] = 1;
    if (hex(cx.publicKeyFromPrivate(one)) !== G_HEX) {
      return { engine: undefined, reason: 'the native addon failed its self-test (1·G ≠ G)' };
    }
  } catch (err) {
    return {
      engine: undefined,
      reason: `the native addon could not start: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const { publicKeyFromPrivate, sign, verify, verifyBatch, verifyBatchAsync, multiply, cacheStats } = cx;
  const engine: NativeSm2Engine = {
    name: 'native',
    description: `Yizheng C engine (${addon.version}; nonces: ${nonce === 'random' ? 'CSPRNG' : 'RFC 6979 HMAC-SM3'})`,
    nonce,
    publicKeyFromPrivate(d) {
      try {
        return publicKeyFromPrivate(d);
      } catch (err) {
        throw wrapError(err);
      }
    },
    sign(e, d, k) {
      try {
        return sign(e, d, k);
      } catch (err) {
        throw wrapError(err);
      }
    },
    verify(e, rs, publicKey) {
      try {
        return verify(e, rs, publicKey);
      } catch (err) {
        throw wrapError(err);
      }
    },
    verifyBatch(e, rs, publicKeys) {
      try {
        return verifyBatch(e, rs, publicKeys);
      } catch (err) {
        throw wrapError(err);
      }
    },
    async verifyBatchAsync(e, rs, publicKeys) {
      try {
        return await verifyBatchAsync(e, rs, publicKeys);
      } catch (err) {
        throw wrapError(err);
      }
    },
    multiply(point, k) {
      try {
        return multiply(point, k);
      } catch (err) {
        throw wrapError(err);
      }
    },
    publicKeyCacheStats: () => cacheStats(),
  };
  return { engine };
}
