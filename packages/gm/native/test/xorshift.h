/* The test harnesses' pseudo-random source (xorshift64*): seeded from the command line, so a failure repeats. */
#ifndef YZ_TEST_XORSHIFT_H
#define YZ_TEST_XORSHIFT_H

#include <stdint.h>

static uint64_t rng_state;

static uint64_t rnd64(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dULL;
}

#endif
