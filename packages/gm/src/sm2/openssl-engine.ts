/**
 * The `openssl` SM2 engine (`YIZHENG_GM_ENGINE=openssl`): a thin wrapper over the N-API addon
 * `build/Release/yizheng_sm2.node` (source `native/sm2_addon.c`), which does the curve arithmetic with the
 * OpenSSL that Node bundles (EC_POINT_mul on NID_sm2, BN_* for the scalar arithmetic of GB/T 32918.2 clauses
 * 6.1 A3–A7 and 7.1 B1–B7). It was the first native engine; Yizheng's own engine (`native-engine.ts`) is now
 * the default, and this one stays for comparison and as a second independent implementation in tests.
 *
 * The addon is built by `scripts/build-native.cjs` during `npm ci` and may be missing (no compiler, or
 * `YIZHENG_SKIP_NATIVE=1`); {@link loadOpensslEngine} never throws and says why it is unavailable.
 */
import { createRequire } from 'node:module';
import { GmError, type GmErrorCode } from '../errors.js';
import type { PublicKeyCacheStats, Sm2Engine } from './engine.js';

/** Default capacity of the parsed-public-key LRU cache used by `verify`. */
const DEFAULT_PUBLIC_KEY_CACHE_SIZE = 1024;

const ADDON_NAME = 'yizheng_sm2.node';
/**
 * Relative to this module: `src/sm2/` (vitest, tsx) and `dist/sm2/` (compiled) both sit two levels below the
 * package root, where node-gyp writes `build/`. Release first; Debug for `node-gyp rebuild --debug`.
 */
const CANDIDATES = [`../../build/Release/${ADDON_NAME}`, `../../build/Debug/${ADDON_NAME}`] as const;

/** The functions of one addon context (see `native/sm2_addon.c`); they do not use `this`. */
interface AddonContext {
  readonly publicKeyFromPrivate: (d: Uint8Array) => Uint8Array;
  readonly sign: (e: Uint8Array, d: Uint8Array, k?: Uint8Array) => Uint8Array;
  readonly verify: (e: Uint8Array, rs: Uint8Array, publicKey: Uint8Array) => boolean;
  readonly multiply: (point: Uint8Array, k: Uint8Array) => Uint8Array;
  readonly cacheStats: () => PublicKeyCacheStats;
}

interface Addon {
  readonly opensslVersion: string;
  readonly createContext: (publicKeyCacheSize?: number) => AddonContext;
}

/** The OpenSSL-backed engine, plus a view of its public-key cache (for diagnostics and tests). */
export interface OpensslSm2Engine extends Sm2Engine {
  readonly name: 'openssl';
  publicKeyCacheStats(): PublicKeyCacheStats;
}

export interface OpensslEngineOptions {
  /** Capacity of the verify-side LRU cache of parsed public keys; 0 disables it. Default 1024. */
  publicKeyCacheSize?: number;
}

export type OpensslEngineLoad = { engine: OpensslSm2Engine } | { engine: undefined; reason: string };

/** Generator G of GB/T 32918.5 (uncompressed), for the load-time known-answer check 1·G = G. */
const G_HEX =
  '0432c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7' +
  'bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0';

const ADDON_CODES: ReadonlySet<string> = new Set<GmErrorCode>(['GM_INVALID_ARGUMENT', 'GM_INVALID_KEY']);

/**
 * Addon errors carry a `code`: GM_INVALID_ARGUMENT and GM_INVALID_KEY become {@link GmError}s with that code;
 * anything else (GM_NATIVE_FAILURE: OpenSSL could not allocate) is an internal fault and is rethrown as is.
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

function loadAddon(): { addon: Addon } | { addon: undefined; reason: string } {
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
      return { addon: require(path) as Addon };
    } catch (err) {
      failures.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length > 0)
    return { addon: undefined, reason: `the OpenSSL addon failed to load (${failures.join('; ')})` };
  return {
    addon: undefined,
    reason:
      `the OpenSSL addon is not built (no build/Release/${ADDON_NAME}; ` +
      'run `npm run build:native -w packages/gm`, which needs python3, make and a C compiler)',
  };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/**
 * Loads the addon and returns a native engine with its own BN_CTX and public-key cache, or the reason it is
 * unavailable. Never throws. Each call returns an independent engine; the addon itself is loaded once.
 */
export function loadOpensslEngine(options: OpensslEngineOptions = {}): OpensslEngineLoad {
  const loaded = loadAddon();
  if (!loaded.addon) return { engine: undefined, reason: loaded.reason };
  const addon = loaded.addon;
  let cx: AddonContext;
  try {
    cx = addon.createContext(options.publicKeyCacheSize ?? DEFAULT_PUBLIC_KEY_CACHE_SIZE);
    const one = new Uint8Array(32);
    one[31] = 1;
    if (hex(cx.publicKeyFromPrivate(one)) !== G_HEX) {
      return { engine: undefined, reason: 'the OpenSSL addon failed its self-test (1·G ≠ G)' };
    }
  } catch (err) {
    return {
      engine: undefined,
      reason: `the OpenSSL addon could not start: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const { publicKeyFromPrivate, sign, verify, multiply, cacheStats } = cx;
  const linked = addon.opensslVersion;
  const bundled = process.versions.openssl;
  const engine: OpensslSm2Engine = {
    name: 'openssl',
    description:
      `N-API addon over OpenSSL ${bundled}` + (linked.includes(bundled) ? '' : ` (linked: ${linked})`),
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
