/*
 * SM3 hash, GB/T 32905-2016 clauses 4 and 5: IV, constants T_j, Boolean functions FF_j/GG_j, permutations
 * P0/P1, padding (clause 5.2), message expansion (5.3.2) and compression CF (5.3.3).
 */
#include "sm3.h"

#include <string.h>

#define ROL(x, n) (((x) << ((n) & 31)) | ((x) >> ((32 - ((n) & 31)) & 31)))
#define P0(x) ((x) ^ ROL((x), 9) ^ ROL((x), 17))
#define P1(x) ((x) ^ ROL((x), 15) ^ ROL((x), 23))

void secure_wipe(void *p, size_t n) {
  volatile uint8_t *q = p;
  while (n--) *q++ = 0;
}

static const uint32_t IV[8] = {0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600,
                               0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e};

static uint32_t load_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* CF(V, B), clause 5.3.3. */
static void compress(uint32_t v[8], const uint8_t block[64]) {
  uint32_t w[68], w1[64];
  for (int j = 0; j < 16; j++) w[j] = load_be32(block + 4 * j);
  for (int j = 16; j < 68; j++) {
    uint32_t x = w[j - 16] ^ w[j - 9] ^ ROL(w[j - 3], 15);
    w[j] = P1(x) ^ ROL(w[j - 13], 7) ^ w[j - 6];
  }
  for (int j = 0; j < 64; j++) w1[j] = w[j] ^ w[j + 4];
  uint32_t a = v[0], b = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6], h = v[7];
  for (int j = 0; j < 64; j++) {
    uint32_t t = j < 16 ? 0x79cc4519u : 0x7a879d8au;
    uint32_t ss1 = ROL(ROL(a, 12) + e + ROL(t, (uint32_t)j), 7);
    uint32_t ss2 = ss1 ^ ROL(a, 12);
    uint32_t ff = j < 16 ? (a ^ b ^ c) : ((a & b) | (a & c) | (b & c));
    uint32_t gg = j < 16 ? (e ^ f ^ g) : ((e & f) | (~e & g));
    uint32_t tt1 = ff + d + ss2 + w1[j];
    uint32_t tt2 = gg + h + ss1 + w[j];
    d = c;
    c = ROL(b, 9);
    b = a;
    a = tt1;
    h = g;
    g = ROL(f, 19);
    f = e;
    e = P0(tt2);
  }
  v[0] ^= a, v[1] ^= b, v[2] ^= c, v[3] ^= d, v[4] ^= e, v[5] ^= f, v[6] ^= g, v[7] ^= h;
  secure_wipe(w, sizeof w);
  secure_wipe(w1, sizeof w1);
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
