/*
 * SM2 curve arithmetic (see sm2p256.h). Written from GB/T 32918 and the literature:
 * - field F_p and scalars mod n: 4 x 64-bit limbs, Montgomery multiplication (CIOS, Koç–Acar–Kaliski 1996)
 *   with R = 2^256; for p, p ≡ -1 (mod 2^64) so -p^-1 mod 2^64 = 1 and the reduction quotient digit is the
 *   low limb itself; on x86-64 CPUs with BMI2 and ADX the field product, square, sum, difference and small
 *   multiples run as inline assembly (fe_adx.h: mulx with two carry chains, adcx/adox), chosen once by CPUID
 *   in sm2_init; the portable C is the fallback and the reference (test/impl_diff.c compares the two);
 * - inversion mod p by Fermat, a^(p-2), with an addition chain on the shape of p - 2 (CT);
 *   inversion mod n by Fermat with a fixed 4-bit window (the exponent is public; CT in the base);
 * - verification (VT): Jacobian coordinates, interleaved (Straus) wNAF double-scalar multiplication
 *   [s]G + [t]P with a precomputed affine table of odd multiples of G (w = 8) and of P (w = 5 in Jacobian,
 *   built per call for a key seen once; for a key seen again, w = 6 affine tables of its four 64-bit parts
 *   from the addon's cache, so 64 doublings); x compared in Jacobian form (no inversion);
 * - secrets (CT): homogeneous projective coordinates with the complete formulas of Renes, Costello and Batina
 *   (EUROCRYPT 2016, algorithms 4, 5, 6 for a = -3), so no input is exceptional; [k]G by a fixed-base comb of
 *   37 Booth-recoded 7-bit windows over a table of 37 x 64 affine points j·2^(7i)·G, read by masked scans;
 *   [k]Q by 5-bit Booth windows over 16 projective multiples of Q, read by masked scans.
 */
#include "sm2p256.h"
#include "fe_adx.h"
#include "sm3.h" /* secure_wipe */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef SM2_CT_VALGRIND
#include <valgrind/memcheck.h>
#define DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

typedef unsigned __int128 u128;
typedef uint64_t fe[4];

/* p and n, little-endian limbs. */
static const uint64_t P[4] = {0xffffffffffffffffULL, 0xffffffff00000000ULL, 0xffffffffffffffffULL,
                              0xfffffffeffffffffULL};
static const uint64_t N[4] = {0x53bbf40939d54123ULL, 0x7203df6b21c6052bULL, 0xffffffffffffffffULL,
                              0xfffffffeffffffffULL};
static const uint64_t N0 = 0x327f9e8872350975ULL; /* -n^-1 mod 2^64 */
/* R^2 mod p, R mod p (Montgomery one), R^2 mod n. */
static const fe RR_P = {0x0000000200000003ULL, 0x00000002ffffffffULL, 0x0000000100000001ULL,
                        0x0000000400000002ULL};
static const fe ONE_P = {0x0000000000000001ULL, 0x00000000ffffffffULL, 0x0000000000000000ULL,
                         0x0000000100000000ULL};
static const fe RR_N = {0x901192af7c114f20ULL, 0x3464504ade6fa2faULL, 0x620fc84c3affe0d4ULL,
                        0x1eb5e412a22b3d3bULL};
/* b·R mod p (curve coefficient b of GB/T 32918.5 in Montgomery form). */
static const fe B_M = {0x90d230632bc0dd42ULL, 0x71cf379ae9b537abULL, 0x527981505ea51c3cULL,
                       0x240fe188ba20e2c8ULL};

/* G of GB/T 32918.5, big-endian. */
static const uint8_t GX_BYTES[32] = {0x32, 0xc4, 0xae, 0x2c, 0x1f, 0x19, 0x81, 0x19, 0x5f, 0x99, 0x04,
                                     0x46, 0x6a, 0x39, 0xc9, 0x94, 0x8f, 0xe3, 0x0b, 0xbf, 0xf2, 0x66,
                                     0x0b, 0xe1, 0x71, 0x5a, 0x45, 0x89, 0x33, 0x4c, 0x74, 0xc7};
static const uint8_t GY_BYTES[32] = {0xbc, 0x37, 0x36, 0xa2, 0xf4, 0xf6, 0x77, 0x9c, 0x59, 0xbd, 0xce,
                                     0xe3, 0x6b, 0x69, 0x21, 0x53, 0xd0, 0xa9, 0x87, 0x7c, 0xc6, 0x2a,
                                     0x47, 0x40, 0x02, 0xdf, 0x32, 0xe5, 0x21, 0x39, 0xf0, 0xa0};

/* ---------------------------------------------------------------------------------------------------------
 * Multi-precision helpers (CT), straight-line code. On x86-64 the carry chains use the adc/sbb intrinsics
 * (baseline ISA, no -m flags); elsewhere 128-bit integer arithmetic.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define ADDC(c, a, b, out)                                   \
  do {                                                       \
    unsigned long long _o;                                   \
    (c) = _addcarry_u64((c), (a), (b), &_o);                 \
    (out) = (uint64_t)_o;                                    \
  } while (0)
#define SUBB(c, a, b, out)                                   \
  do {                                                       \
    unsigned long long _o;                                   \
    (c) = _subborrow_u64((c), (a), (b), &_o);                \
    (out) = (uint64_t)_o;                                    \
  } while (0)
#else
#define ADDC(c, a, b, out)                                   \
  do {                                                       \
    u128 _t = (u128)(a) + (b) + (c);                         \
    (out) = (uint64_t)_t;                                    \
    (c) = (unsigned char)(_t >> 64);                         \
  } while (0)
#define SUBB(c, a, b, out)                                   \
  do {                                                       \
    u128 _t = (u128)(a) - (b) - (c);                         \
    (out) = (uint64_t)_t;                                    \
    (c) = (unsigned char)((_t >> 64) & 1);                   \
  } while (0)
#endif
typedef unsigned char carry_t;

static inline uint64_t addc(uint64_t a, uint64_t b, uint64_t *carry) {
  u128 t = (u128)a + b + *carry;
  *carry = (uint64_t)(t >> 64);
  return (uint64_t)t;
}


static void from_be(uint64_t r[4], const uint8_t b[32]) {
  for (int i = 0; i < 4; i++) {
    uint64_t v = 0;
    for (int j = 0; j < 8; j++) v = (v << 8) | b[(3 - i) * 8 + j];
    r[i] = v;
  }
}

static void to_be(uint8_t b[32], const uint64_t a[4]) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) b[(3 - i) * 8 + j] = (uint8_t)(a[i] >> (56 - 8 * j));
}

/* All-ones if a == 0, else 0. */
static inline uint64_t is_zero_mask(const uint64_t a[4]) {
  uint64_t t = a[0] | a[1] | a[2] | a[3];
  return ((t | (0 - t)) >> 63) - 1;
}

static inline uint64_t eq_mask(const uint64_t a[4], const uint64_t b[4]) {
  uint64_t d[4] = {a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2], a[3] ^ b[3]};
  return is_zero_mask(d);
}

/* All-ones if a < b (as 256-bit integers). */
static inline uint64_t lt_mask(const uint64_t a[4], const uint64_t b[4]) {
  carry_t br = 0;
  uint64_t o;
  SUBB(br, a[0], b[0], o);
  SUBB(br, a[1], b[1], o);
  SUBB(br, a[2], b[2], o);
  SUBB(br, a[3], b[3], o);
  (void)o;
  return 0 - (uint64_t)br;
}

static inline void cmov(uint64_t r[4], const uint64_t a[4], uint64_t mask) {
  r[0] = (r[0] & ~mask) | (a[0] & mask);
  r[1] = (r[1] & ~mask) | (a[1] & mask);
  r[2] = (r[2] & ~mask) | (a[2] & mask);
  r[3] = (r[3] & ~mask) | (a[3] & mask);
}

/* r = (hi·2^256 + t) mod M for a value < 2M: subtract M unless that borrows. */
static inline __attribute__((always_inline)) void final_sub4(uint64_t r[4], uint64_t t0, uint64_t t1,
                                                              uint64_t t2, uint64_t t3, uint64_t hi,
                                                              const uint64_t M[4]) {
  uint64_t u0, u1, u2, u3, dummy;
  carry_t br = 0;
  SUBB(br, t0, M[0], u0);
  SUBB(br, t1, M[1], u1);
  SUBB(br, t2, M[2], u2);
  SUBB(br, t3, M[3], u3);
  SUBB(br, hi, 0, dummy); /* borrow out: the value was < M */
  uint64_t keep = 0 - (uint64_t)br;
  r[0] = (t0 & keep) | (u0 & ~keep);
  r[1] = (t1 & keep) | (u1 & ~keep);
  r[2] = (t2 & keep) | (u2 & ~keep);
  r[3] = (t3 & keep) | (u3 & ~keep);
  (void)dummy;
}

static inline void final_sub(uint64_t r[4], const uint64_t t[4], uint64_t hi, const uint64_t M[4]) {
  final_sub4(r, t[0], t[1], t[2], t[3], hi, M);
}

static inline __attribute__((always_inline)) void mod_add(uint64_t r[4], const uint64_t a[4],
                                                          const uint64_t b[4], const uint64_t M[4]) {
  uint64_t t0, t1, t2, t3;
  carry_t c = 0;
  ADDC(c, a[0], b[0], t0);
  ADDC(c, a[1], b[1], t1);
  ADDC(c, a[2], b[2], t2);
  ADDC(c, a[3], b[3], t3);
  final_sub4(r, t0, t1, t2, t3, c, M);
}

static inline __attribute__((always_inline)) void mod_sub(uint64_t r[4], const uint64_t a[4],
                                                          const uint64_t b[4], const uint64_t M[4]) {
  uint64_t t0, t1, t2, t3;
  carry_t br = 0, c = 0;
  SUBB(br, a[0], b[0], t0);
  SUBB(br, a[1], b[1], t1);
  SUBB(br, a[2], b[2], t2);
  SUBB(br, a[3], b[3], t3);
  uint64_t mask = 0 - (uint64_t)br;
  ADDC(c, t0, M[0] & mask, r[0]);
  ADDC(c, t1, M[1] & mask, r[1]);
  ADDC(c, t2, M[2] & mask, r[2]);
  ADDC(c, t3, M[3] & mask, r[3]);
  (void)c;
}

/* (hi, lo) = a·b + t + c; never overflows 128 bits. */
#define MULADD(hi, lo, a, b, t, c)                           \
  do {                                                       \
    u128 _x = (u128)(a) * (b) + (t) + (c);                   \
    (lo) = (uint64_t)_x;                                     \
    (hi) = (uint64_t)(_x >> 64);                             \
  } while (0)

/* One CIOS round: t += a·bi, then t = (t + m·M) / 2^64 with m = t0·n0. */
#define MONT_ROUND(bi)                                       \
  do {                                                       \
    uint64_t _c, _m, _lo, _t5;                               \
    MULADD(_c, t0, a0, (bi), t0, 0);                         \
    MULADD(_c, t1, a1, (bi), t1, _c);                        \
    MULADD(_c, t2, a2, (bi), t2, _c);                        \
    MULADD(_c, t3, a3, (bi), t3, _c);                        \
    {                                                        \
      u128 _x = (u128)t4 + _c;                               \
      t4 = (uint64_t)_x;                                     \
      _t5 = (uint64_t)(_x >> 64);                            \
    }                                                        \
    _m = t0 * n0;                                            \
    MULADD(_c, _lo, _m, M[0], t0, 0);                        \
    (void)_lo;                                               \
    MULADD(_c, t0, _m, M[1], t1, _c);                        \
    MULADD(_c, t1, _m, M[2], t2, _c);                        \
    MULADD(_c, t2, _m, M[3], t3, _c);                        \
    {                                                        \
      u128 _x = (u128)t4 + _c;                               \
      t3 = (uint64_t)_x;                                     \
      t4 = _t5 + (uint64_t)(_x >> 64);                       \
    }                                                        \
  } while (0)

/*
 * Montgomery product a·b·2^-256 mod M (CIOS, Koç–Acar–Kaliski), for a, b < M; n0 = -M^-1 mod 2^64.
 * Inlined with constant M and n0 (n0 = 1 for p: the quotient digit is the low limb). Fully reduced output.
 */
static inline __attribute__((always_inline)) void mont_mul(uint64_t r[4], const uint64_t a[4],
                                                           const uint64_t b[4], const uint64_t M[4],
                                                           uint64_t n0) {
  const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  const uint64_t b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
  uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  MONT_ROUND(b0);
  MONT_ROUND(b1);
  MONT_ROUND(b2);
  MONT_ROUND(b3);
  final_sub4(r, t0, t1, t2, t3, t4, M);
}

/* ---------------------------------------------------------------------------------------------------------
 * F_p in Montgomery form (CT).
 *
 * Multiplication: the 512-bit product t (schoolbook, 16 word products; squaring 10), then four Montgomery
 * rounds that use the shape of p instead of multiplying by it. With m = t_i (since -p^-1 ≡ 1 mod 2^64),
 *   t + m·p = t + m·2^256 − m·2^224 − m·2^96 + m·2^64 − m,
 * the low word cancels and, from word i+1 on, the round adds the 4-word value
 *   A = m·(2^192 + 1) − m·2^32·(2^128 + 1) = [m, 0, 0, m] − [m<<32, m>>32, m<<32, m>>32]   (A ≥ 0),
 * i.e. shifts, one subtraction chain and one addition chain per round, no multiplications.
 */
#define P_ROUND(m, w1, w2, w3, w4, cont)                     \
  do {                                                       \
    uint64_t _a0, _a1, _a2, _a3;                             \
    carry_t _b = 0, _c = 0;                                  \
    SUBB(_b, (m), (m) << 32, _a0);                           \
    SUBB(_b, 0, (m) >> 32, _a1);                             \
    SUBB(_b, 0, (m) << 32, _a2);                             \
    SUBB(_b, (m), (m) >> 32, _a3);                           \
    (void)_b;                                                \
    ADDC(_c, w1, _a0, w1);                                   \
    ADDC(_c, w2, _a1, w2);                                   \
    ADDC(_c, w3, _a2, w3);                                   \
    ADDC(_c, w4, _a3, w4);                                   \
    cont                                                     \
  } while (0)

/* Montgomery-reduces the 512-bit t0..t7 (< p·2^256) into r. */
static inline __attribute__((always_inline)) void p_reduce(fe r, uint64_t t0, uint64_t t1, uint64_t t2,
                                                            uint64_t t3, uint64_t t4, uint64_t t5,
                                                            uint64_t t6, uint64_t t7) {
  uint64_t t8 = 0;
  P_ROUND(t0, t1, t2, t3, t4, {
    ADDC(_c, t5, 0, t5);
    ADDC(_c, t6, 0, t6);
    ADDC(_c, t7, 0, t7);
    t8 += _c;
  });
  P_ROUND(t1, t2, t3, t4, t5, {
    ADDC(_c, t6, 0, t6);
    ADDC(_c, t7, 0, t7);
    t8 += _c;
  });
  P_ROUND(t2, t3, t4, t5, t6, {
    ADDC(_c, t7, 0, t7);
    t8 += _c;
  });
  P_ROUND(t3, t4, t5, t6, t7, { t8 += _c; });
  final_sub4(r, t4, t5, t6, t7, t8, P);
}

/* Field product, square, sum, difference and small multiple: BMI2/ADX assembly (fe_adx.h) when sm2_init
   found the extensions, else portable C. */
#ifdef SM2_HAVE_ADX_CODE
static int use_adx;
/* The assembly inlined at each call site, the portable C out of line: a predictable branch on use_adx. */
#define FE_DISPATCH(name, params, args)                                                  \
  static inline __attribute__((always_inline)) void name params {                      \
    if (use_adx) name##_adx args;                                                        \
    else name##_c args;                                                                  \
  }
#else
#define FE_DISPATCH(name, params, args)                                                  \
  static inline __attribute__((always_inline)) void name params { name##_c args; }
#endif

static __attribute__((noinline)) void fe_mul_c(fe r, const fe a, const fe b) {
  const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  uint64_t t0, t1, t2, t3, t4, t5, t6, t7, c;
  uint64_t bi = b[0];
  MULADD(c, t0, a0, bi, 0, 0);
  MULADD(c, t1, a1, bi, 0, c);
  MULADD(c, t2, a2, bi, 0, c);
  MULADD(t4, t3, a3, bi, 0, c);
  bi = b[1];
  MULADD(c, t1, a0, bi, t1, 0);
  MULADD(c, t2, a1, bi, t2, c);
  MULADD(c, t3, a2, bi, t3, c);
  MULADD(t5, t4, a3, bi, t4, c);
  bi = b[2];
  MULADD(c, t2, a0, bi, t2, 0);
  MULADD(c, t3, a1, bi, t3, c);
  MULADD(c, t4, a2, bi, t4, c);
  MULADD(t6, t5, a3, bi, t5, c);
  bi = b[3];
  MULADD(c, t3, a0, bi, t3, 0);
  MULADD(c, t4, a1, bi, t4, c);
  MULADD(c, t5, a2, bi, t5, c);
  MULADD(t7, t6, a3, bi, t6, c);
  p_reduce(r, t0, t1, t2, t3, t4, t5, t6, t7);
}
FE_DISPATCH(fe_mul, (fe r, const fe a, const fe b), (r, a, b))

static __attribute__((noinline)) void fe_sqr_c(fe r, const fe a) {
  const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  uint64_t t1, t2, t3, t4, t5, t6, t7, c;
  /* off-diagonal a_i·a_j, i < j */
  MULADD(c, t1, a0, a1, 0, 0);
  MULADD(c, t2, a0, a2, 0, c);
  MULADD(t4, t3, a0, a3, 0, c);
  MULADD(c, t3, a1, a2, t3, 0);
  MULADD(t5, t4, a1, a3, t4, c);
  MULADD(t6, t5, a2, a3, t5, 0);
  /* ×2 */
  t7 = t6 >> 63;
  t6 = (t6 << 1) | (t5 >> 63);
  t5 = (t5 << 1) | (t4 >> 63);
  t4 = (t4 << 1) | (t3 >> 63);
  t3 = (t3 << 1) | (t2 >> 63);
  t2 = (t2 << 1) | (t1 >> 63);
  t1 <<= 1;
  /* + the squares a_i^2 on the diagonal */
  uint64_t s0, s1, s2, s3, s4, s5, s6, s7;
  MULADD(s1, s0, a0, a0, 0, 0);
  MULADD(s3, s2, a1, a1, 0, 0);
  MULADD(s5, s4, a2, a2, 0, 0);
  MULADD(s7, s6, a3, a3, 0, 0);
  carry_t k = 0;
  ADDC(k, t1, s1, t1);
  ADDC(k, t2, s2, t2);
  ADDC(k, t3, s3, t3);
  ADDC(k, t4, s4, t4);
  ADDC(k, t5, s5, t5);
  ADDC(k, t6, s6, t6);
  ADDC(k, t7, s7, t7);
  (void)k;
  p_reduce(r, s0, t1, t2, t3, t4, t5, t6, t7);
}
FE_DISPATCH(fe_sqr, (fe r, const fe a), (r, a))

static void fe_add_c(fe r, const fe a, const fe b) {
  mod_add(r, a, b, P);
}
FE_DISPATCH(fe_add, (fe r, const fe a, const fe b), (r, a, b))
static void fe_sub_c(fe r, const fe a, const fe b) {
  mod_sub(r, a, b, P);
}
FE_DISPATCH(fe_sub, (fe r, const fe a, const fe b), (r, a, b))
static void fe_neg(fe r, const fe a) {
  static const fe zero = {0, 0, 0, 0};
  mod_sub(r, zero, a, P);
}
static void fe_copy(fe r, const fe a) { memcpy(r, a, sizeof(fe)); }
static void fe_to_mont(fe r, const fe a) { fe_mul(r, a, RR_P); }
static void fe_from_mont(fe r, const fe a) {
  static const fe one = {1, 0, 0, 0};
  fe_mul(r, a, one);
}
static void fe_sqr_n(fe r, const fe a, int n) {
  fe_sqr(r, a);
  while (--n > 0) fe_sqr(r, r);
}

/*
 * a^(p-2) = a^-1 (a ≠ 0; 0 ↦ 0). p - 2 in binary, from the top: 31 ones, 0, 128 ones, 32 zeros, 32 ones,
 * 30 ones, 0, 1. With x_k = a^(2^k - 1): x2, x3, x6, x12, x15, x30, x31, x32, then square-and-multiply by
 * whole runs. 255 squarings, 13 multiplications; the sequence is fixed (CT).
 */
static void fe_inv(fe r, const fe a) {
  fe x2, x3, x6, x12, x15, x30, x31, x32, t;
  fe_sqr(t, a);
  fe_mul(x2, t, a);
  fe_sqr(t, x2);
  fe_mul(x3, t, a);
  fe_sqr_n(t, x3, 3);
  fe_mul(x6, t, x3);
  fe_sqr_n(t, x6, 6);
  fe_mul(x12, t, x6);
  fe_sqr_n(t, x12, 3);
  fe_mul(x15, t, x3);
  fe_sqr_n(t, x15, 15);
  fe_mul(x30, t, x15);
  fe_sqr(t, x30);
  fe_mul(x31, t, a);
  fe_sqr(t, x31);
  fe_mul(x32, t, a);
  /* t = a^(2^31-1), then a zero bit */
  fe_sqr(t, x31);
  for (int i = 0; i < 4; i++) { /* 128 ones */
    fe_sqr_n(t, t, 32);
    fe_mul(t, t, x32);
  }
  fe_sqr_n(t, t, 32); /* 32 zeros */
  fe_sqr_n(t, t, 32); /* 32 ones */
  fe_mul(t, t, x32);
  fe_sqr_n(t, t, 30); /* 30 ones */
  fe_mul(t, t, x30);
  fe_sqr(t, t); /* 0 */
  fe_sqr(t, t); /* 1 */
  fe_mul(r, t, a);
}

static int fe_is_zero_vt(const fe a) { return (a[0] | a[1] | a[2] | a[3]) == 0; }
static int fe_eq_vt(const fe a, const fe b) { return memcmp(a, b, sizeof(fe)) == 0; }

/* ---------------------------------------------------------------------------------------------------------
 * Scalars mod n (CT). sc_* values are plain (not Montgomery) unless named *_m.
 */
static void sc_mont_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) { mont_mul(r, a, b, N, N0); }

/* a mod n for any a < 2^256 (< 2n). */
static void sc_reduce(uint64_t r[4], const uint64_t a[4]) { final_sub(r, a, 0, N); }

/* a^(n-2)·R for a_m = a·R: fixed 4-bit windows over the public exponent n - 2. */
static void sc_inv_mont(uint64_t r[4], const uint64_t a_m[4]) {
  static const uint64_t E[4] = {0x53bbf40939d54121ULL, 0x7203df6b21c6052bULL, 0xffffffffffffffffULL,
                                0xfffffffeffffffffULL};
  uint64_t tab[16][4], acc[4];
  /* tab[i] = a^i·R; tab[0] = R mod n */
  static const uint64_t one[4] = {1, 0, 0, 0};
  sc_mont_mul(tab[0], one, RR_N);
  memcpy(tab[1], a_m, sizeof tab[1]);
  for (int i = 2; i < 16; i++) sc_mont_mul(tab[i], tab[i - 1], a_m);
  memcpy(acc, tab[0], sizeof acc);
  for (int i = 63; i >= 0; i--) {
    for (int j = 0; j < 4; j++) sc_mont_mul(acc, acc, acc);
    unsigned nib = (unsigned)(E[i / 16] >> ((i % 16) * 4)) & 15; /* public */
    sc_mont_mul(acc, acc, tab[nib]);
  }
  memcpy(r, acc, sizeof acc);
  secure_wipe(tab, sizeof tab);
  secure_wipe(acc, sizeof acc);
}

/* ---------------------------------------------------------------------------------------------------------
 * Points.
 */
typedef struct {
  fe x, y, z; /* Jacobian: (X/Z^2, Y/Z^3); infinity iff Z = 0 */
} jac;

typedef struct {
  fe x, y, z; /* homogeneous projective: (X/Z, Y/Z); infinity (0 : 1 : 0) */
} proj;

/* ---- VT Jacobian (verification, table building) ---- */

/* r = k·a mod p for a small k (≤ 8): one pass, folding the top word with 2^256 ≡ 2^224 + 2^96 − 2^64 + 1. CT. */
static __attribute__((noinline)) void fe_mul_small_c(fe r, const fe a, uint64_t k) {
  u128 t;
  uint64_t l0, l1, l2, l3, hi;
  t = (u128)a[0] * k;
  l0 = (uint64_t)t;
  t = (u128)a[1] * k + (uint64_t)(t >> 64);
  l1 = (uint64_t)t;
  t = (u128)a[2] * k + (uint64_t)(t >> 64);
  l2 = (uint64_t)t;
  t = (u128)a[3] * k + (uint64_t)(t >> 64);
  l3 = (uint64_t)t;
  hi = (uint64_t)(t >> 64);
  carry_t c = 0, c2 = 0;
  ADDC(c, l0, hi, l0);
  ADDC(c, l1, hi * 0xffffffffULL, l1);
  ADDC(c, l2, 0, l2);
  ADDC(c, l3, hi << 32, l3);
  uint64_t m = c; /* a carry out is worth 2^256 ≡ the same constant again; then no further carry */
  ADDC(c2, l0, m, l0);
  ADDC(c2, l1, m * 0xffffffffULL, l1);
  ADDC(c2, l2, 0, l2);
  ADDC(c2, l3, m << 32, l3);
  final_sub4(r, l0, l1, l2, l3, c2, P);
}
FE_DISPATCH(fe_mul_small, (fe r, const fe a, uint64_t k), (r, a, k))

/*
 * dbl-2001-b (Bernstein–Lange EFD), a = -3, with Z3 = 2·Y·Z instead of (Y + Z)^2 − gamma − delta (one
 * multiplication for a squaring and two subtractions) and 8·beta = 2·(4·beta): 4M + 4S. Z = 0 stays 0.
 * r may alias p.
 */
static void jac_dbl(jac *r, const jac *p) {
  fe delta, gamma, beta, alpha, t, u;
  fe_sqr(delta, p->z);
  fe_sqr(gamma, p->y);
  fe_mul(beta, p->x, gamma);
  fe_sub(t, p->x, delta);
  fe_add(u, p->x, delta);
  fe_mul(alpha, t, u);
  fe_mul_small(alpha, alpha, 3); /* alpha = 3 (X - delta)(X + delta) */
  fe_mul(t, p->y, p->z);
  fe_add(r->z, t, t); /* Z3 = 2 Y Z (p is not read after this) */
  fe_sqr(t, alpha);
  fe_mul_small(beta, beta, 4);
  fe_add(u, beta, beta);
  fe_sub(r->x, t, u); /* X3 = alpha^2 - 8 beta */
  fe_sub(t, beta, r->x);
  fe_mul(t, alpha, t);
  fe_sqr(gamma, gamma);
  fe_mul_small(gamma, gamma, 8); /* 8 gamma^2 */
  fe_sub(r->y, t, gamma); /* Y3 = alpha (4 beta - X3) - 8 gamma^2 */
}

static void jac_set_affine(jac *r, const sm2_affine *a) {
  fe_copy(r->x, a->x);
  fe_copy(r->y, a->y);
  fe_copy(r->z, ONE_P);
}

/* madd-2004-hmv: r = p + (x2, y2) with all special cases (VT). 8M + 3S. r may alias p. */
static void jac_add_affine_vt(jac *r, const jac *p, const fe x2, const fe y2) {
  if (fe_is_zero_vt(p->z)) {
    fe_copy(r->x, x2);
    fe_copy(r->y, y2);
    fe_copy(r->z, ONE_P);
    return;
  }
  fe z1z1, u2, s2, h, rr, hh, hhh, v, t;
  fe_sqr(z1z1, p->z);
  fe_mul(u2, x2, z1z1);
  fe_mul(s2, p->z, z1z1);
  fe_mul(s2, y2, s2);
  fe_sub(h, u2, p->x);
  fe_sub(rr, s2, p->y);
  if (fe_is_zero_vt(h)) {
    if (fe_is_zero_vt(rr)) {
      jac q;
      jac_dbl(&q, p);
      *r = q;
    } else {
      memset(r, 0, sizeof *r); /* P + (-P) */
    }
    return;
  }
  fe_sqr(hh, h);
  fe_mul(hhh, h, hh);
  fe_mul(v, p->x, hh);
  fe_mul(r->z, p->z, h);
  fe_sqr(t, rr);
  fe_sub(t, t, hhh);
  fe_sub(t, t, v);
  fe_sub(t, t, v); /* X3 = R^2 - H^3 - 2V */
  fe_sub(v, v, t);
  fe_mul(v, rr, v);
  fe_mul(hhh, p->y, hhh);
  fe_sub(r->y, v, hhh); /* Y3 = R (V - X3) - Y1 H^3 */
  fe_copy(r->x, t);
}

/* add-1998-cmo-2: r = p + q, all special cases (VT). 12M + 4S. r may alias p or q. */
static void jac_add_vt(jac *r, const jac *p, const jac *q) {
  if (fe_is_zero_vt(p->z)) {
    *r = *q;
    return;
  }
  if (fe_is_zero_vt(q->z)) {
    *r = *p;
    return;
  }
  fe z1z1, z2z2, u1, u2, s1, s2, h, rr, hh, hhh, v, t;
  fe_sqr(z1z1, p->z);
  fe_sqr(z2z2, q->z);
  fe_mul(u1, p->x, z2z2);
  fe_mul(u2, q->x, z1z1);
  fe_mul(s1, q->z, z2z2);
  fe_mul(s1, p->y, s1);
  fe_mul(s2, p->z, z1z1);
  fe_mul(s2, q->y, s2);
  fe_sub(h, u2, u1);
  fe_sub(rr, s2, s1);
  if (fe_is_zero_vt(h)) {
    if (fe_is_zero_vt(rr)) {
      jac d;
      jac_dbl(&d, p);
      *r = d;
    } else {
      memset(r, 0, sizeof *r);
    }
    return;
  }
  fe_sqr(hh, h);
  fe_mul(hhh, h, hh);
  fe_mul(v, u1, hh);
  fe_mul(t, p->z, q->z);
  fe_mul(r->z, t, h);
  fe_sqr(t, rr);
  fe_sub(t, t, hhh);
  fe_sub(t, t, v);
  fe_sub(t, t, v);
  fe_sub(v, v, t);
  fe_mul(v, rr, v);
  fe_mul(hhh, s1, hhh);
  fe_sub(r->y, v, hhh);
  fe_copy(r->x, t);
}

/* Batch conversion to affine (Montgomery's trick: one inversion). No input may be at infinity. */
static int jac_to_affine_batch(sm2_affine *out, const jac *in, size_t count) {
  fe *prefix = malloc(count * sizeof(fe));
  if (prefix == NULL) return 0;
  fe acc, inv, zi, zi2, t;
  fe_copy(acc, ONE_P);
  for (size_t i = 0; i < count; i++) {
    fe_copy(prefix[i], acc);
    fe_mul(acc, acc, in[i].z);
  }
  fe_inv(inv, acc);
  for (size_t i = count; i-- > 0;) {
    fe_mul(zi, inv, prefix[i]);   /* 1 / z_i */
    fe_mul(inv, inv, in[i].z);    /* 1 / (z_0 … z_{i-1}) */
    fe_sqr(zi2, zi);
    fe_mul(out[i].x, in[i].x, zi2);
    fe_mul(t, zi2, zi);
    fe_mul(out[i].y, in[i].y, t);
  }
  free(prefix);
  return 1;
}

/* ---- CT projective, complete formulas (Renes–Costello–Batina 2016, a = -3) ---- */

static void fe_mul_b(fe r, const fe a) { fe_mul(r, a, B_M); }

/* Algorithm 4: r = p + q for any p, q. 12M + 2m_b. r may alias p or q. */
static void proj_add(proj *r, const proj *p, const proj *q) {
  fe t0, t1, t2, t3, t4, x3, y3, z3;
  fe_mul(t0, p->x, q->x);
  fe_mul(t1, p->y, q->y);
  fe_mul(t2, p->z, q->z);
  fe_add(t3, p->x, p->y);
  fe_add(t4, q->x, q->y);
  fe_mul(t3, t3, t4);
  fe_add(t4, t0, t1);
  fe_sub(t3, t3, t4);
  fe_add(t4, p->y, p->z);
  fe_add(x3, q->y, q->z);
  fe_mul(t4, t4, x3);
  fe_add(x3, t1, t2);
  fe_sub(t4, t4, x3);
  fe_add(x3, p->x, p->z);
  fe_add(y3, q->x, q->z);
  fe_mul(x3, x3, y3);
  fe_add(y3, t0, t2);
  fe_sub(y3, x3, y3);
  fe_mul_b(z3, t2);
  fe_sub(x3, y3, z3);
  fe_add(z3, x3, x3);
  fe_add(x3, x3, z3);
  fe_sub(z3, t1, x3);
  fe_add(x3, t1, x3);
  fe_mul_b(y3, y3);
  fe_add(t1, t2, t2);
  fe_add(t2, t1, t2);
  fe_sub(y3, y3, t2);
  fe_sub(y3, y3, t0);
  fe_add(t1, y3, y3);
  fe_add(y3, t1, y3);
  fe_add(t1, t0, t0);
  fe_add(t0, t1, t0);
  fe_sub(t0, t0, t2);
  fe_mul(t1, t4, y3);
  fe_mul(t2, t0, y3);
  fe_mul(y3, x3, z3);
  fe_add(y3, y3, t2);
  fe_mul(x3, t3, x3);
  fe_sub(x3, x3, t1);
  fe_mul(z3, t4, z3);
  fe_mul(t1, t3, t0);
  fe_add(z3, z3, t1);
  fe_copy(r->x, x3);
  fe_copy(r->y, y3);
  fe_copy(r->z, z3);
}

/* Algorithm 5: r = p + (x2, y2), q affine (not infinity), p any. 11M + 2m_b. r may alias p. */
static void proj_add_affine(proj *r, const proj *p, const fe x2, const fe y2) {
  fe t0, t1, t2, t3, t4, x3, y3, z3;
  fe_mul(t0, p->x, x2);
  fe_mul(t1, p->y, y2);
  fe_add(t3, x2, y2);
  fe_add(t4, p->x, p->y);
  fe_mul(t3, t3, t4);
  fe_add(t4, t0, t1);
  fe_sub(t3, t3, t4);
  fe_mul(t4, y2, p->z);
  fe_add(t4, t4, p->y);
  fe_mul(y3, x2, p->z);
  fe_add(y3, y3, p->x);
  fe_mul_b(z3, p->z);
  fe_sub(x3, y3, z3);
  fe_add(z3, x3, x3);
  fe_add(x3, x3, z3);
  fe_sub(z3, t1, x3);
  fe_add(x3, t1, x3);
  fe_mul_b(y3, y3);
  fe_add(t1, p->z, p->z);
  fe_add(t2, t1, p->z);
  fe_sub(y3, y3, t2);
  fe_sub(y3, y3, t0);
  fe_add(t1, y3, y3);
  fe_add(y3, t1, y3);
  fe_add(t1, t0, t0);
  fe_add(t0, t1, t0);
  fe_sub(t0, t0, t2);
  fe_mul(t1, t4, y3);
  fe_mul(t2, t0, y3);
  fe_mul(y3, x3, z3);
  fe_add(y3, y3, t2);
  fe_mul(x3, t3, x3);
  fe_sub(x3, x3, t1);
  fe_mul(z3, t4, z3);
  fe_mul(t1, t3, t0);
  fe_add(z3, z3, t1);
  fe_copy(r->x, x3);
  fe_copy(r->y, y3);
  fe_copy(r->z, z3);
}

/* Algorithm 6: r = 2p for any p. 8M + 3S + 2m_b. r may alias p. */
static void proj_dbl(proj *r, const proj *p) {
  fe t0, t1, t2, t3, x3, y3, z3;
  fe_sqr(t0, p->x);
  fe_sqr(t1, p->y);
  fe_sqr(t2, p->z);
  fe_mul(t3, p->x, p->y);
  fe_add(t3, t3, t3);
  fe_mul(z3, p->x, p->z);
  fe_add(z3, z3, z3);
  fe_mul_b(y3, t2);
  fe_sub(y3, y3, z3);
  fe_add(x3, y3, y3);
  fe_add(y3, x3, y3);
  fe_sub(x3, t1, y3);
  fe_add(y3, t1, y3);
  fe_mul(y3, x3, y3);
  fe_mul(x3, x3, t3);
  fe_add(t3, t2, t2);
  fe_add(t2, t2, t3);
  fe_mul_b(z3, z3);
  fe_sub(z3, z3, t2);
  fe_sub(z3, z3, t0);
  fe_add(t3, z3, z3);
  fe_add(z3, z3, t3);
  fe_add(t3, t0, t0);
  fe_add(t0, t3, t0);
  fe_sub(t0, t0, t2);
  fe_mul(t0, t0, z3);
  fe_add(y3, y3, t0);
  fe_mul(t0, p->y, p->z);
  fe_add(t0, t0, t0);
  fe_mul(z3, t0, z3);
  fe_sub(x3, x3, z3);
  fe_mul(z3, t0, t1);
  fe_add(z3, z3, z3);
  fe_add(z3, z3, z3);
  fe_copy(r->x, x3);
  fe_copy(r->y, y3);
  fe_copy(r->z, z3);
}

static void proj_cmov(proj *r, const proj *a, uint64_t mask) {
  cmov(r->x, a->x, mask);
  cmov(r->y, a->y, mask);
  cmov(r->z, a->z, mask);
}

/* y ← -y if mask. */
static void fe_cneg(fe y, uint64_t mask) {
  fe n;
  fe_neg(n, y);
  cmov(y, n, mask);
}

/* All-ones if a == b (small non-negative ints), CT. */
static inline uint64_t small_eq_mask(uint64_t a, uint64_t b) {
  uint64_t d = a ^ b;
  return ((d | (0 - d)) >> 63) - 1;
}

/*
 * Booth recoding (CT): window i of width w of the scalar k (bits w·i - 1 … w·i + w - 1, bit -1 = 0) as a
 * signed digit d = b_{-1} + Σ_{j<w-1} 2^j b_j − 2^(w-1) b_{w-1} ∈ [−2^(w-1), 2^(w-1)], returned as |d| and
 * the sign mask. Σ d_i 2^(w i) = k.
 */
static void booth_digit(const uint64_t k[4], int w, int i, uint64_t *mag, uint64_t *negmask) {
  int start = w * i - 1; /* public */
  uint64_t v = 0;
  for (int j = 0; j <= w; j++) {
    int bit = start + j;
    if (bit < 0 || bit >= 256) continue; /* public positions */
    v |= ((k[bit >> 6] >> (bit & 63)) & 1) << j;
  }
  uint64_t neg = (v >> w) & 1;
  uint64_t half = (uint64_t)1 << (w - 1);
  uint64_t val = (v & 1) + ((v >> 1) & (half - 1));
  uint64_t m = 0 - neg;
  *mag = ((val ^ m) - m) + (half & m);
  *negmask = m;
}

/* ---------------------------------------------------------------------------------------------------------
 * Base-point tables, built once.
 */
#define COMB_W 7
#define COMB_WINDOWS 37 /* 37 · 7 = 259 ≥ 257 bits of Booth digits */
#define COMB_ENTRIES 64 /* |d| ∈ [1, 64] */
#define G_WNAF_W 8
#define G_WNAF_SIZE (1 << (G_WNAF_W - 2))
/* g_odd[j][i] = (2i+1)·2^(64 j)·G: the G side of the split verification (j = 0 is also the 256-bit one). */

static sm2_affine *comb; /* comb[i·64 + j] = (j+1)·2^(7i)·G */
static sm2_affine g_odd[SM2_SPLIT][G_WNAF_SIZE];
static sm2_affine g_affine;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_ok;

static void build_tables(void) {
  fe x, y;
  from_be(x, GX_BYTES);
  from_be(y, GY_BYTES);
  fe_to_mont(g_affine.x, x);
  fe_to_mont(g_affine.y, y);

  size_t total = COMB_WINDOWS * COMB_ENTRIES;
  jac *pts = malloc(total * sizeof(jac));
  sm2_affine *table = malloc(total * sizeof(sm2_affine));
  jac *odd = malloc(G_WNAF_SIZE * sizeof(jac));
  if (pts == NULL || table == NULL || odd == NULL) goto fail;
  jac base;
  jac_set_affine(&base, &g_affine);
  for (int i = 0; i < COMB_WINDOWS; i++) {
    jac *row = pts + (size_t)i * COMB_ENTRIES;
    row[0] = base;
    jac_dbl(&row[1], &base);
    for (int j = 2; j < COMB_ENTRIES; j++) jac_add_vt(&row[j], &row[j - 1], &base);
    for (int j = 0; j < COMB_W; j++) jac_dbl(&base, &base); /* 2^(7(i+1))·G */
  }
  if (!jac_to_affine_batch(table, pts, total)) goto fail;

  jac g, g2;
  jac_set_affine(&g, &g_affine);
  for (int s = 0; s < SM2_SPLIT; s++) {
    if (s > 0)
      for (int i = 0; i < 64; i++) jac_dbl(&g, &g); /* 2^(64 s)·G */
    jac_dbl(&g2, &g);
    odd[0] = g;
    for (int j = 1; j < G_WNAF_SIZE; j++) jac_add_vt(&odd[j], &odd[j - 1], &g2);
    if (!jac_to_affine_batch(g_odd[s], odd, G_WNAF_SIZE)) goto fail;
  }
  free(pts);
  free(odd);
  comb = table;
  init_ok = 1;
  return;
fail:
  free(pts);
  free(table);
  free(odd);
}

static void init(void) {
#ifdef SM2_HAVE_ADX_CODE
  const char *portable = getenv("YIZHENG_SM2_PORTABLE");
  use_adx = cpu_has_bmi2_adx() && !(portable != NULL && strcmp(portable, "1") == 0);
#endif
  build_tables();
}

int sm2_init(void) {
  pthread_once(&init_once, init);
  return init_ok;
}

sm2_impl sm2_get_impl(void) {
#ifdef SM2_HAVE_ADX_CODE
  if (use_adx) return SM2_IMPL_ADX;
#endif
  return SM2_IMPL_PORTABLE;
}

int sm2_set_impl(sm2_impl impl) {
  if (impl == SM2_IMPL_PORTABLE) {
#ifdef SM2_HAVE_ADX_CODE
    use_adx = 0;
#endif
    return 1;
  }
#ifdef SM2_HAVE_ADX_CODE
  if (impl == SM2_IMPL_ADX) {
    use_adx = 1;
    return 1;
  }
#endif
  return 0;
}

int sm2_cpu_has_adx(void) {
#ifdef SM2_HAVE_ADX_CODE
  return cpu_has_bmi2_adx();
#else
  return 0;
#endif
}

/* ---------------------------------------------------------------------------------------------------------
 * [k]G (CT): Σ_i d_i·2^(7i)·G over the comb; acc starts at infinity. For each window, a masked scan of the
 * 64 entries picks |d_i|·2^(7i)·G, its y is negated under the sign mask, and the complete mixed addition is
 * kept unless d_i = 0.
 */
static void mul_base_ct(proj *r, const uint64_t k[4]) {
  proj acc, sum;
  memset(&acc, 0, sizeof acc);
  fe_copy(acc.y, ONE_P);
  for (int i = 0; i < COMB_WINDOWS; i++) {
    uint64_t mag, neg;
    booth_digit(k, COMB_W, i, &mag, &neg);
    sm2_affine t;
    memset(&t, 0, sizeof t);
    const sm2_affine *row = comb + (size_t)i * COMB_ENTRIES;
    for (uint64_t j = 0; j < COMB_ENTRIES; j++) {
      uint64_t m = small_eq_mask(j + 1, mag);
      cmov(t.x, row[j].x, m);
      cmov(t.y, row[j].y, m);
    }
    fe_cneg(t.y, neg);
    proj_add_affine(&sum, &acc, t.x, t.y);
    proj_cmov(&acc, &sum, ~small_eq_mask(mag, 0));
  }
  *r = acc;
  secure_wipe(&acc, sizeof acc);
  secure_wipe(&sum, sizeof sum);
}

/* [k]Q (CT in k, Q public and valid): 5-bit Booth windows from the top, 16 projective multiples of Q. */
#define VAR_W 5
#define VAR_WINDOWS 52 /* 52 · 5 = 260 ≥ 257 */
static void mul_var_ct(proj *r, const sm2_affine *q, const uint64_t k[4]) {
  proj tab[16], acc, t;
  fe_copy(tab[0].x, q->x);
  fe_copy(tab[0].y, q->y);
  fe_copy(tab[0].z, ONE_P);
  for (int j = 1; j < 16; j++) proj_add(&tab[j], &tab[j - 1], &tab[0]); /* complete: j = 1 doubles */
  memset(&acc, 0, sizeof acc);
  fe_copy(acc.y, ONE_P);
  for (int i = VAR_WINDOWS - 1; i >= 0; i--) {
    for (int j = 0; j < VAR_W; j++) proj_dbl(&acc, &acc);
    uint64_t mag, neg;
    booth_digit(k, VAR_W, i, &mag, &neg);
    memset(&t, 0, sizeof t);
    fe_copy(t.y, ONE_P); /* infinity when |d| = 0 */
    for (uint64_t j = 0; j < 16; j++) proj_cmov(&t, &tab[j], small_eq_mask(j + 1, mag));
    fe_cneg(t.y, neg);
    proj_add(&acc, &acc, &t);
  }
  *r = acc;
  secure_wipe(&acc, sizeof acc);
  secure_wipe(&t, sizeof t);
}

/* Affine big-endian x (and y) of a projective point that is not at infinity (CT). */
static void proj_to_bytes(uint8_t *x_out, uint8_t *y_out, const proj *p) {
  fe zi, t;
  fe_inv(zi, p->z);
  fe_mul(t, p->x, zi);
  fe_from_mont(t, t);
  to_be(x_out, t);
  if (y_out != NULL) {
    fe_mul(t, p->y, zi);
    fe_from_mont(t, t);
    to_be(y_out, t);
  }
  secure_wipe(zi, sizeof zi);
  secure_wipe(t, sizeof t);
}

/* 1 ≤ a ≤ n - 2 (CT; the caller declassifies the result). */
static uint64_t private_key_ok_mask(const uint64_t a[4]) {
  static const uint64_t NM1[4] = {0x53bbf40939d54122ULL, 0x7203df6b21c6052bULL, 0xffffffffffffffffULL,
                                  0xfffffffeffffffffULL};
  return ~is_zero_mask(a) & lt_mask(a, NM1);
}

int sm2_public_from_private(uint8_t out[65], const uint8_t d_bytes[32]) {
  uint64_t d[4];
  from_be(d, d_bytes);
  uint64_t ok = private_key_ok_mask(d);
  DECLASSIFY(&ok, sizeof ok);
  if (!ok) {
    secure_wipe(d, sizeof d);
    return 0;
  }
  proj p;
  mul_base_ct(&p, d);
  out[0] = 0x04;
  proj_to_bytes(out + 1, out + 33, &p);
  secure_wipe(d, sizeof d);
  secure_wipe(&p, sizeof p);
  return 1;
}

int sm2_scalar_is_valid_nonce(const uint8_t k_bytes[32]) {
  uint64_t k[4];
  from_be(k, k_bytes);
  uint64_t ok = ~is_zero_mask(k) & lt_mask(k, N);
  DECLASSIFY(&ok, sizeof ok);
  secure_wipe(k, sizeof k);
  return ok != 0;
}

void sm2_reduce_mod_n(uint8_t out[32], const uint8_t in[32]) {
  uint64_t a[4];
  from_be(a, in);
  sc_reduce(a, a);
  to_be(out, a);
  secure_wipe(a, sizeof a);
}

int sm2_signing_key_init(sm2_signing_key *key, const uint8_t d_bytes[32]) {
  static const uint64_t one[4] = {1, 0, 0, 0};
  uint64_t t[4], t_m[4];
  memcpy(key->d_bytes, d_bytes, 32);
  from_be(key->d, d_bytes);
  uint64_t ok = private_key_ok_mask(key->d);
  DECLASSIFY(&ok, sizeof ok);
  if (!ok) {
    secure_wipe(key, sizeof *key);
    return 0;
  }
  mod_add(t, key->d, one, N);        /* 1 + d ≤ n - 1 */
  sc_mont_mul(t_m, t, RR_N);         /* (1 + d)·R */
  sc_inv_mont(key->dinv_m, t_m);     /* (1 + d)^-1·R */
  sc_mont_mul(key->d_m, key->d, RR_N); /* d·R */
  secure_wipe(t, sizeof t);
  secure_wipe(t_m, sizeof t_m);
  return 1;
}

int sm2_sign_prepared_with_k(uint8_t rs[64], const uint8_t e_bytes[32], const sm2_signing_key *key,
                             const uint8_t k_bytes[32]) {
  uint64_t k[4], e[4], x1[4], r[4], s[4], t[4], rd[4];
  int result = 0;
  from_be(k, k_bytes);
  from_be(e, e_bytes);
  uint64_t ok = ~is_zero_mask(k) & lt_mask(k, N); /* A3: k ∈ [1, n-1] */
  DECLASSIFY(&ok, sizeof ok);
  if (!ok) goto done;

  /* A4: (x1, y1) = [k]G */
  proj kg;
  uint8_t xb[32];
  mul_base_ct(&kg, k);
  proj_to_bytes(xb, NULL, &kg);
  from_be(x1, xb);
  secure_wipe(&kg, sizeof kg);
  secure_wipe(xb, sizeof xb);
  sc_reduce(x1, x1); /* x1 < p < 2n */
  /* A5: r = (e + x1) mod n; retry if r = 0 or r + k = n */
  sc_reduce(e, e);
  mod_add(r, e, x1, N);
  uint64_t nk[4];
  mod_sub(nk, N, k, N); /* n - k (k ≠ 0) */
  uint64_t retry = is_zero_mask(r) | eq_mask(r, nk);
  secure_wipe(nk, sizeof nk);
  /* A6: s = (1 + d)^-1 · (k - r·d) mod n */
  sc_mont_mul(rd, r, key->d_m);     /* r·d */
  mod_sub(t, k, rd, N);             /* k - r·d */
  sc_mont_mul(s, t, key->dinv_m);   /* s */
  retry |= is_zero_mask(s);
  DECLASSIFY(&retry, sizeof retry);
  if (retry) goto done;
  /* A7 */
  DECLASSIFY(r, sizeof r);
  DECLASSIFY(s, sizeof s);
  to_be(rs, r);
  to_be(rs + 32, s);
  result = 1;
done:
  secure_wipe(k, sizeof k);
  secure_wipe(x1, sizeof x1);
  secure_wipe(s, sizeof s);
  secure_wipe(t, sizeof t);
  secure_wipe(rd, sizeof rd);
  return result;
}

int sm2_sign_with_k(uint8_t rs[64], const uint8_t e_bytes[32], const uint8_t d_bytes[32],
                    const uint8_t k_bytes[32]) {
  sm2_signing_key key;
  if (!sm2_signing_key_init(&key, d_bytes)) return -1;
  int result = sm2_sign_prepared_with_k(rs, e_bytes, &key, k_bytes);
  secure_wipe(&key, sizeof key);
  return result;
}

int sm2_mul(uint8_t out[65], const sm2_pubkey *q, const uint8_t k_bytes[32]) {
  uint64_t k[4];
  from_be(k, k_bytes);
  sc_reduce(k, k);
  proj p;
  mul_var_ct(&p, &q->p, k);
  uint64_t inf = is_zero_mask(p.z);
  DECLASSIFY(&inf, sizeof inf);
  int ok = 0;
  if (!inf) {
    out[0] = 0x04;
    proj_to_bytes(out + 1, out + 33, &p);
    ok = 1;
  }
  secure_wipe(k, sizeof k);
  secure_wipe(&p, sizeof p);
  return ok;
}

/* ---------------------------------------------------------------------------------------------------------
 * Public keys and verification (VT).
 */
int sm2_pubkey_parse(sm2_pubkey *pk, const uint8_t in[65]) {
  if (in[0] != 0x04) return 0;
  fe x, y, lhs, rhs, t;
  from_be(x, in + 1);
  from_be(y, in + 33);
  if (!lt_mask(x, P) || !lt_mask(y, P)) return 0;
  fe_to_mont(x, x);
  fe_to_mont(y, y);
  /* y^2 = x^3 - 3x + b */
  fe_sqr(lhs, y);
  fe_sqr(rhs, x);
  fe_mul(rhs, rhs, x);
  fe_add(t, x, x);
  fe_add(t, t, x);
  fe_sub(rhs, rhs, t);
  fe_add(rhs, rhs, B_M);
  if (!fe_eq_vt(lhs, rhs)) return 0;
  fe_copy(pk->p.x, x);
  fe_copy(pk->p.y, y);
  pk->has_table = 0;
  return 1;
}

void sm2_pubkey_precompute(sm2_pubkey *pk) {
  jac odd[SM2_SPLIT * SM2_KEY_TABLE_SIZE], base, twice;
  jac_set_affine(&base, &pk->p);
  for (int s = 0; s < SM2_SPLIT; s++) {
    if (s > 0)
      for (int i = 0; i < 64; i++) jac_dbl(&base, &base); /* 2^(64 s)·P */
    jac *row = odd + s * SM2_KEY_TABLE_SIZE;
    jac_dbl(&twice, &base);
    row[0] = base;
    for (int j = 1; j < SM2_KEY_TABLE_SIZE; j++) jac_add_vt(&row[j], &row[j - 1], &twice);
  }
  /* Odd multiples below 2^(W-1) of points of prime order n are never at infinity. */
  pk->has_table = jac_to_affine_batch(&pk->table[0][0], odd, SM2_SPLIT * SM2_KEY_TABLE_SIZE);
}

/* Bits pos … pos + n − 1 of the 5-word k (n ≤ 8, pos ≤ 256). */
static inline unsigned get_bits(const uint64_t k[5], int pos, int n) {
  int limb = pos >> 6, off = pos & 63;
  uint64_t v = k[limb] >> off;
  if (off + n > 64) v |= k[limb + 1] << (64 - off);
  return (unsigned)(v & ((1u << n) - 1));
}

/*
 * Width-w NAF of the nlimbs-word k (VT): out[i] ∈ {0, ±1, ±3, …, ±(2^(w−1) − 1)}, Σ out[i]·2^i = k, at most one
 * non-zero digit in any w consecutive positions. Reads windows in place (as libsecp256k1's ecmult_wnaf):
 * where bit i equals the pending carry, the digit is 0; otherwise the w-bit window plus the carry is odd and
 * becomes a signed digit, and the carry is whether it was taken negative. The window at the top is short
 * and, being odd and below 2^(w−1), never carries out. Returns the index of the top non-zero digit + 1
 * (0 for k = 0); out has 64·nlimbs + 1 entries.
 */
static int wnaf(int8_t *out, const uint64_t *k_in, int nlimbs, int w) {
  uint64_t k[5] = {0, 0, 0, 0, 0};
  memcpy(k, k_in, (size_t)nlimbs * sizeof(uint64_t));
  const int len = 64 * nlimbs + 1;
  memset(out, 0, (size_t)len);
  int bit = 0, carry = 0, top = 0;
  while (bit < len) {
    if ((int)get_bits(k, bit, 1) == carry) {
      bit++;
      continue;
    }
    int now = len - bit < w ? len - bit : w;
    int word = (int)get_bits(k, bit, now) + carry;
    carry = (word >> (w - 1)) & 1;
    word -= carry << w;
    out[bit] = (int8_t)word;
    top = bit + 1;
    bit += now;
  }
  return top;
}

/* acc += d·T[|d|/2] for an affine odd-multiple table (VT). */
static inline void add_digit(jac *acc, int d, const sm2_affine *table) {
  if (d > 0) {
    jac_add_affine_vt(acc, acc, table[d >> 1].x, table[d >> 1].y);
  } else if (d < 0) {
    fe ny;
    fe_neg(ny, table[(-d) >> 1].y);
    jac_add_affine_vt(acc, acc, table[(-d) >> 1].x, ny);
  }
}

/*
 * [s]G + [t]P for a key with split tables: eight interleaved 64-bit wNAF expansions (s_j over 2^(64 j)G,
 * t_j over 2^(64 j)P), 64 shared doublings.
 */
static void double_mul_split(jac *acc, const uint64_t s[4], const uint64_t t[4], const sm2_pubkey *pk) {
  int8_t ns[SM2_SPLIT][65], nt[SM2_SPLIT][65];
  int top = 0;
  for (int j = 0; j < SM2_SPLIT; j++) {
    int a = wnaf(ns[j], &s[j], 1, G_WNAF_W), b = wnaf(nt[j], &t[j], 1, SM2_KEY_TABLE_W);
    if (a > top) top = a;
    if (b > top) top = b;
  }
  memset(acc, 0, sizeof *acc);
  for (int i = top - 1; i >= 0; i--) {
    if (!fe_is_zero_vt(acc->z)) jac_dbl(acc, acc);
    for (int j = 0; j < SM2_SPLIT; j++) {
      add_digit(acc, ns[j][i], g_odd[j]);
      add_digit(acc, nt[j][i], pk->table[j]);
    }
  }
}

/* [s]G + [t]P for a key without tables: 256-bit interleaved wNAF, P's odd multiples in Jacobian form. */
static void double_mul_plain(jac *acc, const uint64_t s[4], const uint64_t t[4], const sm2_pubkey *pk) {
  int8_t ns[257], nt[257];
  int ls = wnaf(ns, s, 4, G_WNAF_W);
  int lt = wnaf(nt, t, 4, 5);
  jac ptab[8], p2;
  jac_set_affine(&ptab[0], &pk->p);
  jac_dbl(&p2, &ptab[0]);
  for (int j = 1; j < 8; j++) jac_add_vt(&ptab[j], &ptab[j - 1], &p2);
  memset(acc, 0, sizeof *acc);
  int top = ls > lt ? ls : lt;
  for (int i = top - 1; i >= 0; i--) {
    if (!fe_is_zero_vt(acc->z)) jac_dbl(acc, acc);
    add_digit(acc, ns[i], g_odd[0]);
    int d = nt[i];
    if (d > 0) {
      jac_add_vt(acc, acc, &ptab[d >> 1]);
    } else if (d < 0) {
      jac q = ptab[(-d) >> 1];
      fe_neg(q.y, q.y);
      jac_add_vt(acc, acc, &q);
    }
  }
}

int sm2_verify(const uint8_t e_bytes[32], const uint8_t rs[64], const sm2_pubkey *pk) {
  uint64_t e[4], r[4], s[4], t[4], c[4];
  from_be(e, e_bytes);
  from_be(r, rs);
  from_be(s, rs + 32);
  /* B1, B2: r, s ∈ [1, n-1] */
  if (fe_is_zero_vt(r) || !lt_mask(r, N) || fe_is_zero_vt(s) || !lt_mask(s, N)) return 0;
  /* B5: t = (r + s) mod n, t ≠ 0 */
  mod_add(t, r, s, N);
  if (fe_is_zero_vt(t)) return 0;

  /* B6: (x1, y1) = [s]G + [t]P (Straus: interleaved wNAF, shared doublings) */
  jac acc;
  if (pk->has_table) double_mul_split(&acc, s, t, pk);
  else double_mul_plain(&acc, s, t, pk);
  if (fe_is_zero_vt(acc.z)) return 0;

  /* B7: R = (e + x1) mod n = r  ⇔  x1 ≡ r - e (mod n); x1 < p < 2n, so x1 = c or x1 = c + n (if < p).
     Compared in Jacobian form: X = x1·Z^2. */
  sc_reduce(e, e);
  mod_sub(c, r, e, N);
  fe z2, cm, lhs;
  fe_sqr(z2, acc.z);
  fe_to_mont(cm, c);
  fe_mul(lhs, cm, z2);
  if (fe_eq_vt(lhs, acc.x)) return 1;
  uint64_t c2[4], carry = 0;
  for (int i = 0; i < 4; i++) c2[i] = addc(c[i], N[i], &carry);
  if (carry || !lt_mask(c2, P)) return 0;
  fe_to_mont(cm, c2);
  fe_mul(lhs, cm, z2);
  return fe_eq_vt(lhs, acc.x);
}
