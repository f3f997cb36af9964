/*
 * Montgomery multiplication and squaring in the SM2 field with the BMI2 and ADX instructions (x86-64): mulx (a
 * product that leaves the flags alone) and adcx/adox (two independent carry chains, CF and OF), so each row
 * of the schoolbook product adds its low and high halves in parallel; the reduction follows in the same asm
 * block. Included by sm2p256.c only, which selects this path at run time when CPUID reports both extensions (sm2_init; sm2_set_impl forces either path for tests).
 *
 * Side channels: straight-line code with no memory index or branch depending on the operands (mulx, adcx,
 * adox, add, adc, xor run in data-independent time), so it serves signing too; the valgrind constant-time
 * test runs it with the secrets marked undefined (test/ct_harness.c `adx`).
 */
#ifndef YIZHENG_FE_ADX_H
#define YIZHENG_FE_ADX_H

#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SM2_HAVE_ADX_CODE 1
#include <cpuid.h>

/* 1 iff the CPU has BMI2 (CPUID.7.0:EBX bit 8) and ADX (bit 19). */
static int cpu_has_bmi2_adx(void) {
  unsigned a, b, c, d;
  if (__get_cpuid_max(0, NULL) < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  return ((b >> 8) & 1) && ((b >> 19) & 1);
}

/* One row i ≥ 1 of the product: (t[i..i+4]) += a·b_i, with b_i in rdx; CF and OF start clear (z = 0). */
#define ADX_ROW(ti, ti1, ti2, ti3, ti4)                      \
  "mulxq 0(%[a]), %[lo], %[hi]\n\t"                          \
  "adoxq %[lo], %[" ti "]\n\t"                               \
  "adcxq %[hi], %[" ti1 "]\n\t"                              \
  "mulxq 8(%[a]), %[lo], %[hi]\n\t"                          \
  "adoxq %[lo], %[" ti1 "]\n\t"                              \
  "adcxq %[hi], %[" ti2 "]\n\t"                              \
  "mulxq 16(%[a]), %[lo], %[hi]\n\t"                         \
  "adoxq %[lo], %[" ti2 "]\n\t"                              \
  "adcxq %[hi], %[" ti3 "]\n\t"                              \
  "mulxq 24(%[a]), %[lo], %[" ti4 "]\n\t"                    \
  "adoxq %[lo], %[" ti3 "]\n\t"                              \
  "adcxq %[z], %[" ti4 "]\n\t"                               \
  "adoxq %[z], %[" ti4 "]\n\t"

/*
 * Montgomery reduction of the 512-bit t0..t7 (< p·2^256) by p, in the same asm block as the product (the
 * pointer registers a and b and rdx are free by then). As in p_reduce (sm2p256.c): since -p^-1 ≡ 1 mod 2^64,
 * the quotient digit of round i is the low word m = t_i itself, and (t + m·p) / 2^64 adds
 *   A = m·(2^192 + 1) − (m << 32)·(2^128 + 1) = [m − lo, −hi, −lo, m − hi]   (lo = m << 32, hi = m >> 32)
 * to the next four words (A ≥ 0, so the borrow chain ends at 0) and propagates the carry to the top. After
 * round i the value is < p·2^(64(3−i)) + p, so only the last round can carry out of t7 (into z, zero from the
 * product). The result t4..t7, z is < 2p; one conditional subtraction (cmov) reduces it.
 */
#define ADX_RED_A(m)                                         \
  "movq %[" m "], %[lo]\n\t"                                 \
  "shlq $32, %[lo]\n\t"                                      \
  "movq %[" m "], %[hi]\n\t"                                 \
  "shrq $32, %[hi]\n\t"                                      \
  "movq %[" m "], %[a]\n\t"                                  \
  "subq %[lo], %[a]\n\t"                                     \
  "movl $0, %k[b]\n\t"                                       \
  "sbbq %[hi], %[b]\n\t"                                     \
  "movl $0, %%edx\n\t"                                       \
  "sbbq %[lo], %%rdx\n\t"                                    \
  "sbbq %[hi], %[" m "]\n\t"
#define ADX_RED_ADD(m, w1, w2, w3, w4)                       \
  "addq %[a], %[" w1 "]\n\t"                                 \
  "adcq %[b], %[" w2 "]\n\t"                                 \
  "adcq %%rdx, %[" w3 "]\n\t"                                \
  "adcq %[" m "], %[" w4 "]\n\t"
#define ADX_REDUCE                                                                         \
  ADX_RED_A("t0") ADX_RED_ADD("t0", "t1", "t2", "t3", "t4")                                \
  "adcq $0, %[t5]\n\tadcq $0, %[t6]\n\tadcq $0, %[t7]\n\t"                                   \
  ADX_RED_A("t1") ADX_RED_ADD("t1", "t2", "t3", "t4", "t5")                                \
  "adcq $0, %[t6]\n\tadcq $0, %[t7]\n\t"                                                    \
  ADX_RED_A("t2") ADX_RED_ADD("t2", "t3", "t4", "t5", "t6")                                \
  "adcq $0, %[t7]\n\t"                                                                       \
  ADX_RED_A("t3") ADX_RED_ADD("t3", "t4", "t5", "t6", "t7")                                \
  "adcq $0, %[z]\n\t"                                                                      \
  /* (t4..t7, z) − p into t0..t3; keep t4..t7 where that borrows */                        \
  "movq %[t4], %[t0]\n\t"                                                                  \
  "movq %[t5], %[t1]\n\t"                                                                  \
  "movq %[t6], %[t2]\n\t"                                                                  \
  "movq %[t7], %[t3]\n\t"                                                                  \
  "subq $-1, %[t0]\n\t"                                                                    \
  "sbbq %[p1], %[t1]\n\t"                                                                  \
  "sbbq $-1, %[t2]\n\t"                                                                    \
  "sbbq %[p3], %[t3]\n\t"                                                                  \
  "sbbq $0, %[z]\n\t"                                                                      \
  "cmovcq %[t4], %[t0]\n\t"                                                                \
  "cmovcq %[t5], %[t1]\n\t"                                                                \
  "cmovcq %[t6], %[t2]\n\t"                                                                \
  "cmovcq %[t7], %[t3]\n\t"

static const uint64_t ADX_P1 = 0xffffffff00000000ULL, ADX_P3 = 0xfffffffeffffffffULL;

#define ADX_OUTPUTS                                                                          \
  [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),            \
      [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi),        \
      [z] "=&r"(z), [a] "+r"(ap), [b] "+r"(bp)

/* r = a·b·2^-256 mod p (Montgomery product), a, b < p; fully reduced. */
static inline __attribute__((always_inline)) void fe_mul_adx(uint64_t r[4], const uint64_t a[4],
                                                              const uint64_t b[4]) {
  uint64_t t0, t1, t2, t3, t4, t5, t6, t7, lo, hi, z;
  const uint64_t *ap = a, *bp = b;
  __asm__("movq 0(%[b]), %%rdx\n\t"
          "mulxq 0(%[a]), %[t0], %[t1]\n\t"
          "mulxq 8(%[a]), %[lo], %[t2]\n\t"
          "addq %[lo], %[t1]\n\t"
          "mulxq 16(%[a]), %[lo], %[t3]\n\t"
          "adcq %[lo], %[t2]\n\t"
          "mulxq 24(%[a]), %[lo], %[t4]\n\t"
          "adcq %[lo], %[t3]\n\t"
          "adcq $0, %[t4]\n\t"
          "xorl %k[z], %k[z]\n\t"
          "movq 8(%[b]), %%rdx\n\t" ADX_ROW("t1", "t2", "t3", "t4", "t5")
          "movq 16(%[b]), %%rdx\n\t" ADX_ROW("t2", "t3", "t4", "t5", "t6")
          "movq 24(%[b]), %%rdx\n\t" ADX_ROW("t3", "t4", "t5", "t6", "t7")
          ADX_REDUCE
          : ADX_OUTPUTS
          : [p1] "m"(ADX_P1), [p3] "m"(ADX_P3)
          : "rdx", "cc", "memory");
  r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
}

/*
 * r = a^2·2^-256 mod p: the six products a_i·a_j (i < j), doubled, plus the four squares a_i^2 on the
 * diagonal (10 mulx instead of 16), then the same reduction.
 */
static inline __attribute__((always_inline)) void fe_sqr_adx(uint64_t r[4], const uint64_t a[4]) {
  uint64_t t0, t1, t2, t3, t4, t5, t6, t7, lo, hi, z;
  const uint64_t *ap = a, *bp = a;
  __asm__(/* off-diagonal: a0·(a1, a2, a3) */
          "movq 0(%[a]), %%rdx\n\t"
          "mulxq 8(%[a]), %[t1], %[t2]\n\t"
          "mulxq 16(%[a]), %[lo], %[t3]\n\t"
          "addq %[lo], %[t2]\n\t"
          "mulxq 24(%[a]), %[lo], %[t4]\n\t"
          "adcq %[lo], %[t3]\n\t"
          "adcq $0, %[t4]\n\t"
          /* a1·(a2, a3) */
          "xorl %k[z], %k[z]\n\t"
          "movq 8(%[a]), %%rdx\n\t"
          "mulxq 16(%[a]), %[lo], %[hi]\n\t"
          "adoxq %[lo], %[t3]\n\t"
          "adcxq %[hi], %[t4]\n\t"
          "mulxq 24(%[a]), %[lo], %[t5]\n\t"
          "adoxq %[lo], %[t4]\n\t"
          "adcxq %[z], %[t5]\n\t"
          "adoxq %[z], %[t5]\n\t"
          /* a2·a3 */
          "movq 16(%[a]), %%rdx\n\t"
          "mulxq 24(%[a]), %[lo], %[t6]\n\t"
          "addq %[lo], %[t5]\n\t"
          "adcq $0, %[t6]\n\t"
          /* ×2 (t7 takes the carry out) */
          "xorl %k[t7], %k[t7]\n\t"
          "addq %[t1], %[t1]\n\t"
          "adcq %[t2], %[t2]\n\t"
          "adcq %[t3], %[t3]\n\t"
          "adcq %[t4], %[t4]\n\t"
          "adcq %[t5], %[t5]\n\t"
          "adcq %[t6], %[t6]\n\t"
          "adcq $0, %[t7]\n\t"
          /* + the diagonal */
          "movq 0(%[a]), %%rdx\n\t"
          "mulxq %%rdx, %[t0], %[hi]\n\t"
          "addq %[hi], %[t1]\n\t"
          "movq 8(%[a]), %%rdx\n\t"
          "mulxq %%rdx, %[lo], %[hi]\n\t"
          "adcq %[lo], %[t2]\n\t"
          "adcq %[hi], %[t3]\n\t"
          "movq 16(%[a]), %%rdx\n\t"
          "mulxq %%rdx, %[lo], %[hi]\n\t"
          "adcq %[lo], %[t4]\n\t"
          "adcq %[hi], %[t5]\n\t"
          "movq 24(%[a]), %%rdx\n\t"
          "mulxq %%rdx, %[lo], %[hi]\n\t"
          "adcq %[lo], %[t6]\n\t"
          "adcq %[hi], %[t7]\n\t"
          ADX_REDUCE
          : ADX_OUTPUTS
          : [p1] "m"(ADX_P1), [p3] "m"(ADX_P3)
          : "rdx", "cc", "memory");
  r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
}

/* r = a + b mod p for a, b < p: the sum, then (sum − p) unless that borrows (cmov). */
static inline __attribute__((always_inline)) void fe_add_adx(uint64_t r[4], const uint64_t a[4],
                                                              const uint64_t b[4]) {
  uint64_t t0 = a[0], t1 = a[1], t2 = a[2], t3 = a[3], u0, u1, u2, u3, c;
  __asm__("xorl %k[c], %k[c]\n\t"
          "addq 0(%[b]), %[t0]\n\t"
          "adcq 8(%[b]), %[t1]\n\t"
          "adcq 16(%[b]), %[t2]\n\t"
          "adcq 24(%[b]), %[t3]\n\t"
          "adcq $0, %[c]\n\t"
          "movq %[t0], %[u0]\n\t"
          "movq %[t1], %[u1]\n\t"
          "movq %[t2], %[u2]\n\t"
          "movq %[t3], %[u3]\n\t"
          "subq $-1, %[u0]\n\t"
          "sbbq %[p1], %[u1]\n\t"
          "sbbq $-1, %[u2]\n\t"
          "sbbq %[p3], %[u3]\n\t"
          "sbbq $0, %[c]\n\t"
          "cmovncq %[u0], %[t0]\n\t"
          "cmovncq %[u1], %[t1]\n\t"
          "cmovncq %[u2], %[t2]\n\t"
          "cmovncq %[u3], %[t3]\n\t"
          : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3), [u0] "=&r"(u0), [u1] "=&r"(u1),
            [u2] "=&r"(u2), [u3] "=&r"(u3), [c] "=&r"(c)
          : [b] "r"(b), "m"(*(const uint64_t(*)[4])b), [p1] "m"(ADX_P1), [p3] "m"(ADX_P3)
          : "cc");
  r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
}

/* r = a − b mod p for a, b < p: the difference, plus p masked by the borrow (p's words are -1, mask << 32,
   -1, mask with bit 32 cleared). */
static inline __attribute__((always_inline)) void fe_sub_adx(uint64_t r[4], const uint64_t a[4],
                                                              const uint64_t b[4]) {
  uint64_t t0 = a[0], t1 = a[1], t2 = a[2], t3 = a[3], m, m1, m3;
  __asm__("subq 0(%[b]), %[t0]\n\t"
          "sbbq 8(%[b]), %[t1]\n\t"
          "sbbq 16(%[b]), %[t2]\n\t"
          "sbbq 24(%[b]), %[t3]\n\t"
          "sbbq %[m], %[m]\n\t"
          "movq %[m], %[m1]\n\t"
          "shlq $32, %[m1]\n\t"
          "movq %[m], %[m3]\n\t"
          "btrq $32, %[m3]\n\t"
          "addq %[m], %[t0]\n\t"
          "adcq %[m1], %[t1]\n\t"
          "adcq %[m], %[t2]\n\t"
          "adcq %[m3], %[t3]\n\t"
          : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3), [m] "=&r"(m), [m1] "=&r"(m1),
            [m3] "=&r"(m3)
          : [b] "r"(b), "m"(*(const uint64_t(*)[4])b)
          : "cc");
  r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
}

/*
 * r = k·a mod p for a < p and a small k (≤ 8): the 320-bit product, its top word h folded back with
 * 2^256 ≡ 2^224 + 2^96 − 2^64 + 1 (adds h, h·(2^32 − 1), 0, h << 32), a carry out of that folded once more
 * (it cannot carry again), then one conditional subtraction of p.
 */
static inline __attribute__((always_inline)) void fe_mul_small_adx(uint64_t r[4], const uint64_t a[4],
                                                                    uint64_t k) {
  uint64_t t0, t1, t2, t3, h, x, y, u2, u3, kd = k;
  __asm__("mulxq 0(%[a]), %[t0], %[x]\n\t"
          "mulxq 8(%[a]), %[t1], %[y]\n\t"
          "addq %[x], %[t1]\n\t"
          "mulxq 16(%[a]), %[t2], %[x]\n\t"
          "adcq %[y], %[t2]\n\t"
          "mulxq 24(%[a]), %[t3], %[h]\n\t"
          "adcq %[x], %[t3]\n\t"
          "adcq $0, %[h]\n\t"
          /* fold h: + [h, h·(2^32 − 1), 0, h << 32] */
          "movq %[h], %[x]\n\t"
          "shlq $32, %[x]\n\t"
          "movq %[x], %[y]\n\t"
          "subq %[h], %[y]\n\t"
          "addq %[h], %[t0]\n\t"
          "adcq %[y], %[t1]\n\t"
          "adcq $0, %[t2]\n\t"
          "adcq %[x], %[t3]\n\t"
          /* a carry c is 2^256 again: + [c, c·(2^32 − 1), 0, c << 32] (as a mask: c·(2^32 − 1) = mask >> 32) */
          "sbbq %[h], %[h]\n\t"
          "movq %[h], %[x]\n\t"
          "shrq $32, %[x]\n\t"
          "negq %[h]\n\t"
          "movq %[h], %[y]\n\t"
          "shlq $32, %[y]\n\t"
          "addq %[h], %[t0]\n\t"
          "adcq %[x], %[t1]\n\t"
          "adcq $0, %[t2]\n\t"
          "adcq %[y], %[t3]\n\t"
          "movl $0, %k[h]\n\t"
          "adcq $0, %[h]\n\t"
          /* − p unless that borrows */
          "movq %[t0], %[x]\n\t"
          "movq %[t1], %[y]\n\t"
          "movq %[t2], %[u2]\n\t"
          "movq %[t3], %[u3]\n\t"
          "subq $-1, %[x]\n\t"
          "sbbq %[p1], %[y]\n\t"
          "sbbq $-1, %[u2]\n\t"
          "sbbq %[p3], %[u3]\n\t"
          "sbbq $0, %[h]\n\t"
          "cmovncq %[x], %[t0]\n\t"
          "cmovncq %[y], %[t1]\n\t"
          "cmovncq %[u2], %[t2]\n\t"
          "cmovncq %[u3], %[t3]\n\t"
          : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [h] "=&r"(h), [x] "=&r"(x),
            [y] "=&r"(y), [u2] "=&r"(u2), [u3] "=&r"(u3), [k] "+&d"(kd)
          : [a] "r"(a), "m"(*(const uint64_t(*)[4])a), [p1] "m"(ADX_P1), [p3] "m"(ADX_P3)
          : "cc");
  r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
}

#undef ADX_OUTPUTS
#undef ADX_REDUCE
#undef ADX_RED_ADD
#undef ADX_RED_A
#undef ADX_ROW
#endif

#endif
