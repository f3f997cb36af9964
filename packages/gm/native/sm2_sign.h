/*
 * SM2 signature generation with nonce selection (GB/T 32918.2-2016 clause 6.1 A3): k from the system CSPRNG
 * (getentropy) or deterministic per RFC 6979 clause 3.2 with HMAC-SM3. CT in d and k.
 */
#ifndef YIZHENG_SM2_SIGN_H
#define YIZHENG_SM2_SIGN_H

#include <stdint.h>

#include "sm2p256.h"

typedef enum { SM2_NONCE_RANDOM = 0, SM2_NONCE_RFC6979 = 1 } sm2_nonce_mode;

#define SM2_SIGN_OK 1
#define SM2_SIGN_BAD_KEY -1   /* d not in [1, n-2] */
#define SM2_SIGN_RNG_FAILED -2 /* getentropy failed */
#define SM2_SIGN_GAVE_UP -3   /* 64 unusable nonces in a row: a broken RNG */

/* Draws 32 random bytes from the operating system; 1 on success. */
int sm2_random_bytes(uint8_t out[32]);

/* rs = r || s for the digest e under d; returns one of the SM2_SIGN_* codes. */
int sm2_sign(uint8_t rs[64], const uint8_t e[32], const uint8_t d[32], sm2_nonce_mode mode);

/* sm2_sign with a key prepared by sm2_signing_key_init (never SM2_SIGN_BAD_KEY). */
int sm2_sign_prepared(uint8_t rs[64], const uint8_t e[32], const sm2_signing_key *key, sm2_nonce_mode mode);

#endif
