/*
 * SM3 hash, GB/T 32905-2016 clauses 4 and 5: IV, constants T_j, Boolean functions FF_j/GG_j, permutations
 * P0/P1, padding (clause 5.2), message expansion (5.3.2) and compression CF (5.3.3).
 */
#include "sm3.h"

#include <string.h>

/* Rotations by constants 1..31 only. */
#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define P0(x) ((x) ^ ROL((x), 9) ^ ROL((x), 17))
#define P1(x) ((x) ^ ROL((x), 15) ^ ROL((x), 23))

/* memset, then an empty asm that "reads" the memory, so the compiler cannot drop the stores as dead. */
void secure_wipe(void *p, size_t n) {
  memset(p, 0, n);
#if defined(__GNUC__) || defined(__clang__)
  __asm__ __volatile__("" : : "r"(p) : "memory");
#else
  volatile uint8_t *q = p;
  while (n--) *q++ = 0;
#endif
}

static const uint32_t IV[8] = {0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600,
                               0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e};

static uint32_t load_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/*
 * CF(V, B), clause 5.3.3, over `blocks` consecutive 64-byte blocks, fully unrolled:
 * - the eight state words are renamed from round to round instead of moved (after round j the new A is in the
 *   variable that held D, the new E in the one that held H; B and F are rotated in place), so a round is only
 *   its arithmetic;
 * - the message expansion of clause 5.3.2 runs four rounds ahead in a 16-word ring (round j needs W_j and
 *   W_{j+4}, W'_j = W_j ^ W_{j+4}), so W_0..W_67 are never stored together;
 * - T_j <<< j are immediates.
 * The same source is compiled twice on x86-64 (GCC, Clang): once for the baseline and once with BMI2, whose
 * RORX rotates without touching the flags or its source register; `compress` picks one by CPUID.
 * Control flow depends only on the block count.
 */
#define FF0(x, y, z) ((x) ^ (y) ^ (z))
#define GG0(x, y, z) ((x) ^ (y) ^ (z))
#define FF1(x, y, z) (((x) & (y)) | (((x) | (y)) & (z)))
#define GG1(x, y, z) ((((y) ^ (z)) & (x)) ^ (z))

/* W_j into the ring slot of W_{j-16}, for 16 <= j < 68. */
#define EXPAND(j)                                                                                  \
  (w[(j) & 15] = P1(w[(j) & 15] ^ w[((j) - 9) & 15] ^ ROL(w[((j) - 3) & 15], 15)) ^                \
                 ROL(w[((j) - 13) & 15], 7) ^ w[((j) - 6) & 15])

#define ROUND(a, b, c, d, e, f, g, h, T, FF, GG, wj, wj4) \
  do {                                                   \
    uint32_t a12 = ROL(a, 12);                           \
    uint32_t ss1 = ROL(a12 + e + (T), 7);                \
    d += FF(a, b, c) + (ss1 ^ a12) + ((wj) ^ (wj4));     \
    h += GG(e, f, g) + ss1 + (wj);                       \
    b = ROL(b, 9);                                       \
    f = ROL(f, 19);                                      \
    h = P0(h);                                           \
  } while (0)

/* Rounds 0..11 (W_{j+4} loaded), 12..15 (W_{j+4} expanded), 16..63 (FF1/GG1, W_{j+4} expanded). */
#define R0(j, a, b, c, d, e, f, g, h, T) ROUND(a, b, c, d, e, f, g, h, T, FF0, GG0, w[j], w[(j) + 4])
#define R0X(j, a, b, c, d, e, f, g, h, T) ROUND(a, b, c, d, e, f, g, h, T, FF0, GG0, w[j], EXPAND((j) + 4))
#define R1(j, a, b, c, d, e, f, g, h, T) \
  ROUND(a, b, c, d, e, f, g, h, T, FF1, GG1, w[(j) & 15], EXPAND((j) + 4))

#define SM3_ROUNDS                                                                                \
  R0(0, A,B,C,D,E,F,G,H, 0x79cc4519u); R0(1, D,A,B,C,H,E,F,G, 0xf3988a32u);                                 \
  R0(2, C,D,A,B,G,H,E,F, 0xe7311465u); R0(3, B,C,D,A,F,G,H,E, 0xce6228cbu);                                 \
  R0(4, A,B,C,D,E,F,G,H, 0x9cc45197u); R0(5, D,A,B,C,H,E,F,G, 0x3988a32fu);                                 \
  R0(6, C,D,A,B,G,H,E,F, 0x7311465eu); R0(7, B,C,D,A,F,G,H,E, 0xe6228cbcu);                                 \
  R0(8, A,B,C,D,E,F,G,H, 0xcc451979u); R0(9, D,A,B,C,H,E,F,G, 0x988a32f3u);                                 \
  R0(10, C,D,A,B,G,H,E,F, 0x311465e7u); R0(11, B,C,D,A,F,G,H,E, 0x6228cbceu);                               \
  R0X(12, A,B,C,D,E,F,G,H, 0xc451979cu); R0X(13, D,A,B,C,H,E,F,G, 0x88a32f39u);                             \
  R0X(14, C,D,A,B,G,H,E,F, 0x11465e73u); R0X(15, B,C,D,A,F,G,H,E, 0x228cbce6u);                             \
  R1(16, A,B,C,D,E,F,G,H, 0x9d8a7a87u); R1(17, D,A,B,C,H,E,F,G, 0x3b14f50fu);                               \
  R1(18, C,D,A,B,G,H,E,F, 0x7629ea1eu); R1(19, B,C,D,A,F,G,H,E, 0xec53d43cu);                               \
  R1(20, A,B,C,D,E,F,G,H, 0xd8a7a879u); R1(21, D,A,B,C,H,E,F,G, 0xb14f50f3u);                               \
  R1(22, C,D,A,B,G,H,E,F, 0x629ea1e7u); R1(23, B,C,D,A,F,G,H,E, 0xc53d43ceu);                               \
  R1(24, A,B,C,D,E,F,G,H, 0x8a7a879du); R1(25, D,A,B,C,H,E,F,G, 0x14f50f3bu);                               \
  R1(26, C,D,A,B,G,H,E,F, 0x29ea1e76u); R1(27, B,C,D,A,F,G,H,E, 0x53d43cecu);                               \
  R1(28, A,B,C,D,E,F,G,H, 0xa7a879d8u); R1(29, D,A,B,C,H,E,F,G, 0x4f50f3b1u);                               \
  R1(30, C,D,A,B,G,H,E,F, 0x9ea1e762u); R1(31, B,C,D,A,F,G,H,E, 0x3d43cec5u);                               \
  R1(32, A,B,C,D,E,F,G,H, 0x7a879d8au); R1(33, D,A,B,C,H,E,F,G, 0xf50f3b14u);                               \
  R1(34, C,D,A,B,G,H,E,F, 0xea1e7629u); R1(35, B,C,D,A,F,G,H,E, 0xd43cec53u);                               \
  R1(36, A,B,C,D,E,F,G,H, 0xa879d8a7u); R1(37, D,A,B,C,H,E,F,G, 0x50f3b14fu);                               \
  R1(38, C,D,A,B,G,H,E,F, 0xa1e7629eu); R1(39, B,C,D,A,F,G,H,E, 0x43cec53du);                               \
  R1(40, A,B,C,D,E,F,G,H, 0x879d8a7au); R1(41, D,A,B,C,H,E,F,G, 0x0f3b14f5u);                               \
  R1(42, C,D,A,B,G,H,E,F, 0x1e7629eau); R1(43, B,C,D,A,F,G,H,E, 0x3cec53d4u);                               \
  R1(44, A,B,C,D,E,F,G,H, 0x79d8a7a8u); R1(45, D,A,B,C,H,E,F,G, 0xf3b14f50u);                               \
  R1(46, C,D,A,B,G,H,E,F, 0xe7629ea1u); R1(47, B,C,D,A,F,G,H,E, 0xcec53d43u);                               \
  R1(48, A,B,C,D,E,F,G,H, 0x9d8a7a87u); R1(49, D,A,B,C,H,E,F,G, 0x3b14f50fu);                               \
  R1(50, C,D,A,B,G,H,E,F, 0x7629ea1eu); R1(51, B,C,D,A,F,G,H,E, 0xec53d43cu);                               \
  R1(52, A,B,C,D,E,F,G,H, 0xd8a7a879u); R1(53, D,A,B,C,H,E,F,G, 0xb14f50f3u);                               \
  R1(54, C,D,A,B,G,H,E,F, 0x629ea1e7u); R1(55, B,C,D,A,F,G,H,E, 0xc53d43ceu);                               \
  R1(56, A,B,C,D,E,F,G,H, 0x8a7a879du); R1(57, D,A,B,C,H,E,F,G, 0x14f50f3bu);                               \
  R1(58, C,D,A,B,G,H,E,F, 0x29ea1e76u); R1(59, B,C,D,A,F,G,H,E, 0x53d43cecu);                               \
  R1(60, A,B,C,D,E,F,G,H, 0xa7a879d8u); R1(61, D,A,B,C,H,E,F,G, 0x4f50f3b1u);                               \
  R1(62, C,D,A,B,G,H,E,F, 0x9ea1e762u); R1(63, B,C,D,A,F,G,H,E, 0x3d43cec5u);

#define SM3_COMPRESS_BODY                                                                       \
  uint32_t w[16];                                                                               \
  while (blocks--) {                                                                            \
    for (int j = 0; j < 16; j++) w[j] = load_be32(p + 4 * j);                                   \
    uint32_t A = v[0], B = v[1], C = v[2], D = v[3], E = v[4], F = v[5], G = v[6], H = v[7];     \
  SM3_ROUNDS                                                                                    \
    v[0] ^= A, v[1] ^= B, v[2] ^= C, v[3] ^= D, v[4] ^= E, v[5] ^= F, v[6] ^= G, v[7] ^= H;       \
    p += SM3_BLOCK_BYTES;                                                                       \
  }                                                                                             \
  secure_wipe(w, sizeof w);

static void compress_generic(uint32_t v[8], const uint8_t *p, size_t blocks) { SM3_COMPRESS_BODY }

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
__attribute__((target("bmi2"))) static void compress_bmi2(uint32_t v[8], const uint8_t *p, size_t blocks) {
  SM3_COMPRESS_BODY
}

/*
 * The same rounds with the message expansion (clause 5.3.2) on the vector unit, four words at a time, so the
 * scalar ALUs do only the rounds. x0..x3 hold W_{j-16} .. W_{j-1}; the four words W_j .. W_{j+3} are
 *   W_i = P1(W_{i-16} ^ W_{i-9} ^ (W_{i-3} <<< 15)) ^ (W_{i-13} <<< 7) ^ W_{i-6},
 * except that W_{j+3} needs W_j itself (i - 3 = j): the vector is computed with 0 in its place, and as P1 is
 * linear over XOR the missing part P1(W_j <<< 15) = (W_j <<< 15) ^ (W_j <<< 30) ^ (W_j <<< 6) is added to
 * that lane afterwards. W_j and W'_j = W_j ^ W_{j+4} go to stack arrays the rounds read; group g (W_{16+4g}
 * .. W_{19+4g}, W'_{12+4g} .. W'_{15+4g}) is computed at round 4g, eight rounds before its first use, so it
 * runs beside the rounds. The arrays are wiped at the end, as the ring is.
 */
#include <immintrin.h>

#define VROL(x, n) _mm_or_si128(_mm_slli_epi32((x), (n)), _mm_srli_epi32((x), 32 - (n)))

#define EXPAND_GROUP(g)                                                                  \
  do {                                                                                   \
    __m128i w9 = _mm_alignr_epi8(x2, x1, 12), w13 = _mm_alignr_epi8(x1, x0, 12);           \
    __m128i w6 = _mm_alignr_epi8(x3, x2, 8), w3 = _mm_srli_si128(x3, 4);                   \
    __m128i t = _mm_xor_si128(_mm_xor_si128(x0, w9), VROL(w3, 15));                      \
    t = _mm_xor_si128(_mm_xor_si128(t, VROL(t, 15)), VROL(t, 23));                       \
    __m128i x = _mm_xor_si128(_mm_xor_si128(t, VROL(w13, 7)), w6);                       \
    __m128i l0 = _mm_slli_si128(x, 12);                                                  \
    x = _mm_xor_si128(_mm_xor_si128(x, VROL(l0, 15)), _mm_xor_si128(VROL(l0, 30), VROL(l0, 6))); \
    _mm_store_si128((__m128i *)(wv + 16 + 4 * (g)), x);                                  \
    _mm_store_si128((__m128i *)(wp + 12 + 4 * (g)), _mm_xor_si128(x3, x));               \
    x0 = x1, x1 = x2, x2 = x3, x3 = x;                                                   \
  } while (0)

#undef R0
#undef R0X
#undef R1
#undef ROUND
/* Round j with W_j and W'_j read from memory (wr, wpr: see compress_avx). */
#define ROUND(a, b, c, d, e, f, g, h, T, FF, GG, j) \
  do {                                              \
    uint32_t a12 = ROL(a, 12);                      \
    uint32_t ss1 = ROL(a12 + e + (T), 7);           \
    d += FF(a, b, c) + (ss1 ^ a12) + wpr[j];        \
    h += GG(e, f, g) + ss1 + wr[j];                 \
    b = ROL(b, 9);                                  \
    f = ROL(f, 19);                                 \
    h = P0(h);                                      \
  } while (0)
#define GROUP_AT(j) \
  if ((j) % 4 == 0 && (j) <= 48) EXPAND_GROUP((j) / 4)
#define R0(j, a, b, c, d, e, f, g, h, T) \
  GROUP_AT(j);                           \
  ROUND(a, b, c, d, e, f, g, h, T, FF0, GG0, j);
#define R0X R0
#define R1(j, a, b, c, d, e, f, g, h, T) \
  GROUP_AT(j);                           \
  ROUND(a, b, c, d, e, f, g, h, T, FF1, GG1, j);

__attribute__((target("avx,bmi2"))) static void compress_avx(uint32_t v[8], const uint8_t *p, size_t blocks) {
  _Alignas(16) uint32_t wv[68];
  _Alignas(16) uint32_t wp[64];
  const __m128i bswap = _mm_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
  /* The rounds read the words through pointers the compiler cannot see are wv and wp: otherwise it keeps
   * the words in vector registers and extracts each one (two µops) instead of loading it (one, on a load
   * port the rounds leave idle). */
  const uint32_t *wr = wv, *wpr = wp;
  __asm__("" : "+r"(wr), "+r"(wpr));
  while (blocks--) {
    __m128i x0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap);
    __m128i x1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
    __m128i x2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
    __m128i x3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
    _mm_store_si128((__m128i *)wv, x0);
    _mm_store_si128((__m128i *)(wv + 4), x1);
    _mm_store_si128((__m128i *)(wv + 8), x2);
    _mm_store_si128((__m128i *)(wv + 12), x3);
    _mm_store_si128((__m128i *)wp, _mm_xor_si128(x0, x1));
    _mm_store_si128((__m128i *)(wp + 4), _mm_xor_si128(x1, x2));
    _mm_store_si128((__m128i *)(wp + 8), _mm_xor_si128(x2, x3));
    uint32_t A = v[0], B = v[1], C = v[2], D = v[3], E = v[4], F = v[5], G = v[6], H = v[7];
    SM3_ROUNDS
    v[0] ^= A, v[1] ^= B, v[2] ^= C, v[3] ^= D, v[4] ^= E, v[5] ^= F, v[6] ^= G, v[7] ^= H;
    p += SM3_BLOCK_BYTES;
  }
  secure_wipe(wv, sizeof wv);
  secure_wipe(wp, sizeof wp);
}

/* CPUID (and, for AVX, the OS's saving of the vector state), read by libgcc's constructor before any call. */
static void compress(uint32_t v[8], const uint8_t *p, size_t blocks) {
  if (__builtin_cpu_supports("avx") && __builtin_cpu_supports("bmi2")) compress_avx(v, p, blocks);
  else if (__builtin_cpu_supports("bmi2")) compress_bmi2(v, p, blocks);
  else compress_generic(v, p, blocks);
}
#else
static void compress(uint32_t v[8], const uint8_t *p, size_t blocks) { compress_generic(v, p, blocks); }
#endif

void sm3_init(sm3_ctx *c) {
  memcpy(c->v, IV, sizeof IV);
  c->buflen = 0;
  c->total = 0;
}

void sm3_update(sm3_ctx *c, const uint8_t *data, size_t len) {
  c->total += len;
  if (c->buflen > 0) {
    size_t take = SM3_BLOCK_BYTES - c->buflen;
    if (take > len) take = len;
    memcpy(c->buf + c->buflen, data, take);
    c->buflen += take, data += take, len -= take;
    if (c->buflen < SM3_BLOCK_BYTES) return;
    compress(c->v, c->buf, 1);
    c->buflen = 0;
  }
  size_t blocks = len / SM3_BLOCK_BYTES;
  if (blocks > 0) {
    compress(c->v, data, blocks);
    data += blocks * SM3_BLOCK_BYTES, len -= blocks * SM3_BLOCK_BYTES;
  }
  memcpy(c->buf, data, len);
  c->buflen = len;
}

/* Padding, clause 5.2: 1 bit, zeros, then the 64-bit big-endian bit length. */
void sm3_final(sm3_ctx *c, uint8_t out[SM3_DIGEST_BYTES]) {
  uint64_t bits = c->total * 8;
  uint8_t pad[SM3_BLOCK_BYTES * 2] = {0x80};
  size_t padlen = (c->buflen < 56 ? 56 : 120) - c->buflen;
  for (int i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
  sm3_update(c, pad, padlen + 8);
  for (int i = 0; i < 8; i++) store_be32(out + 4 * i, c->v[i]);
  secure_wipe(c, sizeof *c);
}

void sm3(const uint8_t *data, size_t len, uint8_t out[SM3_DIGEST_BYTES]) {
  sm3_ctx c;
  sm3_init(&c);
  sm3_update(&c, data, len);
  sm3_final(&c, out);
}

/* HMAC (RFC 2104) with B = 64, L = 32. */
void hmac_sm3_init(hmac_sm3_ctx *h, const uint8_t *key, size_t keylen) {
  uint8_t k[SM3_BLOCK_BYTES] = {0}, pad[SM3_BLOCK_BYTES];
  if (keylen > SM3_BLOCK_BYTES) sm3(key, keylen, k);
  else memcpy(k, key, keylen);
  for (int i = 0; i < SM3_BLOCK_BYTES; i++) pad[i] = k[i] ^ 0x36;
  sm3_init(&h->inner);
  sm3_update(&h->inner, pad, sizeof pad);
  for (int i = 0; i < SM3_BLOCK_BYTES; i++) pad[i] = k[i] ^ 0x5c;
  sm3_init(&h->outer);
  sm3_update(&h->outer, pad, sizeof pad);
  secure_wipe(k, sizeof k);
  secure_wipe(pad, sizeof pad);
}

void hmac_sm3_update(hmac_sm3_ctx *h, const uint8_t *data, size_t len) { sm3_update(&h->inner, data, len); }

void hmac_sm3_final(hmac_sm3_ctx *h, uint8_t out[SM3_DIGEST_BYTES]) {
  uint8_t ih[SM3_DIGEST_BYTES];
  sm3_final(&h->inner, ih);
  sm3_update(&h->outer, ih, sizeof ih);
  sm3_final(&h->outer, out);
  secure_wipe(ih, sizeof ih);
}

/* K = HMAC_K(V || sep || x || h1) (sep >= 0) or K = HMAC_K(V || 0x00) (x == NULL). */
static void update_k(rfc6979_state *st, int sep, const uint8_t *x, const uint8_t *h1) {
  hmac_sm3_ctx h;
  uint8_t s = (uint8_t)sep;
  hmac_sm3_init(&h, st->k, 32);
  hmac_sm3_update(&h, st->v, 32);
  hmac_sm3_update(&h, &s, 1);
  if (x != NULL) {
    hmac_sm3_update(&h, x, 32);
    hmac_sm3_update(&h, h1, 32);
  }
  hmac_sm3_final(&h, st->k);
}

/* V = HMAC_K(V) */
static void update_v(rfc6979_state *st) {
  hmac_sm3_ctx h;
  hmac_sm3_init(&h, st->k, 32);
  hmac_sm3_update(&h, st->v, 32);
  hmac_sm3_final(&h, st->v);
}

void rfc6979_init(rfc6979_state *st, const uint8_t x[32], const uint8_t h1[32]) {
  memset(st->v, 0x01, 32); /* b */
  memset(st->k, 0x00, 32); /* c */
  update_k(st, 0x00, x, h1); /* d */
  update_v(st);              /* e */
  update_k(st, 0x01, x, h1); /* f */
  update_v(st);              /* g */
}

void rfc6979_next(rfc6979_state *st, uint8_t out[32], int first) {
  if (!first) { /* h.3 */
    update_k(st, 0x00, NULL, NULL);
    update_v(st);
  }
  update_v(st); /* h.2: tlen = qlen = 256 = hlen, one block */
  memcpy(out, st->v, 32);
}
