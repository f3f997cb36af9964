/*
 * The BMI2/ADX field arithmetic (fe_adx.h) against the portable C, white-box: this file includes sm2p256.c
 * to reach its static functions. Three parts, each comparing the two paths bit for bit:
 *   1. field operations (mul, sqr, add, sub, mul by 2, 3, 4, 8) on edge values (0, 1, 2, p−1, p−2, (p±1)/2,
 *      words of all ones, powers of two) crossed with each other, then on random values below p and on
 *      values made of edge words (which drive the carry chains to their ends);
 *   2. the protocol functions on random inputs: [d]G, signing with a given k, verification of the signature
 *      and of a corrupted one, with and without the key's table, and [k]Q;
 *   3. the same results are the expected ones (GB/T 32918.5 Annex A signature);
 *   4. the wNAF recoding of verification on random, all-ones and zero scalars (digit rules and the sum).
 * Run by src/sm2/impl-diff.test.ts: cc -O3 impl_diff.c ../sm2_sign.c ../sm3.c && ./impl_diff ITERATIONS SEED
 * Exits 0 and prints "paths agree", or prints the first difference and exits 1. Needs a CPU with ADX.
 */
#include "../sm2p256.c"

#include <stdio.h>

#include "../sm2_sign.h"

#include "xorshift.h"

static void rnd_bytes(uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(rnd64() >> 56);
}

static void rnd_fe(fe r) {
  do {
    for (int i = 0; i < 4; i++) r[i] = rnd64();
  } while (!lt_mask(r, P));
}

/* A value below p whose words are drawn from {0, 1, all ones, p's words, random}: long carry chains. */
static void rnd_fe_limbs(fe r) {
  static const uint64_t words[] = {0, 1, 0xffffffffffffffffULL, 0xffffffff00000000ULL, 0xfffffffeffffffffULL,
                                   0x00000000ffffffffULL, 0x8000000000000000ULL};
  do {
    for (int i = 0; i < 4; i++) {
      unsigned c = (unsigned)(rnd64() >> 61);
      r[i] = c < 7 ? words[c] : rnd64();
    }
  } while (!lt_mask(r, P));
}

static int failures;
static void differ(const char *what, const void *x, const void *y, size_t n) {
  if (memcmp(x, y, n) == 0) return;
  if (failures++ < 5) fprintf(stderr, "impl_diff: %s differs between the portable and the ADX path\n", what);
}

/* Every field operation on (a, b) under both paths. */
static void field_ops(const fe a, const fe b) {
  fe out[2][9];
  for (int path = 0; path < 2; path++) {
    use_adx = path;
    fe_mul(out[path][0], a, b);
    fe_sqr(out[path][1], a);
    fe_add(out[path][2], a, b);
    fe_sub(out[path][3], a, b);
    fe_sub(out[path][4], b, a);
    fe_mul_small(out[path][5], a, 2);
    fe_mul_small(out[path][6], a, 3);
    fe_mul_small(out[path][7], a, 4);
    fe_mul_small(out[path][8], b, 8);
  }
  static const char *names[9] = {"mul", "sqr", "add", "sub", "sub (swapped)", "mul by 2", "mul by 3",
                                 "mul by 4", "mul by 8"};
  for (int i = 0; i < 9; i++) differ(names[i], out[0][i], out[1][i], sizeof(fe));
  /* A cross-check that does not trust either path: (a + b) − b = a. */
  use_adx = 1;
  fe t;
  fe_add(t, a, b);
  fe_sub(t, t, b);
  differ("(a + b) - b = a (ADX)", t, a, sizeof(fe));
}

static void protocol(void) {
  uint8_t d[32], k[32], e[32], pub[2][65], rs[2][64], q[2][65], kq[2][65];
  int rc[2], ok[2][4], mul_ok[2];
  rnd_bytes(d, 32);
  rnd_bytes(k, 32);
  rnd_bytes(e, 32);
  d[0] &= 0x7f; /* < n - 2 with overwhelming probability; both paths see the same value anyway */
  for (int path = 0; path < 2; path++) {
    use_adx = path;
    rc[path] = sm2_public_from_private(pub[path], d);
    int s = sm2_sign_with_k(rs[path], e, d, k);
    rc[path] = rc[path] * 4 + (s + 1);
    sm2_pubkey pk;
    memset(ok[path], 0, sizeof ok[path]);
    if (sm2_pubkey_parse(&pk, pub[path])) {
      ok[path][0] = sm2_verify(e, rs[path], &pk);
      uint8_t bad[64];
      memcpy(bad, rs[path], 64);
      bad[63] ^= 1;
      ok[path][1] = sm2_verify(e, bad, &pk);
      sm2_pubkey_precompute(&pk);
      ok[path][2] = sm2_verify(e, rs[path], &pk);
      ok[path][3] = sm2_verify(e, bad, &pk);
      /* [k]Q for Q = [d]G */
      mul_ok[path] = sm2_mul(kq[path], &pk, k);
      memcpy(q[path], pub[path], 65);
    } else {
      mul_ok[path] = -1;
    }
  }
  differ("[d]G", pub[0], pub[1], 65);
  differ("sign/derive status", &rc[0], &rc[1], sizeof rc[0]);
  differ("signature", rs[0], rs[1], 64);
  differ("verification results", ok[0], ok[1], sizeof ok[0]);
  differ("[k]Q status", &mul_ok[0], &mul_ok[1], sizeof mul_ok[0]);
  if (mul_ok[0] == 1) differ("[k]Q", kq[0], kq[1], 65);
  if ((rc[0] & 3) == 2 && !(ok[0][0] == 1 && ok[0][1] == 0 && ok[0][2] == 1 && ok[0][3] == 0))
    differ("a fresh signature verifies, a corrupted one does not", "\1", "\0", 1);
}

/* acc (6 words) += m·2^i for a small m. */
static void add_shifted(uint64_t acc[6], uint64_t m, int i) {
  unsigned __int128 v = (unsigned __int128)m << (i & 63);
  uint64_t add[2] = {(uint64_t)v, (uint64_t)(v >> 64)};
  unsigned __int128 t = 0;
  for (int j = i >> 6, n = 0; j < 6; j++, n++) {
    t += (unsigned __int128)acc[j] + (n < 2 ? add[n] : 0);
    acc[j] = (uint64_t)t;
    t >>= 64;
  }
}

/* The wNAF recoding of verification (VT, shared by both paths): digits odd and below 2^(w−1) in absolute
   value, at most one non-zero in any w consecutive positions, the returned length right, and
   Σ positive digits·2^i = k + Σ |negative digits|·2^i. */
static void check_wnaf(const uint64_t *k, int nlimbs, int w) {
  int8_t d[257];
  int len = wnaf(d, k, nlimbs, w);
  uint64_t pos[6] = {0}, neg[6] = {0};
  for (int i = 0; i < nlimbs; i++) neg[i] = k[i];
  int last = -w, top = 0, ok = 1;
  for (int i = 0; i < 64 * nlimbs + 1; i++) {
    if (d[i] == 0) continue;
    if (!(d[i] & 1) || d[i] >= (1 << (w - 1)) || d[i] <= -(1 << (w - 1)) || i - last < w) ok = 0;
    last = i;
    top = i + 1;
    if (d[i] > 0) add_shifted(pos, (uint64_t)d[i], i);
    else add_shifted(neg, (uint64_t)(-d[i]), i);
  }
  if (memcmp(pos, neg, sizeof pos) != 0 || len != top) ok = 0;
  if (!ok && failures++ < 5) fprintf(stderr, "impl_diff: wNAF (w = %d) of a %d-word scalar is wrong\n", w, nlimbs);
}

static void known_answer(void) {
  /* GB/T 32918.5-2017 Annex A (also test/ct_harness.c). */
  static const uint8_t d[32] = {0x39, 0x45, 0x20, 0x8f, 0x7b, 0x21, 0x44, 0xb1, 0x3f, 0x36, 0xe3,
                                0x8a, 0xc6, 0xd3, 0x9f, 0x95, 0x88, 0x93, 0x93, 0x69, 0x28, 0x60,
                                0xb5, 0x1a, 0x42, 0xfb, 0x81, 0xef, 0x4d, 0xf7, 0xc5, 0xb8};
  static const uint8_t k[32] = {0x59, 0x27, 0x6e, 0x27, 0xd5, 0x06, 0x86, 0x1a, 0x16, 0x68, 0x0f,
                                0x3a, 0xd9, 0xc0, 0x2d, 0xcc, 0xef, 0x3c, 0xc1, 0xfa, 0x3c, 0xdb,
                                0xe4, 0xce, 0x6d, 0x54, 0xb8, 0x0d, 0xea, 0xc1, 0xbc, 0x21};
  static const uint8_t e[32] = {0xf0, 0xb4, 0x3e, 0x94, 0xba, 0x45, 0xac, 0xca, 0xac, 0xe6, 0x92,
                                0xed, 0x53, 0x43, 0x82, 0xeb, 0x17, 0xe6, 0xab, 0x5a, 0x19, 0xce,
                                0x7b, 0x31, 0xf4, 0x48, 0x6f, 0xdf, 0xc0, 0xd2, 0x86, 0x40};
  static const uint8_t r_want[32] = {0xf5, 0xa0, 0x3b, 0x06, 0x48, 0xd2, 0xc4, 0x63, 0x0e, 0xea, 0xc5,
                                     0x13, 0xe1, 0xbb, 0x81, 0xa1, 0x59, 0x44, 0xda, 0x38, 0x27, 0xd5,
                                     0xb7, 0x41, 0x43, 0xac, 0x7e, 0xac, 0xee, 0xe7, 0x20, 0xb3};
  for (int path = 0; path < 2; path++) {
    use_adx = path;
    uint8_t rs[64];
    if (sm2_sign_with_k(rs, e, d, k) != 1 || memcmp(rs, r_want, 32) != 0)
      differ(path ? "Annex A signature (ADX)" : "Annex A signature (portable)", "\1", "\0", 1);
  }
}

int main(int argc, char **argv) {
  long iterations = argc > 1 ? atol(argv[1]) : 20000;
  rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) | 1 : 0x9e3779b97f4a7c15ULL;
  if (!sm2_init()) return 2;
  if (!cpu_has_bmi2_adx()) {
    fprintf(stderr, "impl_diff: this CPU has no BMI2/ADX\n");
    return 3;
  }
  /* Edge values: 0, 1, 2, p−1, p−2, (p−1)/2, (p+1)/2, all-ones words, single high bits. */
  static const fe edges[] = {
      {0, 0, 0, 0},
      {1, 0, 0, 0},
      {2, 0, 0, 0},
      {0xfffffffffffffffeULL, 0xffffffff00000000ULL, 0xffffffffffffffffULL, 0xfffffffeffffffffULL},
      {0xfffffffffffffffdULL, 0xffffffff00000000ULL, 0xffffffffffffffffULL, 0xfffffffeffffffffULL},
      {0xffffffffffffffffULL, 0x7fffffff80000000ULL, 0xffffffffffffffffULL, 0x7fffffff7fffffffULL},
      {0x0000000000000000ULL, 0x7fffffff80000000ULL, 0xffffffffffffffffULL, 0x7fffffff7fffffffULL},
      {0xffffffffffffffffULL, 0xffffffffffffffffULL, 0xffffffffffffffffULL, 0xfffffffe00000000ULL},
      {0xffffffffffffffffULL, 0, 0, 0},
      {0, 0xffffffffffffffffULL, 0, 0},
      {0, 0, 0xffffffffffffffffULL, 0},
      {0, 0, 0, 0x8000000000000000ULL},
      {0x8000000000000000ULL, 0x8000000000000000ULL, 0x8000000000000000ULL, 0x8000000000000000ULL},
      {0x0000000000000001ULL, 0x00000000ffffffffULL, 0x0000000000000000ULL, 0x0000000100000000ULL},
  };
  const size_t ne = sizeof edges / sizeof edges[0];
  for (size_t i = 0; i < ne; i++)
    for (size_t j = 0; j < ne; j++) field_ops(edges[i], edges[j]);
  for (long i = 0; i < iterations; i++) {
    fe a, b;
    rnd_fe(a);
    rnd_fe(b);
    field_ops(a, b);
    rnd_fe_limbs(a);
    rnd_fe_limbs(b);
    field_ops(a, b);
    if (i % 16 == 0) field_ops(a, edges[(size_t)i / 16 % ne]);
  }
  for (long i = 0; i < iterations / 10 + 1; i++) {
    uint64_t k[4];
    for (int j = 0; j < 4; j++) k[j] = (i & 1) ? rnd64() : (rnd64() >> 60 ? 0xffffffffffffffffULL : rnd64());
    if (i == 0) k[0] = k[1] = k[2] = k[3] = 0xffffffffffffffffULL;
    if (i == 1) k[0] = k[1] = k[2] = k[3] = 0;
    for (int w = 2; w <= 8; w++) check_wnaf(k, 4, w);
    check_wnaf(k, 1, 6);
    check_wnaf(k + 3, 1, 8);
  }
  for (long i = 0; i < iterations / 50 + 1; i++) protocol();
  known_answer();
  if (failures) {
    fprintf(stderr, "impl_diff: %d differences\n", failures);
    return 1;
  }
  printf("impl_diff: paths agree on %zu edge pairs, %ld random field pairs, %ld protocol cases\n", ne * ne,
         2 * iterations, iterations / 50 + 1);
  return 0;
}
