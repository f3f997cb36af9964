/**
 * The seam between the SM2 protocol code (Z, e, encodings, KDF — all in TypeScript) and the curve arithmetic,
 * which an engine provides. Engines: `js` (pure TypeScript, runs in browsers), `native` (Yizheng's own C
 * implementation, N-API addon `native/sm2_native_addon.c`), `openssl` (N-API addon over the OpenSSL that
 * Node bundles, `native/sm2_addon.c`).
 *
 * Conventions for every method:
 * - scalars (private keys d, nonces k, digests e) are 32-byte big-endian Uint8Arrays;
 * - points are 65-byte uncompressed encodings 0x04 ‖ x ‖ y, already validated by the caller
 *   (on the curve, not infinity) — engines may assume valid input points;
 * - signatures are 64-byte r ‖ s, already range-checked by the caller for verify;
 * - private keys d are in [1, n-2] (checked by the caller).
 * Engines never throw for a signature that does not verify: they return false.
 */
export interface Sm2Engine {
  /** Short identifier, e.g. `js`, `native`. */
  readonly name: string;
  /** Human-readable description for `yizheng engines`, e.g. `N-API addon over OpenSSL 3.0.19`. */
  readonly description: string;

  /** P = d·G, uncompressed. Constant-time in d where the engine can guarantee it. */
  publicKeyFromPrivate(d: Uint8Array): Uint8Array;

  /**
   * SM2 signature generation, GB/T 32918.2 clause 6.1 steps A3–A7, on a precomputed e = SM3(Z ‖ M).
   * `k` is for published test vectors only; when absent the engine draws k from a CSPRNG.
   * Returns r ‖ s (64 bytes).
   */
  sign(e: Uint8Array, d: Uint8Array, k?: Uint8Array): Uint8Array;

  /** SM2 signature verification, GB/T 32918.2 clause 7.1 steps B3–B7, on a precomputed e. */
  verify(e: Uint8Array, rs: Uint8Array, publicKey: Uint8Array): boolean;

  /**
   * Variable-base scalar multiplication k·Q (used by encryption, decryption and key exchange).
   * Returns the uncompressed result, or throws GM_INVALID_ARGUMENT if the result is the point at infinity.
   * Constant-time in k where the engine can guarantee it.
   */
  multiply(point: Uint8Array, k: Uint8Array): Uint8Array;

  /**
   * Optional: verifies `count` signatures in one call (GB/T 32918.2 clause 7.1 B3–B7 each), to amortise the
   * crossing into native code. `e` holds count × 32 bytes, `rs` count × 64, `publicKeys` count × 65 (each as
   * for {@link verify}). Returns count bytes, 1 where the signature verifies and 0 where it does not.
   */
  verifyBatch?(e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array): Uint8Array;

  /**
   * Optional: Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2 clause 5.5) for a 65-byte
   * public key and an ID of at most 8191 bytes, in one call (the protocol layer hashes it itself otherwise).
   */
  computeZ?(publicKey: Uint8Array, id: Uint8Array): Uint8Array;

  /** Optional: {@link verifyBatch} off the event loop (the libuv thread pool); same arguments and result. */
  verifyBatchAsync?(e: Uint8Array, rs: Uint8Array, publicKeys: Uint8Array): Promise<Uint8Array>;

  /**
   * Optional: {@link sign} of `count` digests (e: count × 32 bytes) under one d, off the event loop (the libuv
   * thread pool), k drawn as `sign` draws it. Resolves with count × 64 bytes (r ‖ s each); rejects as `sign`
   * throws.
   */
  signBatchAsync?(e: Uint8Array, d: Uint8Array): Promise<Uint8Array>;
}

/** Counters of an engine's cache of validated public keys (native engines). */
export interface PublicKeyCacheStats {
  /** Validated public keys currently held. */
  size: number;
  capacity: number;
  hits: number;
  misses: number;
}
