/*
 * Constant-time check of the native SM2 engine, the "ctgrind" technique (A. Langley, 2010; also timecop):
 * the private key and the nonce are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED, so memcheck reports
 * every conditional jump or memory index that depends on them ("Conditional jump or move depends on
 * uninitialised value(s)", "Use of uninitialised value of size 8" for an address). The few bits that may
 * leak by design (a rejected nonce, an out-of-range key, a point at infinity) are declassified in the library
 * under -DSM2_CT_VALGRIND. Results are declassified here only to compare them with the expected values.
 *
 * Run by src/sm2/ct.test.ts: cc -DSM2_CT_VALGRIND … && valgrind --error-exitcode=1 ./ct_harness
 * `ct_harness leak` branches on the secret on purpose: valgrind must report it (the check checks itself).
 * `ct_harness adx` runs everything on the BMI2/ADX assembly path instead of the portable C.
 */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "../sm2_sign.h"
#include "../sm2p256.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static void from_hex(uint8_t *out, const char *hex, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
}

static int check(const char *what, const uint8_t *got, const uint8_t *want, size_t n) {
  PUBLIC(got, n);
  if (memcmp(got, want, n) != 0) {
    fprintf(stderr, "ct_harness: %s: wrong result\n", what);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  /* GB/T 32918.5-2017 Annex A: d_A, k, e for "message digest" with the default ID, and the expected results. */
  uint8_t d[32], k[32], e[32], pub[65], rs_want[64], rs[64], out[65], out2[65];
  from_hex(d, "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8", 32);
  from_hex(k, "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21", 32);
  from_hex(e, "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640", 32);
  from_hex(pub,
           "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
           "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13",
           65);
  from_hex(rs_want,
           "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
           "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa",
           64);
  if (!sm2_init()) return 2;
  int bad = 0;
  /* `ct_harness adx`: the BMI2/ADX field arithmetic (valgrind hides ADX from CPUID, so it is forced here;
     ct.test.ts passes it only on a CPU that has it). */
  if (argc > 1 && strcmp(argv[1], "adx") == 0) {
    if (!sm2_set_impl(SM2_IMPL_ADX)) return 3;
    if (sm2_get_impl() != SM2_IMPL_ADX) return 3;
  }

  if (argc > 1 && strcmp(argv[1], "leak") == 0) {
    SECRET(d, sizeof d);
    volatile int sink = 0;
    if (d[0] & 1) sink = 1; /* a secret-dependent branch: must be reported */
    return sink == 2;
  }

  /* Public key derivation: P = [d]G. */
  SECRET(d, sizeof d);
  if (sm2_public_from_private(out, d) != 1) bad |= 1;
  bad |= check("publicKeyFromPrivate", out, pub, 65);

  /* Signing with the published k (A4–A7). */
  SECRET(d, sizeof d);
  SECRET(k, sizeof k);
  if (sm2_sign_with_k(rs, e, d, k) != 1) bad |= 1;
  bad |= check("sign with k", rs, rs_want, 64);

  /* Signing with RFC 6979 HMAC-SM3 nonces and with OS random nonces (marked secret inside). */
  sm2_pubkey pk;
  if (!sm2_pubkey_parse(&pk, pub)) return 2;
  for (int mode = 0; mode < 2; mode++) {
    for (int i = 0; i < 3; i++) {
      SECRET(d, sizeof d);
      e[31] = (uint8_t)i;
      int rc = sm2_sign(rs, e, d, mode ? SM2_NONCE_RFC6979 : SM2_NONCE_RANDOM);
      PUBLIC(rs, sizeof rs);
      if (rc != SM2_SIGN_OK || !sm2_verify(e, rs, &pk)) {
        fprintf(stderr, "ct_harness: sign (nonce mode %d) did not verify\n", mode);
        bad |= 1;
      }
    }
  }

  /* A prepared key reused for several signatures (what the addon keeps for a repeat signer). */
  {
    sm2_signing_key key;
    SECRET(d, sizeof d);
    if (sm2_signing_key_init(&key, d) != 1) bad |= 1;
    for (int i = 0; i < 3; i++) {
      e[30] = (uint8_t)i;
      int rc = sm2_sign_prepared(rs, e, &key, i == 1 ? SM2_NONCE_RFC6979 : SM2_NONCE_RANDOM);
      PUBLIC(rs, sizeof rs);
      if (rc != SM2_SIGN_OK || !sm2_verify(e, rs, &pk)) {
        fprintf(stderr, "ct_harness: sign with a prepared key did not verify\n");
        bad |= 1;
      }
    }
    secure_wipe(&key, sizeof key);
  }

  /* Decryption's [d_B]C1 (GB/T 32918.4 clause 7.1 B3) and encryption's [k]P_B: compared with [d]([k]G). */
  uint8_t kg[65];
  if (sm2_public_from_private(kg, k) != 1) bad |= 1; /* k is still marked secret */
  PUBLIC(kg, sizeof kg);
  sm2_pubkey c1;
  if (!sm2_pubkey_parse(&c1, kg)) return 2;
  SECRET(d, sizeof d);
  if (sm2_mul(out, &c1, d) != 1) bad |= 1; /* [d]([k]G) */
  SECRET(k, sizeof k);
  if (sm2_mul(out2, &pk, k) != 1) bad |= 1; /* [k]([d]G) */
  PUBLIC(out2, sizeof out2);
  bad |= check("multiply", out, out2, 65);

  /* Edge scalars for multiply: k ≡ 0 (mod n) gives infinity; the "is infinity" bit is public by design. */
  uint8_t zero[32] = {0};
  SECRET(zero, sizeof zero);
  if (sm2_mul(out, &pk, zero) != 0) bad |= 1;
  return bad;
}
