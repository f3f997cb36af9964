/**
 * The `native` SM2 engine: Yizheng's own curve arithmetic in C, the N-API addon
 * `build/Release/yizheng_sm2_native.node` (sources `native/sm2p256.c`, `sm2_sign.c`, `sm3.c`,
 * `sm2_native_addon.c`; no OpenSSL). Verification is variable-time (public data only: Straus/wNAF over a
 * precomputed table of G and, for keys seen twice, a cached table of the key); key derivation, signing and
 * scalar multiplication are constant-time in the secret (a fixed-base comb and complete formulas with masked
 * table scans — checked under valgrind by `ct.test.ts`). A context keeps the last signing key prepared
 * (d·R and (1 + d)^-1·R mod n, the inversion being a third of a signature), wiped when another key signs or
 * the context is released: a repeat signer (the platform's receipts, a TSA) signs about a third faster.
 *
 * It adds batch verification (many signatures per N-API call) and an asynchronous batch on the libuv thread
 * pool to the {@link Sm2Engine} contract. Nonces: the system CSPRNG (default) or RFC 6979 deterministic
 * nonces with HMAC-SM3 (`nonce: 'rfc6979'`).
 *
 * The addon is built by `scripts/build-native.cjs` during `npm ci` and may be missing (no compiler, or
 * `YIZHENG_SKIP_NATIVE=1`); {@link loadNativeEngine} never throws and says why it is unavailable.
 */
import { guarded, guardedAsync, loadAddon, startContext } from './addon.js';
import type { SignedDataShape } from '../signed-data-shape.js';
import type { PublicKeyCacheStats, Sm2Engine } from './engine.js';

/** Default capacity of the validated-public-key LRU cache used by `verify`. */
export const DEFAULT_PUBLIC_KEY_CACHE_SIZE = 1024;

const ADDON_FILE = 'yizheng_sm2_native.node';

/** How `sign` chooses k (GB/T 32918.2 clause 6.1 A3) when none is given. */
export type NonceMode = 'random' | 'rfc6979';

/** The functions of one addon context (see `native/sm2_native_addon.c`); they do not use `this`. */
interface AddonContext {
  readonly publicKeyFromPrivate: (d: Uint8Array) => Uint8Array;
  readonly sign: (e: Uint8Array, d: Uint8Array, k?: Uint8Array) => Uint8Array;
  readonly verify: (e: Uint8Array, rs: Uint8Array, publicKey: Uint8Array) => boolean;
  readonly verifyBatch: (e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array) => Uint8Array;
  readonly verifyBatchAsync: (e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array) => Promise<Uint8Array>;
  readonly signBatchAsync: (e: Uint8Array, d: Uint8Array) => Promise<Uint8Array>;
  readonly multiply: (point: Uint8Array, k: Uint8Array) => Uint8Array;
  readonly computeZ: (publicKey: Uint8Array, id: Uint8Array) => Uint8Array;
  readonly cacheStats: () => PublicKeyCacheStats;
}

interface Addon {
  readonly version: string;
  readonly createContext: (publicKeyCacheSize?: number, nonce?: NonceMode) => AddonContext;
  readonly sm3Into: (data: Uint8Array, out: Uint8Array) => void;
  readonly signedDataShape?: SignedDataShape;
}

/** The native engine: batch and asynchronous verification are always present. */
export interface NativeSm2Engine extends Sm2Engine {
  readonly name: 'native';
  readonly nonce: NonceMode;
  verifyBatch(e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array): Uint8Array;
  verifyBatchAsync(e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array): Promise<Uint8Array>;
  signBatchAsync(e: Uint8Array, d: Uint8Array): Promise<Uint8Array>;
  computeZ(publicKey: Uint8Array, id: Uint8Array): Uint8Array;
  publicKeyCacheStats(): PublicKeyCacheStats;
}

export interface NativeEngineOptions {
  /**
   * Capacity of the LRU cache of validated public keys (~170 B each, plus ~4 KB of precomputed tables once a
   * key has been seen twice); 0 disables it. At most 65536; default 1024.
   */
  publicKeyCacheSize?: number;
  /** Nonce source for `sign` without k. Default `random`. */
  nonce?: NonceMode;
}

export type NativeEngineLoad = { engine: NativeSm2Engine } | { engine: undefined; reason: string };

/**
 * Loads the addon and returns a native engine with its own public-key cache, or the reason it is
 * unavailable. Never throws. Each call returns an independent engine; the addon itself is loaded once.
 */
export function loadNativeEngine(options: NativeEngineOptions = {}): NativeEngineLoad {
  const loaded = loadAddon<Addon>(ADDON_FILE, 'native addon');
  if (!loaded.addon) return { engine: undefined, reason: loaded.reason };
  const addon = loaded.addon;
  const nonce = options.nonce ?? 'random';
  const started = startContext(
    () => addon.createContext(options.publicKeyCacheSize ?? DEFAULT_PUBLIC_KEY_CACHE_SIZE, nonce),
    'native addon',
  );
  if (!started.cx) return { engine: undefined, reason: started.reason };
  const cx = started.cx;
  // The per-call digest e and r ‖ s (public values) go through off-heap slots; d is the key's own array.
  const digestSlot = offHeapSlot(32);
  const signatureSlot = offHeapSlot(64);
  const engine: NativeSm2Engine = {
    name: 'native',
    description: `Yizheng C engine (${addon.version}; nonces: ${nonce === 'random' ? 'CSPRNG' : 'RFC 6979 HMAC-SM3'})`,
    nonce,
    publicKeyFromPrivate: guarded(cx.publicKeyFromPrivate),
    sign: guarded((e, d, k) => cx.sign(digestSlot(e), d, k)),
    verify: guarded((e, rs, publicKey) => cx.verify(digestSlot(e), signatureSlot(rs), publicKey)),
    verifyBatch: guarded(cx.verifyBatch),
    verifyBatchAsync: guardedAsync(cx.verifyBatchAsync),
    signBatchAsync: guardedAsync(cx.signBatchAsync),
    multiply: guarded(cx.multiply),
    computeZ: guarded(cx.computeZ),
    publicKeyCacheStats: () => cx.cacheStats(),
  };
  return { engine };
}

/**
 * An off-heap slot for arguments of at most `max` bytes: `put(bytes)` copies them in and returns a view of
 * exactly their length (made once per length), or `bytes` itself when longer or not a Uint8Array (for the addon
 * to refuse or to read in place). V8 keeps a typed array of at most 64 bytes inside its heap, and handing one to
 * N-API (`napi_get_typedarray_info`) moves its bytes out first: an allocation, a backing-store record and its
 * registration, swept later — about as much as the call itself for a digest or a signature. The synchronous
 * addon call reads the slot before anything else can write it (each worker thread has its own module instance).
 */
function offHeapSlot(max: number): (bytes: Uint8Array) => Uint8Array {
  const slot = new Uint8Array(new ArrayBuffer(max));
  const views = Array.from({ length: max + 1 }, (_, n) => slot.subarray(0, n));
  return (bytes) => {
    if (!(bytes instanceof Uint8Array) || bytes.length > max) return bytes;
    slot.set(bytes);
    return views[bytes.length]!;
  };
}

/** SM3 known answers (GB/T 32905-2016 appendix A, examples 1 and 2) checked before the addon's hash is used. */
const SM3_KAT: readonly (readonly [string, string])[] = [
  ['abc', '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0'],
  ['abcd'.repeat(16), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732'],
];

/**
 * The addon's one-shot SM3 (`native/sm3.c`: unrolled rounds, with RORX where the CPU has BMI2 and the message
 * expansion on the vector unit where it also has AVX — about 20% faster again at 1 KiB; above OpenSSL's
 * speed, without OpenSSL's per-call EVP set-up), or the reason it cannot be used: not built, failed to load,
 * or wrong on the standard's examples. Never throws.
 */
export function loadNativeSm3():
  { sm3: (data: Uint8Array) => Uint8Array } | { sm3: undefined; reason: string } {
  const loaded = loadAddon<Addon>(ADDON_FILE, 'native addon');
  if (!loaded.addon) return { sm3: undefined, reason: loaded.reason };
  const { sm3Into } = loaded.addon;
  // Off-heap, so the addon reads its address without V8 moving it first; the digest is copied out at once
  // (the call is synchronous and each worker thread has its own module instance).
  const scratch = Buffer.allocUnsafeSlow(32);
  // Inputs of up to 64 bytes (a Merkle node, a key, a digest) go through an off-heap slot (see offHeapSlot),
  // wiped after: they may be secret.
  const small = offHeapSlot(64);
  const sm3 = guarded((data: Uint8Array): Uint8Array => {
    const input = small(data);
    try {
      sm3Into(input, scratch);
    } finally {
      if (input !== data) input.fill(0);
    }
    return new Uint8Array(scratch);
  });
  try {
    for (const [text, hex] of SM3_KAT) {
      const d = sm3(new TextEncoder().encode(text));
      if (Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex') !== hex)
        return { sm3: undefined, reason: 'the native addon failed its SM3 self-test' };
    }
  } catch (err) {
    return {
      sm3: undefined,
      reason: `the native addon's SM3 could not run: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return { sm3 };
}

/**
 * The addon's CMS SignedData locator (`native/signed_data_shape.c`), or undefined when the addon is not built,
 * failed to load, or predates it. Never throws.
 */
export function loadNativeSignedDataShape(): SignedDataShape | undefined {
  const loaded = loadAddon<Addon>(ADDON_FILE, 'native addon');
  return typeof loaded.addon?.signedDataShape === 'function' ? loaded.addon.signedDataShape : undefined;
}
