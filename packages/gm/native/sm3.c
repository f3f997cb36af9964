/*
 * SM3 hash, GB/T 32905-2016 clauses 4 and 5: IV, constants T_j, Boolean functions FF_j/GG_j, permutations
 * P0/P1, padding (clause 5.2), message expansion (5.3.2) and compression CF (5.3.3).
 */
#include "sm3.h"

#include <string.h>

#define ROL(x, n) (((x) << ((n) & 31)) | ((x) >> ((32 - ((n) & 31)) & 31)))
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

/* T_j <<< j (clause 4.2 with the rotation of 5.3.3): T_j = 79cc4519 for j < 16, 7a879d8a after. */
static const uint32_t TJ[64] = {
    0x79cc4519, 0xf3988a32, 0xe7311465, 0xce6228cb, 0x9cc45197, 0x3988a32f, 0x7311465e, 0xe6228cbc,
    0xcc451979, 0x988a32f3, 0x311465e7, 0x6228cbce, 0xc451979c, 0x88a32f39, 0x11465e73, 0x228cbce6,
    0x9d8a7a87, 0x3b14f50f, 0x7629ea1e, 0xec53d43c, 0xd8a7a879, 0xb14f50f3, 0x629ea1e7, 0xc53d43ce,
    0x8a7a879d, 0x14f50f3b, 0x29ea1e76, 0x53d43cec, 0xa7a879d8, 0x4f50f3b1, 0x9ea1e762, 0x3d43cec5,
    0x7a879d8a, 0xf50f3b14, 0xea1e7629, 0xd43cec53, 0xa879d8a7, 0x50f3b14f, 0xa1e7629e, 0x43cec53d,
    0x879d8a7a, 0x0f3b14f5, 0x1e7629ea, 0x3cec53d4, 0x79d8a7a8, 0xf3b14f50, 0xe7629ea1, 0xcec53d43,
    0x9d8a7a87, 0x3b14f50f, 0x7629ea1e, 0xec53d43c, 0xd8a7a879, 0xb14f50f3, 0x629ea1e7, 0xc53d43ce,
    0x8a7a879d, 0x14f50f3b, 0x29ea1e76, 0x53d43cec, 0xa7a879d8, 0x4f50f3b1, 0x9ea1e762, 0x3d43cec5};

/* One round j of CF with FF_j, GG_j given; W'_j = W_j ^ W_{j+4}. */
#define SM3_ROUND(j, FF, GG)                                 \
  do {                                                       \
    uint32_t a12 = ROL(a, 12);                               \
    uint32_t ss1 = ROL(a12 + e + TJ[j], 7);                  \
    uint32_t ss2 = ss1 ^ a12;                                \
    uint32_t tt1 = FF + d + ss2 + (w[j] ^ w[(j) + 4]);       \
    uint32_t tt2 = GG + h + ss1 + w[j];                      \
    d = c;                                                   \
    c = ROL(b, 9);                                           \
    b = a;                                                   \
    a = tt1;                                                 \
    h = g;                                                   \
    g = ROL(f, 19);                                          \
    f = e;                                                   \
    e = P0(tt2);                                             \
  } while (0)

/* CF(V, B), clause 5.3.3 (message expansion 5.3.2 into w[0..67]). */
static void compress(uint32_t v[8], const uint8_t block[64]) {
  uint32_t w[68];
  for (int j = 0; j < 16; j++) w[j] = load_be32(block + 4 * j);
  for (int j = 16; j < 68; j++) {
    uint32_t x = w[j - 16] ^ w[j - 9] ^ ROL(w[j - 3], 15);
    w[j] = P1(x) ^ ROL(w[j - 13], 7) ^ w[j - 6];
  }
  uint32_t a = v[0], b = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6], h = v[7];
  for (int j = 0; j < 16; j++) SM3_ROUND(j, (a ^ b ^ c), (e ^ f ^ g));
  for (int j = 16; j < 64; j++) SM3_ROUND(j, ((a & b) | (a & c) | (b & c)), ((e & f) | (~e & g)));
  v[0] ^= a, v[1] ^= b, v[2] ^= c, v[3] ^= d, v[4] ^= e, v[5] ^= f, v[6] ^= g, v[7] ^= h;
  secure_wipe(w, sizeof w);
}

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
    compress(c->v, c->buf);
    c->buflen = 0;
  }
  while (len >= SM3_BLOCK_BYTES) {
    compress(c->v, data);
    data += SM3_BLOCK_BYTES, len -= SM3_BLOCK_BYTES;
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
