/*
 * Native SM2 curve arithmetic for @yizheng/gm: an N-API addon over the OpenSSL that Node bundles.
 *
 * Node (when linked against its bundled OpenSSL) exports the libcrypto symbols it contains, so this addon
 * links against nothing: EC_*, BN_* and RAND_* are resolved from the node binary at load time. The curve is
 * the SM2 recommended curve of GB/T 32918.5-2017 (OpenSSL: NID_sm2).
 *
 * What is here is the curve part of GB/T 32918.2 (signature) and a generic scalar multiplication; Z, e,
 * encodings and the KDF stay in TypeScript (see src/sm2/engine.ts for the contract).
 *
 * JS surface (module exports):
 *   opensslVersion: string                       OpenSSL_version(OPENSSL_VERSION) as linked
 *   createContext(publicKeyCacheSize: number) -> {
 *     publicKeyFromPrivate(d32) -> Uint8Array(65)
 *     sign(e32, d32, k32?)      -> Uint8Array(64)   r || s
 *     verify(e32, rs64, pub65)  -> boolean
 *     multiply(point65, k32)    -> Uint8Array(65)
 *     cacheStats()              -> { size, capacity, hits, misses }
 *   }
 * The functions carry their context as N-API callback data (no `this`), so they may be detached.
 *
 * Errors: a JS Error whose `code` is a GmErrorCode string:
 *   GM_INVALID_ARGUMENT  wrong type or length; multiply() result at infinity; a given k unusable
 *   GM_INVALID_KEY       private key outside [1, n-2]; point not an uncompressed point on the curve
 *   GM_NATIVE_FAILURE    OpenSSL failed (allocation); not caused by the input
 * verify() never throws for a signature that does not verify, nor for a public key it cannot parse.
 *
 * Threads: everything lives in per-environment data (napi instance data, and one context object per
 * createContext call), so every worker thread that loads the addon has its own EC_GROUP, BN_CTX and cache.
 * Nothing here is shared between threads.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "OpenSSL 3 headers required (node's own, under <nodedir>/include/node/openssl)"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SCALAR_BYTES 32
#define POINT_BYTES 65
#define SIG_BYTES 64
#define DEFAULT_CACHE_SIZE 1024
#define MAX_CACHE_SIZE (1 << 20)
/* Random k draws before giving up (each retry has probability ~2^-256; reaching this means a broken RNG). */
#define MAX_SIGN_ATTEMPTS 64

#define E_ARG "GM_INVALID_ARGUMENT"
#define E_KEY "GM_INVALID_KEY"
#define E_NATIVE "GM_NATIVE_FAILURE"

/* ---------------------------------------------------------------------------------------------------------
 * Shared per-environment data: the curve, created once per addon instance (napi instance data).
 * Reference-counted: the instance-data finalizer and every context hold one reference, because N-API does
 * not order the finalizers of instance data and of objects at environment teardown. (If one environment loads
 * the addon twice under two paths, Node replaces the instance data without finalizing it: the first group
 * then stays allocated until exit. Contexts keep their own reference, so nothing is freed under them.)
 */
typedef struct {
  int refs;
  EC_GROUP *group;
  const BIGNUM *order; /* n, owned by group */
  BIGNUM *n_minus_1;
  BIGNUM *n_minus_2;   /* exponent for the Fermat inversion a^(n-2) = a^-1 mod n */
  BN_MONT_CTX *mont_n; /* Montgomery context for n */
} shared_t;

static void shared_release(shared_t *sh) {
  if (sh == NULL || --sh->refs > 0) return;
  BN_MONT_CTX_free(sh->mont_n);
  BN_free(sh->n_minus_2);
  BN_free(sh->n_minus_1);
  EC_GROUP_free(sh->group);
  free(sh);
}

static shared_t *shared_new(void) {
  shared_t *sh = calloc(1, sizeof *sh);
  BN_CTX *ctx = BN_CTX_new();
  if (sh == NULL || ctx == NULL) goto fail;
  sh->refs = 1;
  sh->group = EC_GROUP_new_by_curve_name(NID_sm2);
  if (sh->group == NULL) goto fail;
  sh->order = EC_GROUP_get0_order(sh->group);
  sh->n_minus_1 = BN_dup(sh->order);
  sh->n_minus_2 = BN_dup(sh->order);
  sh->mont_n = BN_MONT_CTX_new();
  if (sh->n_minus_1 == NULL || sh->n_minus_2 == NULL || sh->mont_n == NULL) goto fail;
  if (!BN_sub_word(sh->n_minus_1, 1) || !BN_sub_word(sh->n_minus_2, 2)) goto fail;
  if (!BN_MONT_CTX_set(sh->mont_n, sh->order, ctx)) goto fail;
  BN_CTX_free(ctx);
  return sh;
fail:
  BN_CTX_free(ctx);
  shared_release(sh);
  ERR_clear_error();
  return NULL;
}

/* ---------------------------------------------------------------------------------------------------------
 * Public-key cache: bounded LRU of parsed EC_POINTs keyed by the 65-byte encoding. Hash chains over a
 * power-of-two bucket array, a doubly linked recency list; entries are allocated up to the capacity and then
 * recycled from the tail. The hash is seeded per context from RAND_bytes so chosen keys cannot pile into one
 * bucket (and chains are bounded by the capacity anyway).
 */
typedef struct entry {
  struct entry *hnext; /* bucket chain */
  struct entry *prev, *next; /* recency list, head = most recent */
  uint64_t hash;
  EC_POINT *point;
  unsigned char key[POINT_BYTES];
} entry_t;

typedef struct {
  entry_t **buckets;
  size_t mask;
  size_t size, capacity;
  entry_t *head, *tail;
  uint64_t seed;
  double hits, misses;
} cache_t;

static uint64_t cache_hash(const cache_t *c, const unsigned char *k) {
  uint64_t h = 0xcbf29ce484222325ULL ^ c->seed; /* FNV-1a 64, seeded */
  for (int i = 0; i < POINT_BYTES; i++) h = (h ^ k[i]) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

static int cache_init(cache_t *c, size_t capacity) {
  memset(c, 0, sizeof *c);
  c->capacity = capacity;
  if (capacity == 0) return 1;
  size_t nb = 16;
  while (nb < capacity) nb <<= 1;
  c->buckets = calloc(nb, sizeof *c->buckets);
  if (c->buckets == NULL) return 0;
  c->mask = nb - 1;
  if (RAND_bytes((unsigned char *)&c->seed, sizeof c->seed) != 1) {
    ERR_clear_error();
    c->seed = (uint64_t)(uintptr_t)c; /* the seed only spreads buckets; not a security boundary */
  }
  return 1;
}

static void list_unlink(cache_t *c, entry_t *e) {
  if (e->prev) e->prev->next = e->next; else c->head = e->next;
  if (e->next) e->next->prev = e->prev; else c->tail = e->prev;
  e->prev = e->next = NULL;
}

static void list_push_front(cache_t *c, entry_t *e) {
  e->prev = NULL;
  e->next = c->head;
  if (c->head) c->head->prev = e; else c->tail = e;
  c->head = e;
}

static void bucket_remove(cache_t *c, entry_t *e) {
  entry_t **pp = &c->buckets[e->hash & c->mask];
  while (*pp != e) pp = &(*pp)->hnext;
  *pp = e->hnext;
  e->hnext = NULL;
}

static void cache_free(cache_t *c) {
  entry_t *e = c->head;
  while (e) {
    entry_t *next = e->next;
    EC_POINT_free(e->point);
    free(e);
    e = next;
  }
  free(c->buckets);
  memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------------------------------------------------
 * Context: one per createContext() call. Owns a BN_CTX (reused by every call: calls are synchronous on the
 * environment's JS thread and never re-enter) and the public-key cache.
 */
typedef struct {
  int refs; /* one per JS function created over this context */
  shared_t *sh;
  BN_CTX *bn;
  cache_t cache;
} context_t;

static void context_release(context_t *cx) {
  if (cx == NULL || --cx->refs > 0) return;
  cache_free(&cx->cache);
  BN_CTX_free(cx->bn);
  shared_release(cx->sh);
  free(cx);
}

/* ---------------------------------------------------------------------------------------------------------
 * N-API helpers.
 */
static napi_value throw_code(napi_env env, const char *code, const char *msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, code, msg);
  return NULL;
}

/* Gets the bytes of a Uint8Array (Buffer included) of exactly `len` bytes; throws GM_INVALID_ARGUMENT. */
static int get_bytes(napi_env env, napi_value v, size_t len, const unsigned char **out, const char *what) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t n = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, &n, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    throw_code(env, E_ARG, what);
    return 0;
  }
  if (n != len) {
    throw_code(env, E_ARG, what);
    return 0;
  }
  /* A zero-length view may have data == NULL; len is never 0 here. */
  *out = data;
  return 1;
}

/* New Uint8Array of `len` bytes; returns its backing store in *data. */
static napi_value new_bytes(napi_env env, size_t len, unsigned char **data) {
  napi_value ab, ta;
  void *p = NULL;
  if (napi_create_arraybuffer(env, len, &p, &ab) != napi_ok) return NULL;
  if (napi_create_typedarray(env, napi_uint8_array, len, ab, 0, &ta) != napi_ok) return NULL;
  *data = p;
  return ta;
}

#define GET_ARGS(N)                                                                        \
  size_t argc = (N);                                                                       \
  napi_value argv[(N) > 0 ? (N) : 1];                                                      \
  void *cbdata = NULL;                                                                     \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &cbdata) != napi_ok) return NULL;     \
  context_t *cx = cbdata;                                                                  \
  const shared_t *sh = cx->sh;                                                             \
  (void)sh

/* BIGNUM from 32 big-endian bytes (NULL on failure). */
static BIGNUM *bn_from(BN_CTX *bn, const unsigned char *b, int secret) {
  BIGNUM *x = BN_CTX_get(bn);
  if (x == NULL) return NULL;
  if (secret) BN_set_flags(x, BN_FLG_CONSTTIME);
  return BN_bin2bn(b, SCALAR_BYTES, x);
}

/* 1 <= d <= n-2 (GB/T 32918.1 clause 6.1: the private key is a random integer in [1, n-2]). */
static int private_key_in_range(const shared_t *sh, const BIGNUM *d) {
  return !BN_is_zero(d) && BN_cmp(d, sh->n_minus_2) <= 0;
}

/* Uncompressed encoding of P into out[65]; 0 if P is the point at infinity or on failure. */
static int point_out(const shared_t *sh, const EC_POINT *p, unsigned char *out, BN_CTX *bn) {
  if (EC_POINT_is_at_infinity(sh->group, p)) return 0;
  return EC_POINT_point2oct(sh->group, p, POINT_CONVERSION_UNCOMPRESSED, out, POINT_BYTES, bn) == POINT_BYTES;
}

/* Parses an uncompressed point (0x04 || x || y) into p; OpenSSL checks that it is on the curve. */
static int point_in(const shared_t *sh, EC_POINT *p, const unsigned char *in, BN_CTX *bn) {
  if (in[0] != 0x04) return 0; /* reject compressed and hybrid (0x06/0x07) forms */
  if (!EC_POINT_oct2point(sh->group, p, in, POINT_BYTES, bn)) {
    ERR_clear_error();
    return 0;
  }
  return 1;
}

/* Cached parse for verify(): returns a point owned by the cache (or by *owned when the cache is disabled). */
static const EC_POINT *cache_get(context_t *cx, const unsigned char *key, EC_POINT **owned) {
  cache_t *c = &cx->cache;
  const shared_t *sh = cx->sh;
  *owned = NULL;
  if (c->capacity == 0) {
    EC_POINT *p = EC_POINT_new(sh->group);
    if (p == NULL || !point_in(sh, p, key, cx->bn)) {
      EC_POINT_free(p);
      return NULL;
    }
    *owned = p;
    return p;
  }
  uint64_t h = cache_hash(c, key);
  for (entry_t *e = c->buckets[h & c->mask]; e; e = e->hnext) {
    if (e->hash == h && memcmp(e->key, key, POINT_BYTES) == 0) {
      c->hits++;
      if (c->head != e) {
        list_unlink(c, e);
        list_push_front(c, e);
      }
      return e->point;
    }
  }
  c->misses++;
  /* Parse first: invalid keys are never cached. */
  EC_POINT *p = EC_POINT_new(sh->group);
  if (p == NULL || !point_in(sh, p, key, cx->bn)) {
    EC_POINT_free(p);
    return NULL;
  }
  entry_t *e;
  if (c->size < c->capacity) {
    e = calloc(1, sizeof *e);
    if (e == NULL) { /* cannot cache: use it uncached */
      *owned = p;
      return p;
    }
    c->size++;
  } else {
    e = c->tail; /* evict the least recently used */
    list_unlink(c, e);
    bucket_remove(c, e);
    EC_POINT_free(e->point);
  }
  e->point = p;
  e->hash = h;
  memcpy(e->key, key, POINT_BYTES);
  e->hnext = c->buckets[h & c->mask];
  c->buckets[h & c->mask] = e;
  list_push_front(c, e);
  return p;
}

/* ---------------------------------------------------------------------------------------------------------
 * publicKeyFromPrivate(d) — GB/T 32918.1 clause 6.1 (key pair generation), step c: P = [d]G.
 *   d must be in [1, n-2]; k·G is a single-scalar multiplication, for which OpenSSL 3 uses its Montgomery
 *   ladder (ec_scalar_mul_ladder), with d flagged BN_FLG_CONSTTIME.
 */
static napi_value js_public_key_from_private(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  const unsigned char *db;
  if (argc < 1 || !get_bytes(env, argv[0], SCALAR_BYTES, &db, "private key must be 32 bytes")) {
    return throw_code(env, E_ARG, "private key must be 32 bytes");
  }
  unsigned char *out;
  napi_value result = new_bytes(env, POINT_BYTES, &out);
  if (result == NULL) return NULL;

  const char *code = NULL, *msg = NULL;
  EC_POINT *P = EC_POINT_new(sh->group);
  BN_CTX_start(cx->bn);
  BIGNUM *d = bn_from(cx->bn, db, 1);
  if (P == NULL || d == NULL) {
    code = E_NATIVE, msg = "OpenSSL allocation failed";
  } else if (!private_key_in_range(sh, d)) {
    code = E_KEY, msg = "private key is not in [1, n-2]";
  } else if (!EC_POINT_mul(sh->group, P, d, NULL, NULL, cx->bn) || !point_out(sh, P, out, cx->bn)) {
    code = E_NATIVE, msg = "OpenSSL EC_POINT_mul failed";
  }
  if (d) BN_clear(d); /* BN_CTX_end does not wipe */
  BN_CTX_end(cx->bn);
  EC_POINT_clear_free(P);
  if (code) {
    ERR_clear_error();
    return throw_code(env, code, msg);
  }
  return result;
}

/* ---------------------------------------------------------------------------------------------------------
 * sign(e, d, k?) — GB/T 32918.2-2016 clause 6.1, digital signature generation, steps A3–A7
 * (A1 M̄ = Z_A ‖ M and A2 e = H_v(M̄) are done by the caller, which passes e):
 *   A3: k ∈ [1, n-1], random (OpenSSL's RAND, BN_priv_rand_range) unless given (test vectors only);
 *   A4: (x1, y1) = [k]G;
 *   A5: r = (e + x1) mod n; if r = 0 or r + k = n, return to A3;
 *   A6: s = ((1 + d_A)^-1 · (k − r·d_A)) mod n; if s = 0, return to A3;
 *   A7: the signature is (r, s), output as r ‖ s, 32 bytes each.
 * As OpenSSL's own sm2_sig_gen: d and k carry BN_FLG_CONSTTIME, [k]G is a single-scalar multiplication (the
 * ladder), and (1 + d)^-1 is computed by Fermat, (1 + d)^(n-2) mod n, with BN_mod_exp_mont_consttime.
 * With a given k a retry is impossible: r = 0, r + k = n or s = 0 throws GM_INVALID_ARGUMENT.
 * d outside [1, n-2] throws GM_INVALID_KEY: no signature is ever returned for it.
 */
static napi_value js_sign(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  const unsigned char *eb, *db, *kb = NULL;
  if (argc < 2 || !get_bytes(env, argv[0], SCALAR_BYTES, &eb, "e must be 32 bytes") ||
      !get_bytes(env, argv[1], SCALAR_BYTES, &db, "private key must be 32 bytes")) {
    return throw_code(env, E_ARG, "sign(e, d, k?): e and d must be 32 bytes");
  }
  if (argc >= 3) {
    napi_valuetype t;
    if (napi_typeof(env, argv[2], &t) != napi_ok) return NULL;
    if (t != napi_undefined && !get_bytes(env, argv[2], SCALAR_BYTES, &kb, "k must be 32 bytes")) return NULL;
  }
  unsigned char *out;
  napi_value result = new_bytes(env, SIG_BYTES, &out);
  if (result == NULL) return NULL;

  const char *code = NULL, *msg = NULL;
  BN_CTX *bn = cx->bn;
  const BIGNUM *n = sh->order;
  EC_POINT *kG = EC_POINT_new(sh->group);
  BN_CTX_start(bn);
  BIGNUM *e = bn_from(bn, eb, 0);
  BIGNUM *d = bn_from(bn, db, 1);
  BIGNUM *k = BN_CTX_get(bn);
  BIGNUM *x1 = BN_CTX_get(bn);
  BIGNUM *r = BN_CTX_get(bn);
  BIGNUM *s = BN_CTX_get(bn);
  BIGNUM *tmp = BN_CTX_get(bn);
  BIGNUM *dinv = BN_CTX_get(bn);
  if (kG == NULL || e == NULL || d == NULL || dinv == NULL) { /* once BN_CTX_get fails, later calls fail */
    code = E_NATIVE, msg = "OpenSSL allocation failed";
    goto done;
  }
  BN_set_flags(k, BN_FLG_CONSTTIME);
  BN_set_flags(x1, BN_FLG_CONSTTIME);
  BN_set_flags(s, BN_FLG_CONSTTIME);
  BN_set_flags(tmp, BN_FLG_CONSTTIME);
  BN_set_flags(dinv, BN_FLG_CONSTTIME);
  if (!private_key_in_range(sh, d)) {
    code = E_KEY, msg = "private key is not in [1, n-2]";
    goto done;
  }
  if (kb != NULL) {
    if (BN_bin2bn(kb, SCALAR_BYTES, k) == NULL) goto native;
    if (BN_is_zero(k) || BN_cmp(k, n) >= 0) {
      code = E_ARG, msg = "k is not in [1, n-1]";
      goto done;
    }
  }
  /* (1 + d)^-1 mod n does not depend on k: computed once, outside the retry loop. 1 + d ≤ n - 1. */
  if (!BN_add(tmp, d, BN_value_one()) ||
      !BN_mod_exp_mont_consttime(dinv, tmp, sh->n_minus_2, n, bn, sh->mont_n)) {
    goto native;
  }
  for (int attempt = 0;; attempt++) {
    if (attempt == MAX_SIGN_ATTEMPTS) {
      code = E_NATIVE, msg = "could not draw a usable k";
      goto done;
    }
    /* A3 */
    if (kb == NULL) {
      do {
        if (!BN_priv_rand_range(k, n)) goto native;
      } while (BN_is_zero(k));
    }
    /* A4 */
    if (!EC_POINT_mul(sh->group, kG, k, NULL, NULL, bn) ||
        !EC_POINT_get_affine_coordinates(sh->group, kG, x1, NULL, bn)) {
      goto native;
    }
    /* A5 */
    if (!BN_mod_add(r, e, x1, n, bn)) goto native;
    int retry = BN_is_zero(r);
    if (!retry) {
      if (!BN_add(tmp, r, k)) goto native;
      retry = BN_cmp(tmp, n) == 0;
    }
    /* A6: s = (1 + d)^-1 · (k − r·d) mod n */
    if (!retry) {
      if (!BN_mod_mul(tmp, d, r, n, bn) || !BN_sub(tmp, k, tmp) || !BN_mod_mul(s, dinv, tmp, n, bn)) {
        goto native;
      }
      retry = BN_is_zero(s);
    }
    if (!retry) break;
    if (kb != NULL) {
      code = E_ARG, msg = "the given k yields r = 0, r + k = n or s = 0";
      goto done;
    }
  }
  /* A7 */
  if (BN_bn2binpad(r, out, SCALAR_BYTES) != SCALAR_BYTES ||
      BN_bn2binpad(s, out + SCALAR_BYTES, SCALAR_BYTES) != SCALAR_BYTES) {
    goto native;
  }
  goto done;
native:
  code = E_NATIVE, msg = "OpenSSL failed while signing";
done:
  /* Wipe every secret or secret-derived value (BN_CTX_end releases without clearing). */
  if (d) BN_clear(d);
  if (k) BN_clear(k);
  if (x1) BN_clear(x1);
  if (tmp) BN_clear(tmp);
  if (dinv) BN_clear(dinv);
  if (s) BN_clear(s);
  BN_CTX_end(bn);
  EC_POINT_clear_free(kG);
  if (code) {
    ERR_clear_error();
    OPENSSL_cleanse(out, SIG_BYTES);
    return throw_code(env, code, msg);
  }
  return result;
}

/* ---------------------------------------------------------------------------------------------------------
 * verify(e, r‖s, P) — GB/T 32918.2-2016 clause 7.1, digital signature verification, steps B1–B7 on a given
 * e (B3 e = H_v(Z_A ‖ M') is done by the caller):
 *   B1, B2: r', s' ∈ [1, n-1], else reject (the caller checks too; repeated here, it is cheap);
 *   B4: t = (r' + s') mod n; if t = 0, reject;
 *   B5: (x1', y1') = [s']G + [t]P_A, one EC_POINT_mul (OpenSSL's interleaved wNAF; all inputs are public);
 *   B6: R = (e' + x1') mod n;
 *   B7: accept iff R = r'.
 * P_A is parsed through the context's LRU cache. Returns false — never throws — for anything that does not
 * verify, including a public key that is not a point on the curve; throws only for wrong lengths or types.
 */
static napi_value js_verify(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  const unsigned char *eb, *sigb, *pb;
  if (argc < 3 || !get_bytes(env, argv[0], SCALAR_BYTES, &eb, "e must be 32 bytes") ||
      !get_bytes(env, argv[1], SIG_BYTES, &sigb, "signature must be 64 bytes (r || s)") ||
      !get_bytes(env, argv[2], POINT_BYTES, &pb, "public key must be a 65-byte uncompressed point")) {
    return throw_code(env, E_ARG, "verify(e, rs, publicKey): e 32, rs 64, publicKey 65 bytes");
  }
  int ok = 0, failed = 0;
  BN_CTX *bn = cx->bn;
  const BIGNUM *n = sh->order;
  EC_POINT *owned = NULL;
  EC_POINT *R = EC_POINT_new(sh->group);
  BN_CTX_start(bn);
  BIGNUM *e = bn_from(bn, eb, 0);
  BIGNUM *r = bn_from(bn, sigb, 0);
  BIGNUM *s = bn_from(bn, sigb + SCALAR_BYTES, 0);
  BIGNUM *t = BN_CTX_get(bn);
  BIGNUM *x1 = BN_CTX_get(bn);
  BIGNUM *v = BN_CTX_get(bn);
  if (R == NULL || e == NULL || r == NULL || s == NULL || v == NULL) {
    failed = 1;
    goto done;
  }
  /* B1, B2 */
  if (BN_is_zero(r) || BN_cmp(r, n) >= 0 || BN_is_zero(s) || BN_cmp(s, n) >= 0) goto done;
  /* B4 */
  if (!BN_mod_add(t, r, s, n, bn)) {
    failed = 1;
    goto done;
  }
  if (BN_is_zero(t)) goto done;
  const EC_POINT *P = cache_get(cx, pb, &owned);
  if (P == NULL) goto done; /* not a point on the curve: does not verify */
  /* B5 */
  if (!EC_POINT_mul(sh->group, R, s, P, t, bn)) {
    failed = 1;
    goto done;
  }
  if (EC_POINT_is_at_infinity(sh->group, R)) goto done;
  if (!EC_POINT_get_affine_coordinates(sh->group, R, x1, NULL, bn)) {
    failed = 1;
    goto done;
  }
  /* B6, B7 */
  if (!BN_mod_add(v, e, x1, n, bn)) {
    failed = 1;
    goto done;
  }
  ok = BN_cmp(v, r) == 0;
done:
  BN_CTX_end(bn);
  EC_POINT_free(R);
  EC_POINT_free(owned);
  if (failed) {
    ERR_clear_error();
    return throw_code(env, E_NATIVE, "OpenSSL failed while verifying");
  }
  napi_value result;
  if (napi_get_boolean(env, ok, &result) != napi_ok) return NULL;
  return result;
}

/* ---------------------------------------------------------------------------------------------------------
 * multiply(Q, k) — [k]Q for SM2 encryption (GB/T 32918.4 clause 6.1 A2/A4: C1 = [k]G, [k]P_B; clause 7.1 B3:
 * [d_B]C1) and key exchange (GB/T 32918.3 clause 6.1 A5/A7). k is any 32-byte value (reduced by OpenSSL if
 * ≥ n), flagged BN_FLG_CONSTTIME; single-scalar EC_POINT_mul uses the ladder. Throws GM_INVALID_ARGUMENT if
 * the result is the point at infinity (k ≡ 0 mod n), GM_INVALID_KEY if Q is not an uncompressed curve point.
 */
static napi_value js_multiply(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  const unsigned char *qb, *kb;
  if (argc < 2 || !get_bytes(env, argv[0], POINT_BYTES, &qb, "point must be 65 bytes (uncompressed)") ||
      !get_bytes(env, argv[1], SCALAR_BYTES, &kb, "scalar must be 32 bytes")) {
    return throw_code(env, E_ARG, "multiply(point, k): point 65 bytes, k 32 bytes");
  }
  unsigned char *out;
  napi_value result = new_bytes(env, POINT_BYTES, &out);
  if (result == NULL) return NULL;

  const char *code = NULL, *msg = NULL;
  BN_CTX *bn = cx->bn;
  EC_POINT *Q = EC_POINT_new(sh->group);
  EC_POINT *R = EC_POINT_new(sh->group);
  BN_CTX_start(bn);
  BIGNUM *k = bn_from(bn, kb, 1);
  if (Q == NULL || R == NULL || k == NULL) {
    code = E_NATIVE, msg = "OpenSSL allocation failed";
  } else if (!point_in(sh, Q, qb, bn)) {
    code = E_KEY, msg = "not an uncompressed point on the SM2 curve";
  } else if (!EC_POINT_mul(sh->group, R, NULL, Q, k, bn)) {
    code = E_NATIVE, msg = "OpenSSL EC_POINT_mul failed";
  } else if (EC_POINT_is_at_infinity(sh->group, R)) {
    code = E_ARG, msg = "k·Q is the point at infinity";
  } else if (!point_out(sh, R, out, bn)) {
    code = E_NATIVE, msg = "OpenSSL EC_POINT_point2oct failed";
  }
  if (k) BN_clear(k);
  BN_CTX_end(bn);
  EC_POINT_free(Q);
  EC_POINT_clear_free(R); /* k·Q may be a shared secret (decryption, key exchange) */
  if (code) {
    ERR_clear_error();
    return throw_code(env, code, msg);
  }
  return result;
}

/* cacheStats() -> { size, capacity, hits, misses } */
static napi_value js_cache_stats(napi_env env, napi_callback_info info) {
  GET_ARGS(0);
  napi_value o, v;
  if (napi_create_object(env, &o) != napi_ok) return NULL;
  const struct { const char *name; double value; } f[] = {
      {"size", (double)cx->cache.size},
      {"capacity", (double)cx->cache.capacity},
      {"hits", cx->cache.hits},
      {"misses", cx->cache.misses},
  };
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (napi_create_double(env, f[i].value, &v) != napi_ok || napi_set_named_property(env, o, f[i].name, v) != napi_ok) {
      return NULL;
    }
  }
  return o;
}

static void function_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  context_release(data);
}

/* createContext(publicKeyCacheSize?) — a fresh BN_CTX and cache over the environment's curve. */
static napi_value js_create_context(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  shared_t *sh = NULL;
  if (napi_get_instance_data(env, (void **)&sh) != napi_ok || sh == NULL) {
    return throw_code(env, E_NATIVE, "addon not initialised");
  }
  double size = DEFAULT_CACHE_SIZE;
  if (argc >= 1) {
    napi_valuetype t;
    if (napi_typeof(env, argv[0], &t) != napi_ok) return NULL;
    if (t != napi_undefined) {
      if (t != napi_number || napi_get_value_double(env, argv[0], &size) != napi_ok || !(size >= 0) ||
          size > MAX_CACHE_SIZE || size != (double)(size_t)size) {
        return throw_code(env, E_ARG, "public key cache size must be an integer in [0, 1048576]");
      }
    }
  }
  context_t *cx = calloc(1, sizeof *cx);
  if (cx == NULL) return throw_code(env, E_NATIVE, "out of memory");
  cx->sh = sh;
  sh->refs++;
  cx->refs = 1; /* held by this function until the methods are attached */
  cx->bn = BN_CTX_new();
  if (cx->bn == NULL || !cache_init(&cx->cache, (size_t)size)) {
    context_release(cx);
    return throw_code(env, E_NATIVE, "out of memory");
  }
  static const struct { const char *name; napi_callback cb; } methods[] = {
      {"publicKeyFromPrivate", js_public_key_from_private},
      {"sign", js_sign},
      {"verify", js_verify},
      {"multiply", js_multiply},
      {"cacheStats", js_cache_stats},
  };
  napi_value obj, fn;
  int built = napi_create_object(env, &obj) == napi_ok;
  for (size_t i = 0; built && i < sizeof methods / sizeof methods[0]; i++) {
    built = napi_create_function(env, methods[i].name, NAPI_AUTO_LENGTH, methods[i].cb, cx, &fn) == napi_ok;
    /* Each function holds one reference, released by its finalizer. If attaching the finalizer fails, the
       function is never exposed (not set on obj), so it cannot be called after the context is freed. */
    if (built) built = napi_add_finalizer(env, fn, cx, function_finalize, NULL, NULL) == napi_ok;
    if (built) cx->refs++;
    if (built) built = napi_set_named_property(env, obj, methods[i].name, fn) == napi_ok;
  }
  context_release(cx); /* drop the creation reference: the functions now own the context */
  if (!built) return throw_code(env, E_NATIVE, "cannot create the context object");
  return obj;
}

static void instance_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  shared_release(data);
}

NAPI_MODULE_INIT() {
  shared_t *sh = shared_new();
  if (sh == NULL) {
    napi_throw_error(env, E_NATIVE, "cannot create the SM2 group (EC_GROUP_new_by_curve_name(NID_sm2))");
    return NULL;
  }
  if (napi_set_instance_data(env, sh, instance_finalize, NULL) != napi_ok) {
    shared_release(sh);
    return NULL;
  }
  napi_value fn, ver;
  if (napi_create_function(env, "createContext", NAPI_AUTO_LENGTH, js_create_context, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "createContext", fn) != napi_ok ||
      napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &ver) != napi_ok ||
      napi_set_named_property(env, exports, "opensslVersion", ver) != napi_ok) {
    return NULL;
  }
  return exports;
}
