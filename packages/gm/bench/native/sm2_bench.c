/*
 * C-level rates of the native SM2 engine (no N-API), the reference for "batch verify through N-API within
 * 10% of the C rate". Process CPU time, like `openssl speed`. Prints one JSON object:
 *   {"verify_cached": n, "verify_uncached": n, "sign": n, "sign_new_key": n, "derive": n}   (operations per second)
 * `sign` is a repeat signer's rate (its key prepared once, as the addon keeps it), `sign_new_key` prepares the key
 * for every signature.
 * Usage: sm2_bench SECONDS
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../native/sm2_sign.h"
#include "../../native/sm2p256.h"

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef int (*op_fn)(int i);
static uint8_t d[32], e[32], pub[65], rs[64];
static sm2_pubkey pk_plain, pk_table;
static sm2_signing_key prepared;

static int op_verify_cached(int i) { (void)i; return sm2_verify(e, rs, &pk_table); }
static int op_verify_uncached(int i) {
  (void)i;
  sm2_pubkey pk;
  return sm2_pubkey_parse(&pk, pub) && sm2_verify(e, rs, &pk);
}
static int op_sign(int i) {
  uint8_t sig[64];
  e[0] = (uint8_t)i;
  return sm2_sign_prepared(sig, e, &prepared, SM2_NONCE_RANDOM) == SM2_SIGN_OK;
}
static int op_sign_new_key(int i) {
  uint8_t sig[64];
  e[0] = (uint8_t)i;
  return sm2_sign(sig, e, d, SM2_NONCE_RANDOM) == SM2_SIGN_OK;
}
static int op_derive(int i) {
  uint8_t p[65];
  d[0] = (uint8_t)(i & 0x7f);
  return sm2_public_from_private(p, d);
}

static double rate(op_fn f, double seconds) {
  long n = 0;
  int ok = 1;
  double start = cpu_now(), now = start;
  while (now - start < seconds) {
    for (int i = 0; i < 32; i++) ok &= f(i) == 1;
    n += 32;
    now = cpu_now();
  }
  if (!ok) {
    fprintf(stderr, "sm2_bench: an operation failed\n");
    exit(1);
  }
  return (double)n / (now - start);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  if (!sm2_init()) return 2;
  memset(d, 0x11, 32);
  memset(e, 0x22, 32);
  if (!sm2_public_from_private(pub, d) || sm2_sign(rs, e, d, SM2_NONCE_RANDOM) != SM2_SIGN_OK) return 2;
  if (!sm2_pubkey_parse(&pk_plain, pub) || !sm2_signing_key_init(&prepared, d)) return 2;
  pk_table = pk_plain;
  sm2_pubkey_precompute(&pk_table);
  double vc = rate(op_verify_cached, seconds);
  double vu = rate(op_verify_uncached, seconds);
  double s = rate(op_sign, seconds);
  double sn = rate(op_sign_new_key, seconds);
  double dv = rate(op_derive, seconds);
  printf("{\"verify_cached\": %.0f, \"verify_uncached\": %.0f, \"sign\": %.0f, \"sign_new_key\": %.0f, \"derive\": %.0f}\n",
         vc, vu, s, sn, dv);
  return 0;
}
