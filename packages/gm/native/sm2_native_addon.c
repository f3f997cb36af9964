/*
 * Yizheng's own SM2 engine as an N-API addon (`yizheng_sm2_native.node`): the curve arithmetic of
 * sm2p256.c, signing with nonces from sm2_sign.c, a per-context LRU cache of validated public keys (with
 * their precomputed wNAF tables from the second use on), batch verification and asynchronous batch
 * verification on the libuv thread pool. No OpenSSL.
 *
 * e, encodings and range checks of the protocol stay in TypeScript (src/sm2/engine.ts for the contract; Z
 * may be computed here by computeZ, one call instead of a streaming hash in JavaScript);
 * r, s ∈ [1, n-1] and t ≠ 0 are checked here again (sm2_verify), which is cheap.
 *
 * JS surface (module exports):
 *   version: string
 *   createContext(publicKeyCacheSize?: number, nonce?: 'random' | 'rfc6979') -> {
 *     publicKeyFromPrivate(d32)            -> Uint8Array(65)
 *     sign(e32, d32, k32?)                 -> Uint8Array(64)  r || s
 *     verify(e32, rs64, pub65)             -> boolean
 *     verifyBatch(e, rs, pub)              -> Uint8Array(count) of 0/1; e = 32·count bytes, rs = 64·count,
 *                                             pub = 65·count (count ≤ 2^20)
 *     verifyBatchAsync(e, rs, pub)         -> Promise<Uint8Array(count)>, run on the libuv thread pool
 *     signBatchAsync(e, d32)               -> Promise<Uint8Array(64·count)>: sign(e_i, d) for each 32-byte e_i of
 *                                             e (count ≤ 2^20), nonces as sign's, on the libuv thread pool
 *     multiply(point65, k32)               -> Uint8Array(65)
 *     computeZ(point65, id)                -> Uint8Array(32)  Z_A of GB/T 32918.2 clause 5.5 (id ≤ 8191 bytes)
 *     cacheStats()                         -> { size, capacity, hits, misses }
 *   }
 *
 * Errors: a JS Error whose `code` is a GmErrorCode string:
 *   GM_INVALID_ARGUMENT  wrong type or length; multiply() result at infinity; a given k unusable
 *   GM_INVALID_KEY       private key outside [1, n-2]; point not an uncompressed point on the curve
 *   GM_NATIVE_FAILURE    allocation or the OS random source failed; not caused by the input
 * verify() never throws for a signature that does not verify, nor for a public key it cannot parse.
 *
 * Threads: the base tables are built once per process (pthread_once) and read-only afterwards. A context's
 * cache is shared by its synchronous calls (JS thread) and its asynchronous batches (pool threads), under
 * a mutex; a verification copies the cached key out, so no lock is held while verifying.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1 /* uv.h needs the POSIX thread types under -std=c11 */
#endif
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sm2_sign.h"
#include "sm2p256.h"
#include "sm3.h"
#include "signed_data_shape.h"

#define SCALAR_BYTES 32
#define POINT_BYTES 65
#define SIG_BYTES 64
#define DEFAULT_CACHE_SIZE 1024
#define MAX_CACHE_SIZE (1 << 16) /* ~170 B an entry, plus 4 KB of split tables once a key is seen twice */
#define MAX_BATCH (1 << 20)

#define E_ARG "GM_INVALID_ARGUMENT"
#define E_KEY "GM_INVALID_KEY"
#define E_NATIVE "GM_NATIVE_FAILURE"

/* ---------------------------------------------------------------------------------------------------------
 * Public-key cache: bounded LRU keyed by the 65-byte point (for SM2 the SPKI is a fixed prefix and this
 * point). Hash chains over a power-of-two bucket array and a doubly linked recency list. A key is parsed and
 * validated when first seen; its wNAF table is built when it is seen again, so one-off signers do not pay for
 * it. Invalid points are never cached. The hash is seeded per context from the OS so chosen keys cannot pile
 * into one bucket (chains are bounded by the capacity anyway).
 */
typedef struct entry {
  struct entry *hnext;
  struct entry *prev, *next;
  uint64_t hash;
  uint8_t key[POINT_BYTES];
  sm2_affine p; /* the validated point */
  /* Its split tables (SM2_SPLIT × SM2_KEY_TABLE_SIZE points), allocated when the key is seen again; NULL
     before, so a signer seen once costs only this entry. */
  sm2_affine *table;
} entry_t;

typedef struct {
  entry_t **buckets;
  size_t mask, size, capacity;
  entry_t *head, *tail;
  uint64_t seed;
  double hits, misses;
} cache_t;

typedef struct {
  int refs; /* JS functions and pending async batches; touched on the JS thread only */
  uv_mutex_t lock;
  cache_t cache;
  sm2_nonce_mode nonce;
  /* The last private key `sign` drew a nonce for, prepared (sm2_signing_key: the inversion A6 needs is a third
     of a signature, and nearly every signature is the platform's or a TSA's key). Used only on the JS thread;
     kept until another key signs or the context is released, then wiped. */
  sm2_signing_key signer;
  int has_signer;
} context_t;

static uint64_t cache_hash(const cache_t *c, const uint8_t *k) {
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
  uint8_t seed[32];
  if (sm2_random_bytes(seed)) memcpy(&c->seed, seed, sizeof c->seed);
  else c->seed = (uint64_t)(uintptr_t)c; /* the seed only spreads buckets */
  return 1;
}

static void list_unlink(cache_t *c, entry_t *e) {
  if (e->prev) e->prev->next = e->next;
  else c->head = e->next;
  if (e->next) e->next->prev = e->prev;
  else c->tail = e->prev;
  e->prev = e->next = NULL;
}

static void list_push_front(cache_t *c, entry_t *e) {
  e->prev = NULL;
  e->next = c->head;
  if (c->head) c->head->prev = e;
  else c->tail = e;
  c->head = e;
}

static void bucket_remove(cache_t *c, entry_t *e) {
  entry_t **pp = &c->buckets[e->hash & c->mask];
  while (*pp != e) pp = &(*pp)->hnext;
  *pp = e->hnext;
  e->hnext = NULL;
}

static entry_t *cache_find(cache_t *c, const uint8_t *key, uint64_t h) {
  for (entry_t *e = c->buckets[h & c->mask]; e; e = e->hnext)
    if (e->hash == h && memcmp(e->key, key, POINT_BYTES) == 0) return e;
  return NULL;
}

static void cache_free(cache_t *c) {
  entry_t *e = c->head;
  while (e) {
    entry_t *next = e->next;
    free(e->table);
    free(e);
    e = next;
  }
  free(c->buckets);
  memset(c, 0, sizeof *c);
}

/* Fills *out with the validated key (with its table on the second and later uses); 0 if `in` is not an
   uncompressed point on the curve. Safe from any thread. */
static int key_get(context_t *cx, const uint8_t in[POINT_BYTES], sm2_pubkey *out) {
  cache_t *c = &cx->cache;
  if (c->capacity == 0) return sm2_pubkey_parse(out, in);
  uint64_t h = cache_hash(c, in);
  uv_mutex_lock(&cx->lock);
  entry_t *e = cache_find(c, in, h);
  if (e != NULL) {
    c->hits++;
    if (c->head != e) {
      list_unlink(c, e);
      list_push_front(c, e);
    }
    out->p = e->p;
    if (e->table != NULL) {
      memcpy(out->table, e->table, sizeof out->table);
      out->has_table = 1;
    } else { /* second use: build the table (kept if it can be stored) */
      sm2_pubkey_precompute(out);
      if (out->has_table && (e->table = malloc(sizeof out->table)) != NULL)
        memcpy(e->table, out->table, sizeof out->table);
    }
    uv_mutex_unlock(&cx->lock);
    return 1;
  }
  c->misses++;
  uv_mutex_unlock(&cx->lock);
  if (!sm2_pubkey_parse(out, in)) return 0;
  uv_mutex_lock(&cx->lock);
  if (cache_find(c, in, h) == NULL) {
    if (c->size < c->capacity) {
      e = malloc(sizeof *e);
      if (e != NULL) c->size++;
    } else {
      e = c->tail; /* evict the least recently used */
      list_unlink(c, e);
      bucket_remove(c, e);
      free(e->table);
    }
    if (e != NULL) {
      memcpy(e->key, in, POINT_BYTES);
      e->hash = h;
      e->p = out->p;
      e->table = NULL;
      e->hnext = c->buckets[h & c->mask];
      c->buckets[h & c->mask] = e;
      list_push_front(c, e);
    }
  }
  uv_mutex_unlock(&cx->lock);
  return 1;
}

static void context_release(context_t *cx) {
  if (cx == NULL || --cx->refs > 0) return;
  secure_wipe(&cx->signer, sizeof cx->signer);
  cache_free(&cx->cache);
  uv_mutex_destroy(&cx->lock);
  free(cx);
}

/* Verifies `count` items; consecutive items with the same key share one lookup. */
static void verify_many(context_t *cx, const uint8_t *es, const uint8_t *rss, const uint8_t *pubs,
                        size_t count, uint8_t *results) {
  sm2_pubkey *pk = malloc(sizeof *pk);
  if (pk == NULL) { /* cannot even hold one key: nothing verifies */
    memset(results, 0, count);
    return;
  }
  const uint8_t *last = NULL;
  int last_ok = 0;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *pub = pubs + i * POINT_BYTES;
    if (last == NULL || memcmp(last, pub, POINT_BYTES) != 0) {
      last_ok = key_get(cx, pub, pk);
      last = pub;
    }
    results[i] = last_ok ? (uint8_t)sm2_verify(es + i * SCALAR_BYTES, rss + i * SIG_BYTES, pk) : 0;
  }
  free(pk);
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

/* Bytes of a Uint8Array (Buffer included); `len` == 0 accepts any length and stores it in *got. */
static int get_bytes(napi_env env, napi_value v, size_t len, const uint8_t **out, size_t *got) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t n = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, &n, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    return 0;
  }
  if (len != 0 && n != len) return 0;
  static const uint8_t empty[1] = {0};
  *out = n == 0 ? empty : data;
  if (got) *got = n;
  return 1;
}

static napi_value new_bytes(napi_env env, size_t len, uint8_t **data) {
  napi_value ab, ta;
  void *p = NULL;
  if (napi_create_arraybuffer(env, len, &p, &ab) != napi_ok) return NULL;
  if (napi_create_typedarray(env, napi_uint8_array, len, ab, 0, &ta) != napi_ok) return NULL;
  *data = p;
  return ta;
}

#define GET_ARGS(N)                                                                    \
  size_t argc = (N);                                                                   \
  napi_value argv[(N) > 0 ? (N) : 1];                                                  \
  void *cbdata = NULL;                                                                 \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &cbdata) != napi_ok) return NULL; \
  context_t *cx = cbdata;                                                              \
  (void)cx

/* ---------------------------------------------------------------------------------------------------------
 * publicKeyFromPrivate(d) — GB/T 32918.1 clause 6.1 step c: P = [d]G, d ∈ [1, n-2]; CT in d.
 */
static napi_value js_public_key_from_private(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  const uint8_t *d;
  if (argc < 1 || !get_bytes(env, argv[0], SCALAR_BYTES, &d, NULL))
    return throw_code(env, E_ARG, "private key must be 32 bytes");
  uint8_t *out;
  napi_value result = new_bytes(env, POINT_BYTES, &out);
  if (result == NULL) return NULL;
  if (!sm2_public_from_private(out, d)) return throw_code(env, E_KEY, "private key is not in [1, n-2]");
  return result;
}

/* ---------------------------------------------------------------------------------------------------------
 * sign(e, d, k?) — GB/T 32918.2-2016 clause 6.1 A3–A7 on a given e. Without k, the context's nonce mode
 * draws it (CSPRNG or RFC 6979 HMAC-SM3). A given k (published vectors) that is unusable throws
 * GM_INVALID_ARGUMENT; d outside [1, n-2] throws GM_INVALID_KEY.
 */
static napi_value js_sign(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  const uint8_t *e, *d, *k = NULL;
  if (argc < 2 || !get_bytes(env, argv[0], SCALAR_BYTES, &e, NULL) ||
      !get_bytes(env, argv[1], SCALAR_BYTES, &d, NULL)) {
    return throw_code(env, E_ARG, "sign(e, d, k?): e and d must be 32 bytes");
  }
  if (argc >= 3) {
    napi_valuetype t;
    if (napi_typeof(env, argv[2], &t) != napi_ok) return NULL;
    if (t != napi_undefined && !get_bytes(env, argv[2], SCALAR_BYTES, &k, NULL))
      return throw_code(env, E_ARG, "k must be 32 bytes");
  }
  uint8_t *out;
  napi_value result = new_bytes(env, SIG_BYTES, &out);
  if (result == NULL) return NULL;
  int rc;
  if (k != NULL) {
    rc = sm2_sign_with_k(out, e, d, k);
    if (rc == 0) return throw_code(env, E_ARG, "the given k is not in [1, n-1] or yields r = 0, r + k = n or s = 0");
  } else {
    /* Whether d is the prepared key's, compared in constant time (that it is the same key as last time is no
       secret to the caller; nothing of the value is). */
    uint8_t diff = 0;
    for (size_t i = 0; i < SCALAR_BYTES; i++) diff |= (uint8_t)(cx->signer.d_bytes[i] ^ d[i]);
    if (!cx->has_signer || diff != 0) {
      cx->has_signer = sm2_signing_key_init(&cx->signer, d); /* wiped when d is out of range */
    }
    rc = cx->has_signer ? sm2_sign_prepared(out, e, &cx->signer, cx->nonce) : SM2_SIGN_BAD_KEY;
  }
  switch (rc) {
    case SM2_SIGN_OK:
      return result;
    case SM2_SIGN_BAD_KEY:
      return throw_code(env, E_KEY, "private key is not in [1, n-2]");
    case SM2_SIGN_RNG_FAILED:
      return throw_code(env, E_NATIVE, "the operating system's random source failed");
    default:
      return throw_code(env, E_NATIVE, "could not draw a usable k");
  }
}

/* verify(e, r‖s, P) — GB/T 32918.2-2016 clause 7.1 B1–B7 on a given e; false for an invalid public key. */
static napi_value js_verify(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  const uint8_t *e, *rs, *pub;
  if (argc < 3 || !get_bytes(env, argv[0], SCALAR_BYTES, &e, NULL) ||
      !get_bytes(env, argv[1], SIG_BYTES, &rs, NULL) || !get_bytes(env, argv[2], POINT_BYTES, &pub, NULL)) {
    return throw_code(env, E_ARG, "verify(e, rs, publicKey): e 32, rs 64, publicKey 65 bytes");
  }
  sm2_pubkey pk;
  int ok = key_get(cx, pub, &pk) && sm2_verify(e, rs, &pk);
  napi_value result;
  if (napi_get_boolean(env, ok, &result) != napi_ok) return NULL;
  return result;
}

/* The three batch arrays and their item count; throws GM_INVALID_ARGUMENT. */
static int get_batch(napi_env env, size_t argc, napi_value *argv, const uint8_t **e, const uint8_t **rs,
                     const uint8_t **pub, size_t *count) {
  size_t ne, nrs, npub;
  if (argc < 3 || !get_bytes(env, argv[0], 0, e, &ne) || !get_bytes(env, argv[1], 0, rs, &nrs) ||
      !get_bytes(env, argv[2], 0, pub, &npub)) {
    throw_code(env, E_ARG, "verifyBatch(e, rs, publicKeys): three Uint8Arrays");
    return 0;
  }
  size_t n = ne / SCALAR_BYTES;
  if (ne % SCALAR_BYTES != 0 || nrs != n * SIG_BYTES || npub != n * POINT_BYTES) {
    throw_code(env, E_ARG, "verifyBatch: e, rs and publicKeys must hold 32, 64 and 65 bytes per item");
    return 0;
  }
  if (n > MAX_BATCH) {
    throw_code(env, E_ARG, "verifyBatch: at most 1048576 items per call");
    return 0;
  }
  *count = n;
  return 1;
}

static napi_value js_verify_batch(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  const uint8_t *e, *rs, *pub;
  size_t n;
  if (!get_batch(env, argc, argv, &e, &rs, &pub, &n)) return NULL;
  uint8_t *out;
  napi_value result = new_bytes(env, n, &out);
  if (result == NULL) return NULL;
  if (n > 0) verify_many(cx, e, rs, pub, n, out);
  return result;
}

/* ---------------------------------------------------------------------------------------------------------
 * verifyBatchAsync: the inputs are copied on the JS thread (the caller may reuse its buffers), verified on a
 * pool thread, and the promise is resolved on the JS thread.
 */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  context_t *cx;
  size_t count;
  uint8_t *buf; /* e ‖ rs ‖ pub ‖ results */
} batch_job_t;

static void batch_execute(napi_env env, void *data) {
  (void)env;
  batch_job_t *job = data;
  size_t n = job->count;
  uint8_t *e = job->buf, *rs = e + n * SCALAR_BYTES, *pub = rs + n * SIG_BYTES, *res = pub + n * POINT_BYTES;
  if (n > 0) verify_many(job->cx, e, rs, pub, n, res);
}

static void batch_complete(napi_env env, napi_status status, void *data) {
  batch_job_t *job = data;
  size_t n = job->count;
  napi_value result = NULL, err = NULL, code, msg;
  uint8_t *out;
  if (status == napi_ok && (result = new_bytes(env, n, &out)) != NULL) {
    memcpy(out, job->buf + n * (SCALAR_BYTES + SIG_BYTES + POINT_BYTES), n);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_create_string_utf8(env, E_NATIVE, NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, "the asynchronous batch could not complete", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &err);
    napi_reject_deferred(env, job->deferred, err);
  }
  napi_delete_async_work(env, job->work);
  context_release(job->cx);
  free(job->buf);
  free(job);
}

static napi_value js_verify_batch_async(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  const uint8_t *e, *rs, *pub;
  size_t n;
  if (!get_batch(env, argc, argv, &e, &rs, &pub, &n)) return NULL;
  batch_job_t *job = calloc(1, sizeof *job);
  size_t per = SCALAR_BYTES + SIG_BYTES + POINT_BYTES + 1;
  if (job == NULL || (job->buf = malloc(n * per + 1)) == NULL) {
    free(job);
    return throw_code(env, E_NATIVE, "out of memory");
  }
  job->count = n;
  job->cx = cx;
  memcpy(job->buf, e, n * SCALAR_BYTES);
  memcpy(job->buf + n * SCALAR_BYTES, rs, n * SIG_BYTES);
  memcpy(job->buf + n * (SCALAR_BYTES + SIG_BYTES), pub, n * POINT_BYTES);
  napi_value promise, name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "yizheng.sm2.verifyBatch", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, batch_execute, batch_complete, job, &job->work) != napi_ok) {
    free(job->buf);
    free(job);
    return throw_code(env, E_NATIVE, "cannot create the asynchronous batch");
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    free(job->buf);
    free(job);
    return throw_code(env, E_NATIVE, "cannot queue the asynchronous batch");
  }
  cx->refs++; /* released in batch_complete */
  return promise;
}

/* ---------------------------------------------------------------------------------------------------------
 * signBatchAsync(e, d): the digests and d are copied on the JS thread, signed on a pool thread with the key
 * prepared once for the batch (sm2_signing_key), and the promise is resolved on the JS thread. The copy of d and
 * the prepared key are wiped on the pool thread when the batch is signed, and the copy again when the job ends
 * (if it never ran). Rejects GM_INVALID_KEY for d outside [1, n-2], GM_NATIVE_FAILURE if the random source fails.
 */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  context_t *cx;
  size_t count;
  int rc;
  uint8_t d[SCALAR_BYTES];
  uint8_t *buf; /* e (32·count) ‖ rs (64·count) */
} sign_job_t;

static void sign_execute(napi_env env, void *data) {
  (void)env;
  sign_job_t *job = data;
  size_t n = job->count;
  uint8_t *e = job->buf, *rs = e + n * SCALAR_BYTES;
  sm2_signing_key key;
  if (!sm2_signing_key_init(&key, job->d)) {
    job->rc = SM2_SIGN_BAD_KEY;
  } else {
    job->rc = SM2_SIGN_OK;
    for (size_t i = 0; i < n && job->rc == SM2_SIGN_OK; i++)
      job->rc = sm2_sign_prepared(rs + i * SIG_BYTES, e + i * SCALAR_BYTES, &key, job->cx->nonce);
  }
  secure_wipe(&key, sizeof key);
  secure_wipe(job->d, sizeof job->d);
}

static void sign_job_free(sign_job_t *job) {
  secure_wipe(job->d, sizeof job->d);
  free(job->buf);
  free(job);
}

static void sign_complete(napi_env env, napi_status status, void *data) {
  sign_job_t *job = data;
  size_t n = job->count;
  napi_value result = NULL, err = NULL, code, msg;
  uint8_t *out;
  if (status == napi_ok && job->rc == SM2_SIGN_OK && (result = new_bytes(env, n * SIG_BYTES, &out)) != NULL) {
    if (n > 0) memcpy(out, job->buf + n * SCALAR_BYTES, n * SIG_BYTES);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    const char *c = E_NATIVE, *m = "the asynchronous signing batch could not complete";
    if (status == napi_ok && job->rc == SM2_SIGN_BAD_KEY) {
      c = E_KEY;
      m = "private key is not in [1, n-2]";
    } else if (status == napi_ok && job->rc == SM2_SIGN_RNG_FAILED) {
      m = "the operating system's random source failed";
    } else if (status == napi_ok && job->rc == SM2_SIGN_GAVE_UP) {
      m = "could not draw a usable k";
    }
    napi_create_string_utf8(env, c, NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, m, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &err);
    napi_reject_deferred(env, job->deferred, err);
  }
  napi_delete_async_work(env, job->work);
  context_release(job->cx);
  sign_job_free(job);
}

static napi_value js_sign_batch_async(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  const uint8_t *e, *d;
  size_t elen = 0;
  if (argc < 2 || !get_bytes(env, argv[0], 0, &e, &elen) || !get_bytes(env, argv[1], SCALAR_BYTES, &d, NULL) ||
      elen % SCALAR_BYTES != 0 || elen / SCALAR_BYTES > MAX_BATCH) {
    return throw_code(env, E_ARG, "signBatchAsync(e, d): e is 32·count bytes (count ≤ 2^20), d 32 bytes");
  }
  size_t n = elen / SCALAR_BYTES;
  sign_job_t *job = calloc(1, sizeof *job);
  if (job == NULL || (job->buf = malloc(n * (SCALAR_BYTES + SIG_BYTES) + 1)) == NULL) {
    free(job);
    return throw_code(env, E_NATIVE, "out of memory");
  }
  job->count = n;
  job->cx = cx;
  memcpy(job->d, d, SCALAR_BYTES);
  if (n > 0) memcpy(job->buf, e, elen);
  napi_value promise, name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "yizheng.sm2.signBatch", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, sign_execute, sign_complete, job, &job->work) != napi_ok) {
    sign_job_free(job);
    return throw_code(env, E_NATIVE, "cannot create the asynchronous signing batch");
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    sign_job_free(job);
    return throw_code(env, E_NATIVE, "cannot queue the asynchronous signing batch");
  }
  cx->refs++; /* released in sign_complete */
  return promise;
}

/* multiply(Q, k) — [k mod n]Q for encryption, decryption and key exchange (GB/T 32918.4 clause 6.1 A4,
   clause 7.1 B3; 32918.3); CT in k. GM_INVALID_KEY if Q is not a curve point, GM_INVALID_ARGUMENT if the
   result is the point at infinity. */
static napi_value js_multiply(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  const uint8_t *q, *k;
  if (argc < 2 || !get_bytes(env, argv[0], POINT_BYTES, &q, NULL) ||
      !get_bytes(env, argv[1], SCALAR_BYTES, &k, NULL)) {
    return throw_code(env, E_ARG, "multiply(point, k): point 65 bytes, k 32 bytes");
  }
  sm2_pubkey pk;
  if (!sm2_pubkey_parse(&pk, q)) return throw_code(env, E_KEY, "not an uncompressed point on the SM2 curve");
  uint8_t *out;
  napi_value result = new_bytes(env, POINT_BYTES, &out);
  if (result == NULL) return NULL;
  if (!sm2_mul(out, &pk, k)) return throw_code(env, E_ARG, "k·Q is the point at infinity");
  return result;
}

/* a ‖ b ‖ x_G ‖ y_G of GB/T 32918.5, the curve part of Z_A. */
static const uint8_t CURVE_ABG[128] = {
    /* a */
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc,
    /* b */
    0x28, 0xe9, 0xfa, 0x9e, 0x9d, 0x9f, 0x5e, 0x34, 0x4d, 0x5a, 0x9e, 0x4b, 0xcf, 0x65, 0x09, 0xa7, 0xf3,
    0x97, 0x89, 0xf5, 0x15, 0xab, 0x8f, 0x92, 0xdd, 0xbc, 0xbd, 0x41, 0x4d, 0x94, 0x0e, 0x93,
    /* x_G */
    0x32, 0xc4, 0xae, 0x2c, 0x1f, 0x19, 0x81, 0x19, 0x5f, 0x99, 0x04, 0x46, 0x6a, 0x39, 0xc9, 0x94, 0x8f,
    0xe3, 0x0b, 0xbf, 0xf2, 0x66, 0x0b, 0xe1, 0x71, 0x5a, 0x45, 0x89, 0x33, 0x4c, 0x74, 0xc7,
    /* y_G */
    0xbc, 0x37, 0x36, 0xa2, 0xf4, 0xf6, 0x77, 0x9c, 0x59, 0xbd, 0xce, 0xe3, 0x6b, 0x69, 0x21, 0x53, 0xd0,
    0xa9, 0x87, 0x7c, 0xc6, 0x2a, 0x47, 0x40, 0x02, 0xdf, 0x32, 0xe5, 0x21, 0x39, 0xf0, 0xa0};

/* The GM/T 0009 default user ID "1234567812345678" and the SM3 state after ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G for
   it (146 bytes: two whole blocks absorbed), set once per process. */
static const uint8_t DEFAULT_ID[16] = {'1', '2', '3', '4', '5', '6', '7', '8', '1', '2', '3', '4', '5', '6', '7', '8'};
static sm3_ctx default_id_prefix;

static void init_default_id_prefix(void) {
  static const uint8_t entl[2] = {0x00, 0x80};
  sm3_init(&default_id_prefix);
  sm3_update(&default_id_prefix, entl, 2);
  sm3_update(&default_id_prefix, DEFAULT_ID, sizeof DEFAULT_ID);
  sm3_update(&default_id_prefix, CURVE_ABG, sizeof CURVE_ABG);
}

/* computeZ(P, id) — Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A), GB/T 32918.2 clause 5.5; the
   ID is at most 8191 bytes (ENTL is 16 bits of bit length). P is hashed as given (65 bytes, 0x04 ‖ x ‖ y). */
static napi_value js_compute_z(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  const uint8_t *pub, *id;
  size_t idlen;
  if (argc < 2 || !get_bytes(env, argv[0], POINT_BYTES, &pub, NULL) || !get_bytes(env, argv[1], 0, &id, &idlen))
    return throw_code(env, E_ARG, "computeZ(publicKey, id): publicKey 65 bytes, id a Uint8Array");
  if (idlen > 8191) return throw_code(env, E_ARG, "user ID longer than 8191 bytes");
  uint8_t *out;
  napi_value result = new_bytes(env, SM3_DIGEST_BYTES, &out);
  if (result == NULL) return NULL;
  uint8_t entl[2] = {(uint8_t)((idlen * 8) >> 8), (uint8_t)(idlen * 8)};
  sm3_ctx c;
  if (idlen == sizeof DEFAULT_ID && memcmp(id, DEFAULT_ID, sizeof DEFAULT_ID) == 0) {
    c = default_id_prefix; /* ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G already absorbed (two of the four blocks) */
  } else {
    sm3_init(&c);
    sm3_update(&c, entl, 2);
    sm3_update(&c, id, idlen);
    sm3_update(&c, CURVE_ABG, sizeof CURVE_ABG);
  }
  sm3_update(&c, pub + 1, POINT_BYTES - 1);
  sm3_final(&c, out);
  return result;
}

/* sm3Into(data, out) — SM3 of `data` (GB/T 32905) written into `out` (a Uint8Array of exactly 32 bytes), on
   the calling thread. Nothing is allocated: an ArrayBuffer created through N-API costs about as much as
   hashing a short input, so the Node entry hands in one reusable off-heap buffer and copies the digest out. */
static napi_value js_sm3_into(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  const uint8_t *data, *out;
  size_t len;
  if (argc < 2 || !get_bytes(env, argv[0], 0, &data, &len) || !get_bytes(env, argv[1], SM3_DIGEST_BYTES, &out, NULL))
    return throw_code(env, E_ARG, "sm3Into(data, out): data a Uint8Array, out a Uint8Array of 32 bytes");
  sm3(data, len, (uint8_t *)out);
  return NULL;
}

/* signedDataShape(der, maxDepth, out) — signed_data_shape (signed_data_shape.h) of the Uint8Array `der`, the
 * offsets written into `out` (an Int32Array of SDS_LENGTH): true when the message has the common shape. A
 * bad argument throws GM_INVALID_ARGUMENT. */
static napi_value js_signed_data_shape(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  const uint8_t *der;
  size_t len;
  uint32_t max_depth;
  bool is_ta = false;
  napi_typedarray_type type;
  size_t n = 0;
  void *out = NULL;
  if (argc < 3 || !get_bytes(env, argv[0], 0, &der, &len) ||
      napi_get_value_uint32(env, argv[1], &max_depth) != napi_ok ||
      napi_is_typedarray(env, argv[2], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[2], &type, &n, &out, NULL, NULL) != napi_ok || type != napi_int32_array ||
      n != SDS_LENGTH)
    return throw_code(env, E_ARG, "signedDataShape(der, maxDepth, out): a Uint8Array, a depth, an Int32Array(58)");
  napi_value result;
  if (napi_get_boolean(env, signed_data_shape(der, len, max_depth, out) == 1, &result) != napi_ok) return NULL;
  return result;
}

static napi_value js_cache_stats(napi_env env, napi_callback_info info) {
  GET_ARGS(0);
  napi_value o, v;
  if (napi_create_object(env, &o) != napi_ok) return NULL;
  uv_mutex_lock(&cx->lock);
  const struct {
    const char *name;
    double value;
  } f[] = {
      {"size", (double)cx->cache.size},
      {"capacity", (double)cx->cache.capacity},
      {"hits", cx->cache.hits},
      {"misses", cx->cache.misses},
  };
  uv_mutex_unlock(&cx->lock);
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (napi_create_double(env, f[i].value, &v) != napi_ok || napi_set_named_property(env, o, f[i].name, v) != napi_ok)
      return NULL;
  }
  return o;
}

static void function_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  context_release(data);
}

/* createContext(publicKeyCacheSize?, nonce?) */
static napi_value js_create_context(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  double size = DEFAULT_CACHE_SIZE;
  sm2_nonce_mode nonce = SM2_NONCE_RANDOM;
  napi_valuetype t;
  if (argc >= 1) {
    if (napi_typeof(env, argv[0], &t) != napi_ok) return NULL;
    if (t != napi_undefined) {
      if (t != napi_number || napi_get_value_double(env, argv[0], &size) != napi_ok || !(size >= 0) ||
          size > MAX_CACHE_SIZE || size != (double)(size_t)size) {
        return throw_code(env, E_ARG, "public key cache size must be an integer in [0, 65536]");
      }
    }
  }
  if (argc >= 2) {
    if (napi_typeof(env, argv[1], &t) != napi_ok) return NULL;
    if (t != napi_undefined) {
      char mode[16];
      size_t len = 0;
      if (t != napi_string || napi_get_value_string_utf8(env, argv[1], mode, sizeof mode, &len) != napi_ok)
        return throw_code(env, E_ARG, "nonce must be 'random' or 'rfc6979'");
      if (strcmp(mode, "random") == 0) nonce = SM2_NONCE_RANDOM;
      else if (strcmp(mode, "rfc6979") == 0) nonce = SM2_NONCE_RFC6979;
      else return throw_code(env, E_ARG, "nonce must be 'random' or 'rfc6979'");
    }
  }
  context_t *cx = calloc(1, sizeof *cx);
  if (cx == NULL) return throw_code(env, E_NATIVE, "out of memory");
  if (uv_mutex_init(&cx->lock) != 0) {
    free(cx);
    return throw_code(env, E_NATIVE, "cannot create a mutex");
  }
  cx->refs = 1; /* held by this function until the methods are attached */
  cx->nonce = nonce;
  if (!cache_init(&cx->cache, (size_t)size)) {
    context_release(cx);
    return throw_code(env, E_NATIVE, "out of memory");
  }
  static const struct {
    const char *name;
    napi_callback cb;
  } methods[] = {
      {"publicKeyFromPrivate", js_public_key_from_private},
      {"sign", js_sign},
      {"verify", js_verify},
      {"verifyBatch", js_verify_batch},
      {"verifyBatchAsync", js_verify_batch_async},
      {"signBatchAsync", js_sign_batch_async},
      {"multiply", js_multiply},
      {"computeZ", js_compute_z},
      {"cacheStats", js_cache_stats},
  };
  napi_value obj, fn;
  int built = napi_create_object(env, &obj) == napi_ok;
  for (size_t i = 0; built && i < sizeof methods / sizeof methods[0]; i++) {
    built = napi_create_function(env, methods[i].name, NAPI_AUTO_LENGTH, methods[i].cb, cx, &fn) == napi_ok;
    /* Each function holds one reference, released by its finalizer; a function whose finalizer could not be
       attached is never exposed. */
    if (built) built = napi_add_finalizer(env, fn, cx, function_finalize, NULL, NULL) == napi_ok;
    if (built) cx->refs++;
    if (built) built = napi_set_named_property(env, obj, methods[i].name, fn) == napi_ok;
  }
  context_release(cx);
  if (!built) return throw_code(env, E_NATIVE, "cannot create the context object");
  return obj;
}

NAPI_MODULE_INIT() {
  static uv_once_t prefix_once = UV_ONCE_INIT; /* workers load the addon in their own environments */
  uv_once(&prefix_once, init_default_id_prefix);
  if (!sm2_init()) {
    napi_throw_error(env, E_NATIVE, "cannot build the SM2 base-point tables (out of memory)");
    return NULL;
  }
  napi_value fn, ver;
  const char *version = sm2_get_impl() == SM2_IMPL_ADX
                            ? "yizheng-sm2 2 (4x64 Montgomery, BMI2/ADX assembly, comb 7x37, Straus wNAF)"
                            : "yizheng-sm2 2 (4x64 Montgomery, portable C, comb 7x37, Straus wNAF)";
  if (napi_create_function(env, "createContext", NAPI_AUTO_LENGTH, js_create_context, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "createContext", fn) != napi_ok ||
      napi_create_function(env, "sm3Into", NAPI_AUTO_LENGTH, js_sm3_into, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "sm3Into", fn) != napi_ok ||
      napi_create_function(env, "signedDataShape", NAPI_AUTO_LENGTH, js_signed_data_shape, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "signedDataShape", fn) != napi_ok ||
      napi_create_string_utf8(env, version, NAPI_AUTO_LENGTH, &ver) != napi_ok ||
      napi_set_named_property(env, exports, "version", ver) != napi_ok) {
    return NULL;
  }
  return exports;
}
