/*
 * The three SM3 compression paths of sm3.c against each other, white-box: this file includes sm3.c to reach
 * its static functions. compress_generic (portable C), compress_bmi2 (the same source with RORX) and
 * compress_avx (message expansion on the vector unit) run on random chaining values and random messages of
 * 1 to 9 blocks, from a 16-byte-aligned and from an odd address, and must give the same chaining value bit
 * for bit; then the one-shot sm3() gives GB/T 32905-2016 Appendix A's two digests.
 * Run by src/sm3-paths.test.ts: cc -O3 sm3_diff.c && ./sm3_diff ITERATIONS SEED
 * Exits 0 and prints "paths agree", or prints the first difference and exits 1. Needs a CPU with AVX and BMI2.
 */
#include "../sm3.c"

#include <stdio.h>
#include <stdlib.h>

#include "xorshift.h"

static int check_vector(const char *msg, size_t len, const char *hex) {
  uint8_t out[32];
  char got[65];
  sm3((const uint8_t *)msg, len, out);
  for (int i = 0; i < 32; i++) snprintf(got + 2 * i, 3, "%02x", out[i]);
  if (strcmp(got, hex) != 0) {
    printf("GB/T 32905 vector of length %zu: got %s, want %s\n", len, got, hex);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  if (!__builtin_cpu_supports("avx") || !__builtin_cpu_supports("bmi2")) {
    printf("this CPU lacks AVX or BMI2\n");
    return 1;
  }
  long iterations = argc > 1 ? atol(argv[1]) : 10000;
  rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) | 1 : 1;
  static _Alignas(16) uint8_t buf[9 * SM3_BLOCK_BYTES + 1];
  for (long it = 0; it < iterations; it++) {
    size_t blocks = 1 + rnd64() % 9;
    size_t offset = it & 1; /* aligned, then odd */
    /* Every few messages are all zeros or all ones bytes, the rest random. */
    int kind = (int)(rnd64() % 8);
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = kind == 0 ? 0 : kind == 1 ? 0xff : (uint8_t)rnd64();
    uint32_t v0[8], v1[8], v2[8];
    for (int i = 0; i < 8; i++) v0[i] = v1[i] = v2[i] = (uint32_t)rnd64();
    compress_generic(v0, buf + offset, blocks);
    compress_bmi2(v1, buf + offset, blocks);
    compress_avx(v2, buf + offset, blocks);
    if (memcmp(v0, v1, sizeof v0) != 0 || memcmp(v0, v2, sizeof v0) != 0) {
      printf("iteration %ld (%zu blocks at offset %zu): paths differ: generic %08x bmi2 %08x avx %08x\n", it,
             blocks, offset, v0[0], v1[0], v2[0]);
      return 1;
    }
  }
  if (!check_vector("abc", 3, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0") ||
      !check_vector("abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd", 64,
                    "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"))
    return 1;
  printf("paths agree (%ld messages)\n", iterations);
  return 0;
}
