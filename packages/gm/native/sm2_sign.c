/* See sm2_sign.h. */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1 /* getentropy in glibc's <unistd.h> */
#endif
#include "sm2_sign.h"

#include <string.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/random.h>
#endif

#include "sm2p256.h"
#include "sm3.h"

#define MAX_ATTEMPTS 64

#ifdef SM2_CT_VALGRIND
#include <valgrind/memcheck.h>
/* The constant-time check treats OS randomness as secret, like the private key. */
#define MARK_SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#else
#define MARK_SECRET(p, n) ((void)(p), (void)(n))
#endif

int sm2_random_bytes(uint8_t out[32]) { return getentropy(out, 32) == 0; }

int sm2_sign_prepared(uint8_t rs[64], const uint8_t e[32], const sm2_signing_key *key, sm2_nonce_mode mode) {
  uint8_t k[32], h1[32];
  rfc6979_state st;
  int rc = SM2_SIGN_GAVE_UP;
  if (mode == SM2_NONCE_RFC6979) {
    sm2_reduce_mod_n(h1, e); /* bits2octets(h1), qlen = hlen = 256 */
    rfc6979_init(&st, key->d_bytes, h1);
  }
  for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (mode == SM2_NONCE_RFC6979) {
      rfc6979_next(&st, k, attempt == 0);
    } else if (!sm2_random_bytes(k)) {
      rc = SM2_SIGN_RNG_FAILED;
      break;
    } else {
      MARK_SECRET(k, sizeof k);
    }
    /* 0: k outside [1, n-1], r = 0, r + k = n or s = 0 */
    if (sm2_sign_prepared_with_k(rs, e, key, k) != 0) {
      rc = SM2_SIGN_OK;
      break;
    }
  }
  secure_wipe(k, sizeof k);
  secure_wipe(h1, sizeof h1);
  secure_wipe(&st, sizeof st);
  if (rc != SM2_SIGN_OK) memset(rs, 0, 64);
  return rc;
}

int sm2_sign(uint8_t rs[64], const uint8_t e[32], const uint8_t d[32], sm2_nonce_mode mode) {
  sm2_signing_key key;
  if (!sm2_signing_key_init(&key, d)) {
    memset(rs, 0, 64);
    return SM2_SIGN_BAD_KEY;
  }
  int rc = sm2_sign_prepared(rs, e, &key, mode);
  secure_wipe(&key, sizeof key);
  return rc;
}
