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
import { guarded, loadAddon, startContext } from './addon.js';
import type { PublicKeyCacheStats, Sm2Engine } from './engine.js';

/** Default capacity of the parsed-public-key LRU cache used by `verify`. */
const DEFAULT_PUBLIC_KEY_CACHE_SIZE = 1024;

const ADDON_FILE = 'yizheng_sm2.node';

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

/**
 * Loads the addon and returns a native engine with its own BN_CTX and public-key cache, or the reason it is
 * unavailable. Never throws. Each call returns an independent engine; the addon itself is loaded once.
 */
export function loadOpensslEngine(options: OpensslEngineOptions = {}): OpensslEngineLoad {
  const loaded = loadAddon<Addon>(ADDON_FILE, 'OpenSSL addon');
  if (!loaded.addon) return { engine: undefined, reason: loaded.reason };
  const addon = loaded.addon;
  const started = startContext(
    () => addon.createContext(options.publicKeyCacheSize ?? DEFAULT_PUBLIC_KEY_CACHE_SIZE),
    'OpenSSL addon',
  );
  if (!started.cx) return { engine: undefined, reason: started.reason };
  const cx = started.cx;
  const linked = addon.opensslVersion;
  const bundled = process.versions.openssl;
  const engine: OpensslSm2Engine = {
    name: 'openssl',
    description:
      `N-API addon over OpenSSL ${bundled}` + (linked.includes(bundled) ? '' : ` (linked: ${linked})`),
    publicKeyFromPrivate: guarded(cx.publicKeyFromPrivate),
    sign: guarded(cx.sign),
    verify: guarded(cx.verify),
    multiply: guarded(cx.multiply),
    publicKeyCacheStats: () => cx.cacheStats(),
  };
  return { engine };
}
