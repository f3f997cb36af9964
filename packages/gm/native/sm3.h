/*
 * SM3 (GB/T 32905-2016), HMAC-SM3 (RFC 2104 over SM3) and the RFC 6979 clause 3.2 nonce generator over
 * HMAC-SM3, for the native SM2 engine's deterministic nonces. Control flow depends only on lengths.
 */
#ifndef YIZHENG_SM3_H
#define YIZHENG_SM3_H

#include <stddef.h>
#include <stdint.h>

#define SM3_DIGEST_BYTES 32
#define SM3_BLOCK_BYTES 64

typedef struct {
  uint32_t v[8];
  uint8_t buf[SM3_BLOCK_BYTES];
  size_t buflen;
  uint64_t total; /* bytes */
} sm3_ctx;

void sm3_init(sm3_ctx *c);
void sm3_update(sm3_ctx *c, const uint8_t *data, size_t len);
void sm3_final(sm3_ctx *c, uint8_t out[SM3_DIGEST_BYTES]);
void sm3(const uint8_t *data, size_t len, uint8_t out[SM3_DIGEST_BYTES]);

typedef struct {
  sm3_ctx inner, outer;
} hmac_sm3_ctx;

void hmac_sm3_init(hmac_sm3_ctx *h, const uint8_t *key, size_t keylen);
void hmac_sm3_update(hmac_sm3_ctx *h, const uint8_t *data, size_t len);
void hmac_sm3_final(hmac_sm3_ctx *h, uint8_t out[SM3_DIGEST_BYTES]);

/* RFC 6979 clause 3.2 state (HMAC_DRBG-like K, V) for qlen = hlen = 256. */
typedef struct {
  uint8_t k[32], v[32];
} rfc6979_state;

/* Steps b–g: x is the private key (32 bytes, big-endian), h1 the 32-byte e already reduced mod n. */
void rfc6979_init(rfc6979_state *st, const uint8_t x[32], const uint8_t h1_mod_n[32]);
/* Step h: the next candidate T (32 bytes). The caller accepts it iff 1 <= T <= n-1; every later call first
   performs the K = HMAC_K(V || 0x00), V = HMAC_K(V) update of step h.3. */
void rfc6979_next(rfc6979_state *st, uint8_t out[32], int first);

/* Wipes memory in a way the compiler may not elide. */
void secure_wipe(void *p, size_t n);

#endif
