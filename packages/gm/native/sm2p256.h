/*
 * SM2 curve arithmetic of our own (GB/T 32918.1-2016 and the recommended curve of GB/T 32918.5-2017):
 *   y^2 = x^3 + a x + b over F_p, p = 2^256 - 2^224 - 2^96 + 2^64 - 1, a = -3, prime order n, h = 1.
 *
 * No N-API and no OpenSSL here: this file is shared by the addon (sm2_native_addon.c), the constant-time
 * check (test/ct_harness.c under valgrind) and the C-level benchmark.
 *
 * Side channels: functions marked CT take secrets and have no secret-dependent branch or memory index (masked
 * table scans, complete formulas); functions marked VT see only public data. When compiled with
 * -DSM2_CT_VALGRIND, the few places where a CT function branches on a value that is allowed to leak (a
 * rejected nonce candidate, "the private key is out of range", "the result is the point at infinity") call
 * VALGRIND_MAKE_MEM_DEFINED on exactly that bit, so a valgrind run with the secrets marked undefined reports
 * every other dependency.
 */
#ifndef YIZHENG_SM2P256_H
#define YIZHENG_SM2P256_H

#include <stddef.h>
#include <stdint.h>

/*
 * Per-key precomputation for frequent signers: the scalar t of [t]P is split into its four 64-bit words,
 * t = Σ t_j 2^(64 j), and [t]P = Σ [t_j](2^(64 j) P), so one interleaved pass needs 64 doublings instead of
 * 256. For each of the four points P_j = 2^(64 j)·P the table holds the 2^(W-2) affine odd multiples
 * P_j, 3P_j, …, (2^(W-1)-1)P_j for wNAF digits of width W.
 */
#define SM2_KEY_TABLE_W 6
#define SM2_KEY_TABLE_SIZE (1 << (SM2_KEY_TABLE_W - 2))
#define SM2_SPLIT 4

typedef struct {
  uint64_t x[4], y[4]; /* Montgomery form */
} sm2_affine;

/* A validated public key, optionally with its precomputed split tables. */
typedef struct {
  sm2_affine p;
  int has_table;
  sm2_affine table[SM2_SPLIT][SM2_KEY_TABLE_SIZE];
} sm2_pubkey;

/* Builds the base-point tables once (thread-safe, idempotent). Returns 1, or 0 on allocation failure. */
int sm2_init(void);

/*
 * Field arithmetic: portable C, or the BMI2/ADX product of fe_adx.h (x86-64). sm2_init picks ADX when CPUID
 * reports BMI2 and ADX, unless the environment variable YIZHENG_SM2_PORTABLE is "1". Both give identical
 * results and both are constant-time.
 */
typedef enum { SM2_IMPL_PORTABLE = 0, SM2_IMPL_ADX = 1 } sm2_impl;
sm2_impl sm2_get_impl(void);
/* 1 iff the CPU has BMI2 and ADX (whatever sm2_init picked). */
int sm2_cpu_has_adx(void);
/*
 * Tests only, before any concurrent use: forces one path (after sm2_init). Returns 0 if that path is not
 * compiled in. Forcing ADX skips the CPUID check (valgrind hides ADX from CPUID but executes it); on a CPU
 * without ADX the next field operation faults.
 */
int sm2_set_impl(sm2_impl impl);

/* VT. Parses 0x04 || x || y: x, y < p and on the curve. Returns 1, or 0 if it is not such a point. */
int sm2_pubkey_parse(sm2_pubkey *pk, const uint8_t in[65]);

/* VT. Fills pk->table (P public). */
void sm2_pubkey_precompute(sm2_pubkey *pk);

/*
 * VT. GB/T 32918.2-2016 clause 7.1, B1–B7 on a given e: returns 1 iff (r, s) verifies, 0 otherwise
 * (r or s outside [1, n-1], t = 0, R at infinity, x mismatch).
 */
int sm2_verify(const uint8_t e[32], const uint8_t rs[64], const sm2_pubkey *pk);

/* CT in d. P = [d]G (GB/T 32918.1 clause 6.1). Returns 1, or 0 if d is not in [1, n-2]. */
int sm2_public_from_private(uint8_t out[65], const uint8_t d[32]);

/*
 * CT in d and k. One attempt of GB/T 32918.2 clause 6.1 A4–A7 with the given k:
 *   returns  1: rs = r || s;
 *            0: this k is unusable (k not in [1, n-1], r = 0, r + k = n, or s = 0) — draw another;
 *           -1: d is not in [1, n-2].
 */
int sm2_sign_with_k(uint8_t rs[64], const uint8_t e[32], const uint8_t d[32], const uint8_t k[32]);

/*
 * A private key prepared for signing: d (big-endian, for RFC 6979, and as words) with d·R and (1 + d)^-1·R mod n
 * (Montgomery form), which A6 needs for every signature; the inversion is about a third of a signature, so a
 * frequent signer prepares its key once. As secret as d itself: wipe it with secure_wipe (sm3.h).
 */
typedef struct {
  uint8_t d_bytes[32];
  uint64_t d[4];
  uint64_t d_m[4];
  uint64_t dinv_m[4];
} sm2_signing_key;

/* CT in d. Prepares `key`; returns 1, or 0 (key wiped) if d is not in [1, n-2]. */
int sm2_signing_key_init(sm2_signing_key *key, const uint8_t d[32]);

/* CT in the key and k. sm2_sign_with_k on a prepared key: 1, or 0 for an unusable k. */
int sm2_sign_prepared_with_k(uint8_t rs[64], const uint8_t e[32], const sm2_signing_key *key, const uint8_t k[32]);

/* CT. 1 iff 1 <= k <= n-1 (the result bit is declassified: it is used to reject nonce candidates). */
int sm2_scalar_is_valid_nonce(const uint8_t k[32]);

/* CT. e mod n, 32 bytes big-endian (RFC 6979 bits2octets). */
void sm2_reduce_mod_n(uint8_t out[32], const uint8_t in[32]);

/*
 * CT in k. [k mod n]Q for a public, already valid Q (GB/T 32918.4 clause 7.1 B3, 32918.3).
 * Returns 1, or 0 if the result is the point at infinity (k ≡ 0 mod n).
 */
int sm2_mul(uint8_t out[65], const sm2_pubkey *q, const uint8_t k[32]);

#endif
