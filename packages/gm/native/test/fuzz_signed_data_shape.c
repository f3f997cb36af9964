/*
 * Fuzz target for the CMS SignedData locator (signed_data_shape.c), checking properties, not only the absence
 * of memory errors:
 *   - it never reads outside the input (AddressSanitizer: the input is copied into an allocation of exactly
 *     its length);
 *   - when it accepts, every pair lies inside the input in order, the content, the signed attributes and the
 *     signature lie in that order, and each located value TLV begins with a header whose length ends it;
 *   - a message this harness built to the common shape is accepted, with the offsets it recorded while
 *     building it.
 *
 * libFuzzer: clang -fsanitize=fuzzer,address,undefined -DSDS_LIBFUZZER fuzz_signed_data_shape.c ../signed_data_shape.c
 * Without libFuzzer (src/signed-data-shape.test.ts): cc -fsanitize=address,undefined … && ./fuzz SECONDS [SEED]
 *   builds random messages of the common shape (all lengths, long and short length forms, every optional
 *   part), then mutates and truncates them, for a bounded time; exits 0, or aborts on a violation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../signed_data_shape.h"
#include "xorshift.h"

static void fail(const char *what) {
  fprintf(stderr, "fuzz_signed_data_shape: property violated: %s\n", what);
  abort();
}

/* Whether out's pair [from, to) is one TLV: a header at `from` whose length ends it exactly at `to`. */
static int tlv_ends_at(const uint8_t *d, size_t n, int32_t from, int32_t to) {
  if (from < 0 || to < from || (size_t)to > n || to - from < 2) return 0;
  size_t p = (size_t)from + 1, len;
  uint8_t lb = d[p++];
  if (lb < 0x80) len = lb;
  else {
    size_t k = lb & 0x7f;
    len = 0;
    for (size_t i = 0; i < k; i++) len = (len << 8) | d[p++];
  }
  return p + len == (size_t)to;
}

static void check_pair(const int32_t *o, int at, size_t n, int optional) {
  if (optional && o[at] == -1 && o[at + 1] == -1) return;
  if (o[at] < 0 || o[at + 1] < o[at] || (size_t)o[at + 1] > n) fail("a pair outside the input");
}

static void check_accepted(const uint8_t *d, size_t n, const int32_t *o) {
  check_pair(o, SDS_E_CONTENT_TYPE, n, 0);
  check_pair(o, SDS_CONTENT, n, 0);
  if (o[SDS_SID_TAG] == 0x30) {
    check_pair(o, SDS_ISSUER, n, 0);
    if (!tlv_ends_at(d, n, o[SDS_ISSUER], o[SDS_ISSUER + 1])) fail("issuer TLV");
  } else if (o[SDS_SID_TAG] != 0x80) fail("sid tag");
  check_pair(o, SDS_SERIAL, n, 0);
  check_pair(o, SDS_DIGEST_ALGORITHM, n, 0);
  check_pair(o, SDS_SIGNED_ATTRS, n, 0);
  if (!tlv_ends_at(d, n, o[SDS_SIGNED_ATTRS], o[SDS_SIGNED_ATTRS + 1])) fail("signedAttrs TLV");
  for (int at = SDS_MESSAGE_DIGEST; at <= SDS_SIGNING_TIME; at += 2) {
    check_pair(o, at, n, 1);
    if (o[at] >= 0 && !tlv_ends_at(d, n, o[at], o[at + 1])) fail("attribute value TLV");
    if (o[at] >= 0 && (o[at] < o[SDS_SIGNED_ATTRS] || o[at + 1] > o[SDS_SIGNED_ATTRS + 1]))
      fail("attribute value outside signedAttrs");
  }
  check_pair(o, SDS_SIGNATURE_ALGORITHM, n, 0);
  check_pair(o, SDS_SIGNATURE, n, 0);
  if (!(o[SDS_CONTENT + 1] <= o[SDS_SIGNED_ATTRS] && o[SDS_SIGNED_ATTRS + 1] <= o[SDS_SIGNATURE]))
    fail("content, signed attributes and signature out of order");
  if ((size_t)o[SDS_SIGNATURE + 1] != n) fail("the signature does not end the message");
  const struct {
    int at, max, tlv;
  } lists[] = {{SDS_DIGEST_ALGORITHMS, SDS_MAX_DIGEST_ALGORITHMS, 0},
               {SDS_OTHER_ATTRIBUTES, SDS_MAX_OTHER_ATTRIBUTES, 0},
               {SDS_CERTIFICATES, SDS_MAX_CERTIFICATES, 1}};
  for (int l = 0; l < 3; l++) {
    int count = o[lists[l].at];
    if (count < 0 || count > lists[l].max) fail("a count out of range");
    for (int i = 0; i < count; i++) {
      int at = lists[l].at + 1 + 2 * i;
      check_pair(o, at, n, 0);
      if (lists[l].tlv && !tlv_ends_at(d, n, o[at], o[at + 1])) fail("certificate TLV");
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An allocation of exactly `size` bytes, so that ASan sees any read past the end. */
  uint8_t *d = malloc(size ? size : 1);
  if (!d) abort();
  if (size) memcpy(d, data, size);
  int32_t o[SDS_LENGTH];
  uint32_t depth = size ? 1 + d[0] % 70 : 64;
  if (signed_data_shape(d, size, depth, o) == 1) check_accepted(d, size, o);
  free(d);
  return 0;
}

#ifndef SDS_LIBFUZZER
/* --- a builder of messages of the common shape, recording the offsets the locator must find -------------
 * Every element is built in a buffer of its own, with marks (an index of the shape and an offset inside the
 * buffer); wrapping a buffer in a header moves its marks by the header's size, and appending a buffer to
 * another moves them by where it lands. So each recorded offset follows its bytes exactly. */

#define CAP 65536
#define MARKS 64
typedef struct {
  uint8_t b[CAP];
  size_t n;
  int nm;
  int idx[MARKS];
  int32_t off[MARKS];
} buf;

static buf *fresh(void) {
  buf *w = malloc(sizeof *w);
  if (!w) abort();
  w->n = 0, w->nm = 0;
  return w;
}

static void mark(buf *w, int idx, size_t off) {
  if (w->nm == MARKS) fail("builder: too many marks");
  w->idx[w->nm] = idx, w->off[w->nm++] = (int32_t)off;
}

static void bytes(buf *w, const void *p, size_t n) {
  if (w->n + n > CAP) fail("builder overflow");
  memcpy(w->b + w->n, p, n);
  w->n += n;
}

static void random_bytes(buf *w, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t c = (uint8_t)rnd64();
    bytes(w, &c, 1);
  }
}

/* A minimal DER header for tag and len. */
static void header(buf *w, uint8_t tag, size_t len) {
  uint8_t h[6] = {tag};
  size_t k = 1;
  if (len < 0x80) h[k++] = (uint8_t)len;
  else if (len < 0x100) h[k++] = 0x81, h[k++] = (uint8_t)len;
  else h[k++] = 0x82, h[k++] = (uint8_t)(len >> 8), h[k++] = (uint8_t)len;
  bytes(w, h, k);
}

/* Appends src (then freed) to dst, with its marks. */
static void append(buf *dst, buf *src) {
  size_t at = dst->n;
  bytes(dst, src->b, src->n);
  for (int i = 0; i < src->nm; i++) mark(dst, src->idx[i], at + (size_t)src->off[i]);
  free(src);
}

/* Wraps the whole of w in a TLV with `tag`; returns w. */
static buf *wrap(buf *w, uint8_t tag) {
  buf *h = fresh();
  header(h, tag, w->n);
  append(h, w);
  return h;
}

static const uint8_t SIGNED_DATA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
static const uint8_t GM_SIGNED_DATA[] = {0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x06, 0x01, 0x04, 0x02, 0x02};
static const uint8_t SM3[] = {0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11};
static const uint8_t PKCS9[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09};

/* An OID TLV with the contents marked at `at` (unless at < 0). */
static void oid(buf *w, const uint8_t *contents, size_t n, int at) {
  header(w, 0x06, n);
  if (at >= 0) mark(w, at, w->n);
  bytes(w, contents, n);
  if (at >= 0) mark(w, at + 1, w->n);
}

/* A random OID (3..12 bytes, never a PKCS #9 attribute). */
static void random_oid(buf *w, int at) {
  uint8_t c[12];
  size_t n = 3 + rnd64() % 10;
  c[0] = 0x2b;
  for (size_t i = 1; i < n; i++) c[i] = (uint8_t)(rnd64() & 0x7f);
  oid(w, c, n, at);
}

/* A small random value: primitive, or constructed with up to three children nested `depth` more levels. */
static buf *random_value(int depth) {
  buf *w = fresh();
  if (depth <= 0 || rnd64() % 2) {
    random_bytes(w, rnd64() % 40);
    return wrap(w, (uint8_t)(0x04 + rnd64() % 2 * 0x80));
  }
  for (int i = (int)(rnd64() % 3); i >= 0; i--) append(w, random_value(depth - 1));
  return wrap(w, 0x30);
}

/* AlgorithmIdentifier, its OID contents marked at `at`. */
static buf *algorithm(int at) {
  buf *w = fresh();
  if (rnd64() % 2) oid(w, SM3, sizeof SM3, at);
  else random_oid(w, at);
  switch (rnd64() % 3) {
    case 0:
      break;
    case 1:
      header(w, 0x05, 0);
      break;
    default:
      append(w, random_value(2));
  }
  return wrap(w, 0x30);
}

/* A buffer of `n` random bytes, marked as a pair at `at` (its contents). */
static buf *contents(size_t n, int at) {
  buf *w = fresh();
  mark(w, at, 0);
  random_bytes(w, n);
  mark(w, at + 1, w->n);
  return w;
}

/* A TLV whose whole extent is marked as the pair at `at`. */
static buf *marked_tlv(buf *w, int at) {
  buf *m = fresh();
  mark(m, at, 0);
  mark(m, at + 1, w->n);
  append(m, w);
  return m;
}

static buf *version(void) {
  buf *w = fresh();
  header(w, 0x02, 1);
  bytes(w, "\x01", 1);
  return w;
}

/* A message of the common shape in w, with the offsets the locator must report in o. */
static void build(buf *out, int32_t *o) {
  for (int i = 0; i < SDS_LENGTH; i++) o[i] = -1;
  buf *sd = version();
  buf *algs = fresh();
  int count = (int)(rnd64() % (SDS_MAX_DIGEST_ALGORITHMS + 1));
  for (int i = 0; i < count; i++) append(algs, algorithm(SDS_DIGEST_ALGORITHMS + 1 + 2 * i));
  o[SDS_DIGEST_ALGORITHMS] = count;
  append(sd, wrap(algs, 0x31));
  buf *enc = fresh();
  oid(enc, PKCS9, sizeof PKCS9, SDS_E_CONTENT_TYPE); /* any OID: the locator does not read it */
  append(enc, wrap(wrap(contents(rnd64() % 4 == 0 ? 200 + rnd64() % 400 : rnd64() % 100, SDS_CONTENT), 0x04), 0xa0));
  append(sd, wrap(enc, 0x30));
  count = 0;
  if (rnd64() % 4) {
    buf *certs = fresh();
    count = (int)(rnd64() % (SDS_MAX_CERTIFICATES + 1));
    for (int i = 0; i < count; i++) {
      buf *c = fresh();
      append(c, random_value(3));
      append(certs, marked_tlv(wrap(c, 0x30), SDS_CERTIFICATES + 1 + 2 * i));
    }
    append(sd, wrap(certs, 0xa0));
  }
  o[SDS_CERTIFICATES] = count;
  buf *si = version();
  if (rnd64() % 3) {
    buf *sid = fresh();
    buf *name = fresh();
    append(name, random_value(2));
    append(sid, marked_tlv(wrap(name, 0x30), SDS_ISSUER));
    append(sid, wrap(contents(1 + rnd64() % 20, SDS_SERIAL), 0x02));
    append(si, wrap(sid, 0x30));
    o[SDS_SID_TAG] = 0x30;
  } else {
    append(si, wrap(contents(20, SDS_SERIAL), 0x80));
    o[SDS_SID_TAG] = 0x80;
  }
  append(si, algorithm(SDS_DIGEST_ALGORITHM));
  /* contentType, messageDigest, signingTime (each present or not) and up to the maximum of others, in a
   * random order. */
  int kinds[3 + SDS_MAX_OTHER_ATTRIBUTES], nk = 0, others = (int)(rnd64() % (SDS_MAX_OTHER_ATTRIBUTES + 1));
  for (int k = 3; k <= 5; k++)
    if (rnd64() % 4) kinds[nk++] = k;
  for (int i = 0; i < others; i++) kinds[nk++] = 0;
  for (int i = nk - 1; i > 0; i--) {
    int j = (int)(rnd64() % (uint64_t)(i + 1)), t = kinds[i];
    kinds[i] = kinds[j], kinds[j] = t;
  }
  buf *attrs = fresh();
  int other = 0;
  for (int i = 0; i < nk; i++) {
    buf *attr = fresh();
    buf *values = fresh();
    if (kinds[i] == 0) {
      random_oid(attr, SDS_OTHER_ATTRIBUTES + 1 + 2 * other++);
      for (int v = (int)(rnd64() % 2); v >= 0; v--) append(values, random_value(3));
    } else {
      uint8_t type[sizeof PKCS9 + 1];
      memcpy(type, PKCS9, sizeof PKCS9);
      type[sizeof PKCS9] = (uint8_t)kinds[i];
      oid(attr, type, sizeof type, -1);
      buf *v = fresh();
      random_bytes(v, kinds[i] == 4 ? 32 : 13);
      int at = kinds[i] == 4 ? SDS_MESSAGE_DIGEST : kinds[i] == 3 ? SDS_CONTENT_TYPE : SDS_SIGNING_TIME;
      append(values, marked_tlv(wrap(v, kinds[i] == 4 ? 0x04 : kinds[i] == 3 ? 0x06 : 0x17), at));
    }
    append(attr, wrap(values, 0x31));
    append(attrs, wrap(attr, 0x30));
  }
  o[SDS_OTHER_ATTRIBUTES] = other;
  append(si, marked_tlv(wrap(attrs, 0xa0), SDS_SIGNED_ATTRS));
  append(si, algorithm(SDS_SIGNATURE_ALGORITHM));
  append(si, wrap(contents(64 + rnd64() % 10, SDS_SIGNATURE), 0x04));
  append(sd, wrap(wrap(si, 0x30), 0x31));
  buf *ci = fresh();
  if (rnd64() % 2) oid(ci, SIGNED_DATA, sizeof SIGNED_DATA, -1);
  else oid(ci, GM_SIGNED_DATA, sizeof GM_SIGNED_DATA, -1);
  append(ci, wrap(wrap(sd, 0x30), 0xa0));
  ci = wrap(ci, 0x30);
  out->n = 0, out->nm = 0;
  append(out, ci);
  for (int i = 0; i < out->nm; i++) o[out->idx[i]] = out->off[i];
}

static buf message, mutated; /* static: too large for the stack */

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) | 1 : 0x9e3779b97f4a7c15ULL;
  clock_t end = clock() + (clock_t)(seconds * CLOCKS_PER_SEC);
  unsigned long built = 0, runs = 0, accepted = 0;
  int32_t want[SDS_LENGTH], got[SDS_LENGTH];
  while (clock() < end) {
    build(&message, want);
    built++;
    /* A well-formed message is accepted with exactly the recorded offsets. */
    {
      uint8_t *d = malloc(message.n);
      if (!d) abort();
      memcpy(d, message.b, message.n);
      if (signed_data_shape(d, message.n, 64, got) != 1) fail("a built message is not accepted");
      if (memcmp(got, want, sizeof got) != 0) fail("a built message's offsets differ");
      check_accepted(d, message.n, got);
      free(d);
    }
    for (int m = 0; m < 16; m++, runs++) {
      mutated = message;
      switch (rnd64() % 4) {
        case 0: /* a few flipped bits */
          for (int j = (int)(rnd64() % 3) + 1; j > 0; j--)
            mutated.b[rnd64() % mutated.n] ^= (uint8_t)(1u << (rnd64() % 8));
          break;
        case 1: /* a byte set to an edge value */
          mutated.b[rnd64() % mutated.n] = (uint8_t[]){0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff}[rnd64() % 7];
          break;
        case 2: /* truncated */
          mutated.n = rnd64() % mutated.n;
          break;
        default: /* a random byte inserted */
          if (mutated.n < CAP) {
            size_t at = rnd64() % mutated.n;
            memmove(mutated.b + at + 1, mutated.b + at, mutated.n - at);
            mutated.b[at] = (uint8_t)rnd64();
            mutated.n++;
          }
      }
      uint8_t *d = malloc(mutated.n ? mutated.n : 1);
      if (!d) abort();
      memcpy(d, mutated.b, mutated.n);
      uint32_t depth = 9 + (uint32_t)(rnd64() % 60);
      if (signed_data_shape(d, mutated.n, depth, got) == 1) {
        accepted++;
        check_accepted(d, mutated.n, got);
      }
      free(d);
    }
  }
  printf("fuzz_signed_data_shape: %lu messages built, %lu mutations (%lu accepted): no property violated\n",
         built, runs, accepted);
  return 0;
}
#endif
