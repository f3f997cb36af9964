/*
 * Fuzz target for the native engine's byte-level input handling: point decoding (sm2_pubkey_parse),
 * verification of arbitrary (e, r‖s) against it, with and without the precomputed table, scalar
 * multiplication by an arbitrary k, and signing with an arbitrary (d, k) — checking properties, not only
 * the absence of crashes:
 *   - verify with and without the key's table agree;
 *   - a point that parses is on the curve ([k]P parses again when it is not infinity);
 *   - a signature that sm2_sign_with_k returns verifies under [d]G.
 *
 * libFuzzer: clang -fsanitize=fuzzer,address,undefined -DSM2_LIBFUZZER fuzz_parse.c ../sm2p256.c ../sm3.c
 * Without libFuzzer (src/sm2/fuzz.test.ts): cc -fsanitize=address,undefined fuzz_parse.c … && ./fuzz_parse
 *   SECONDS [SEED] runs random and mutated inputs for a bounded time and exits 0, or aborts on a violation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sm2p256.h"

#define INPUT_BYTES (32 + 64 + 65 + 32 + 32) /* e, r‖s, point, k, d */

static void fail(const char *what) {
  fprintf(stderr, "fuzz_parse: property violated: %s\n", what);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    if (!sm2_init()) abort();
    ready = 1;
  }
  uint8_t in[INPUT_BYTES] = {0};
  memcpy(in, data, size < INPUT_BYTES ? size : INPUT_BYTES);
  const uint8_t *e = in, *rs = in + 32, *pt = in + 96, *k = in + 161, *d = in + 193;

  sm2_pubkey pk, pk2;
  if (sm2_pubkey_parse(&pk, pt)) {
    int plain = sm2_verify(e, rs, &pk);
    pk2 = pk;
    sm2_pubkey_precompute(&pk2);
    if (!pk2.has_table) fail("table not built");
    if (sm2_verify(e, rs, &pk2) != plain) fail("verify with and without the table disagree");
    uint8_t out[65];
    if (sm2_mul(out, &pk, k) && !sm2_pubkey_parse(&pk2, out)) fail("[k]P is not on the curve");
  }
  uint8_t sig[64], pub[65];
  int rc = sm2_sign_with_k(sig, e, d, k);
  if (rc == 1) {
    if (!sm2_public_from_private(pub, d) || !sm2_pubkey_parse(&pk, pub)) fail("[d]G is not a valid point");
    if (!sm2_verify(e, sig, &pk)) fail("a signature made with (d, k) does not verify");
  } else if (rc == -1 && sm2_public_from_private(pub, d)) {
    fail("sign rejected d but key derivation accepted it");
  }
  return 0;
}

#ifndef SM2_LIBFUZZER
#include <time.h>

#include "xorshift.h"

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) | 1 : 0x9e3779b97f4a7c15ULL;
  if (!sm2_init()) return 2;
  /* A valid seed: G and a signature by d = 1, so mutations explore the paths past the curve check. */
  uint8_t seed[INPUT_BYTES] = {0}, one[32] = {0};
  one[31] = 1;
  sm2_public_from_private(seed + 96, one);
  memset(seed, 0x5a, 32);
  memset(seed + 161, 0x33, 32);
  memcpy(seed + 193, one, 32);
  if (sm2_sign_with_k(seed + 32, seed, one, seed + 161) != 1) return 2;

  clock_t end = clock() + (clock_t)(seconds * CLOCKS_PER_SEC);
  unsigned long runs = 0;
  uint8_t buf[INPUT_BYTES];
  while (clock() < end) {
    size_t len = INPUT_BYTES;
    switch (rnd64() % 4) {
      case 0: /* fully random */
        for (size_t i = 0; i < INPUT_BYTES; i++) buf[i] = (uint8_t)rnd64();
        break;
      case 1: /* the valid seed with a few flipped bits */
      case 2:
        memcpy(buf, seed, INPUT_BYTES);
        for (int j = (int)(rnd64() % 4) + 1; j > 0; j--) buf[rnd64() % INPUT_BYTES] ^= (uint8_t)(1u << (rnd64() % 8));
        break;
      default: /* edge bytes: all 0x00 or 0xff fields, truncated input */
        memcpy(buf, seed, INPUT_BYTES);
        {
          size_t at = rnd64() % INPUT_BYTES, n = 1 + rnd64() % 32;
          if (n > INPUT_BYTES - at) n = INPUT_BYTES - at;
          memset(buf + at, (rnd64() & 1) ? 0xff : 0x00, n);
        }
        len = rnd64() % (INPUT_BYTES + 1);
        break;
    }
    if (len > INPUT_BYTES) len = INPUT_BYTES;
    LLVMFuzzerTestOneInput(buf, len);
    runs++;
  }
  printf("fuzz_parse: %lu inputs, no property violated\n", runs);
  return 0;
}
#endif
