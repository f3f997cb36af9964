/*
 * Locates the fields of the common CMS SignedData message (RFC 5652 §5; GM/T 0010 §7 is the same structure):
 *
 *   ContentInfo ::= SEQUENCE { contentType signedData (RFC 5652 or GM/T 0010 OID), content [0] EXPLICIT
 *     SignedData ::= SEQUENCE { version INTEGER (one octet), digestAlgorithms SET OF AlgorithmIdentifier,
 *       encapContentInfo SEQUENCE { eContentType OID, eContent [0] EXPLICIT OCTET STRING (primitive) },
 *       certificates [0] IMPLICIT SET OF Certificate (SEQUENCEs) OPTIONAL, -- no crls [1]
 *       signerInfos SET OF { one SignerInfo ::= SEQUENCE { version INTEGER (one octet),
 *         sid IssuerAndSerialNumber SEQUENCE { Name SEQUENCE, INTEGER } | subjectKeyIdentifier [0] IMPLICIT,
 *         digestAlgorithm, signedAttrs [0] IMPLICIT SET OF Attribute, signatureAlgorithm,
 *         signature OCTET STRING } } } }     -- no unsignedAttrs
 *
 * with every Attribute SEQUENCE { attrType OID, attrValues SET OF (at least one) }, contentType, messageDigest
 * and signingTime (PKCS #9) at most once each with exactly one primitive value, and AlgorithmIdentifier
 * SEQUENCE { OID, at most one value }. It checks structure only — each header read bounded by its parent,
 * every constructed value it descends into read child by child to its end, the values it does not descend
 * into walked to their ends within max_depth — and decodes no OID, time or name: the caller does, from the
 * offsets. It is the same walk as `fastShape` in packages/pki/src/cms-verifier.ts, but stricter: only
 * single-octet tags and minimal definite lengths of at most four octets, so whatever it accepts that walk
 * accepts with the same offsets (tested against it); anything else returns 0 and the caller uses its own.
 * Input size is bounded by the caller; offsets fit in int32 (n <= INT32_MAX is checked).
 */
#include "signed_data_shape.h"

#include <string.h>

typedef struct {
  uint8_t tag;
  int constructed;
  size_t start, value, end;
} header;

/* The TLV header at p, bounded by limit: 1, or 0 for a high tag number, an indefinite or non-minimal or
 * over-long length, or a value running past limit. */
static int read_header(const uint8_t *d, size_t p, size_t limit, header *h) {
  if (p >= limit || limit - p < 2) return 0;
  uint8_t tag = d[p];
  if ((tag & 0x1f) == 0x1f) return 0;
  uint8_t lb = d[p + 1];
  size_t len, value;
  if (lb < 0x80) {
    len = lb;
    value = p + 2;
  } else {
    size_t k = lb & 0x7f;
    if (k == 0 || k > 4 || limit - p - 2 < k || d[p + 2] == 0) return 0;
    len = 0;
    for (size_t i = 0; i < k; i++) len = (len << 8) | d[p + 2 + i];
    if (len < 0x80) return 0;
    value = p + 2 + k;
  }
  if (len > limit - value) return 0;
  h->tag = tag;
  h->constructed = (tag & 0x20) != 0;
  h->start = p;
  h->value = value;
  h->end = value + len;
  return 1;
}

/* The deepest level walk() recurses to whatever max_depth the caller allows (the C stack stays small); a
 * deeper value returns 0 and is left to the caller's own walk. */
#define WALK_DEPTH_CAP 256

/* The TLV at p and everything inside it, at nesting `depth`: its end, or 0 (no TLV ends at offset 0). */
static size_t walk(const uint8_t *d, size_t p, size_t limit, uint32_t depth, uint32_t max_depth) {
  header h;
  if (depth > max_depth || depth > WALK_DEPTH_CAP || !read_header(d, p, limit, &h)) return 0;
  if (!h.constructed) return h.end;
  for (size_t q = h.value; q < h.end;) {
    q = walk(d, q, h.end, depth + 1, max_depth);
    if (q == 0) return 0;
  }
  return h.end;
}

static int is_oid(const uint8_t *d, const header *h, const uint8_t *oid, size_t n) {
  return h->tag == 0x06 && h->end - h->value == n && memcmp(d + h->value, oid, n) == 0;
}

static const uint8_t OID_SIGNED_DATA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
static const uint8_t OID_GM_SIGNED_DATA[] = {0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x06, 0x01, 0x04, 0x02, 0x02};
static const uint8_t OID_PKCS9[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09};
enum { CONTENT_TYPE = 3, MESSAGE_DIGEST = 4, SIGNING_TIME = 5 };

/* contentType, messageDigest or signingTime (the last arc under 1.2.840.113549.1.9), else 0. */
static int pkcs9_attribute(const uint8_t *d, const header *h) {
  if (h->tag != 0x06 || h->end - h->value != sizeof OID_PKCS9 + 1) return 0;
  if (memcmp(d + h->value, OID_PKCS9, sizeof OID_PKCS9) != 0) return 0;
  uint8_t arc = d[h->value + sizeof OID_PKCS9];
  return arc == CONTENT_TYPE || arc == MESSAGE_DIGEST || arc == SIGNING_TIME ? arc : 0;
}

static void put(int32_t *out, int at, size_t from, size_t to) {
  out[at] = (int32_t)from;
  out[at + 1] = (int32_t)to;
}

/* An AlgorithmIdentifier at p (nesting `depth`): its OID contents into out[at..], its end, or 0. */
static size_t algorithm(const uint8_t *d, size_t p, size_t limit, uint32_t depth, uint32_t max_depth,
                        int32_t *out, int at) {
  header h;
  if (!read_header(d, p, limit, &h) || h.tag != 0x30) return 0;
  size_t end = h.end;
  if (!read_header(d, h.value, end, &h) || h.tag != 0x06) return 0;
  put(out, at, h.value, h.end);
  if (h.end < end && walk(d, h.end, end, depth + 1, max_depth) != end) return 0;
  return end;
}

#define NEXT(p, limit) \
  if (!read_header(der, (p), (limit), &h)) return 0
#define EXPECT(p, limit, t) \
  if (!read_header(der, (p), (limit), &h) || h.tag != (t)) return 0

int signed_data_shape(const uint8_t *der, size_t n, uint32_t max_depth, int32_t out[SDS_LENGTH]) {
  header h;
  if (n > INT32_MAX) return 0;
  for (int i = 0; i < SDS_LENGTH; i++) out[i] = -1;
  /* ContentInfo (1): the whole input. */
  EXPECT(0, n, 0x30);
  if (h.end != n) return 0;
  NEXT(h.value, n);
  if (!is_oid(der, &h, OID_SIGNED_DATA, sizeof OID_SIGNED_DATA) &&
      !is_oid(der, &h, OID_GM_SIGNED_DATA, sizeof OID_GM_SIGNED_DATA))
    return 0;
  EXPECT(h.end, n, 0xa0);
  if (h.end != n) return 0;
  EXPECT(h.value, n, 0x30); /* SignedData (3) */
  if (h.end != n) return 0;
  const size_t sd_end = h.end;
  EXPECT(h.value, sd_end, 0x02); /* version (4) */
  if (h.end - h.value != 1) return 0;
  EXPECT(h.end, sd_end, 0x31); /* digestAlgorithms (4) */
  const size_t algs_end = h.end;
  int count = 0;
  for (size_t p = h.value; p < algs_end; count++) {
    if (count == SDS_MAX_DIGEST_ALGORITHMS) return 0;
    p = algorithm(der, p, algs_end, 5, max_depth, out, SDS_DIGEST_ALGORITHMS + 1 + 2 * count);
    if (p == 0) return 0;
  }
  out[SDS_DIGEST_ALGORITHMS] = count;
  EXPECT(algs_end, sd_end, 0x30); /* encapContentInfo (4) */
  const size_t enc_end = h.end;
  EXPECT(h.value, enc_end, 0x06);
  put(out, SDS_E_CONTENT_TYPE, h.value, h.end);
  EXPECT(h.end, enc_end, 0xa0);
  if (h.end != enc_end) return 0;
  EXPECT(h.value, enc_end, 0x04);
  if (h.end != enc_end) return 0;
  put(out, SDS_CONTENT, h.value, h.end);
  /* certificates [0] (4): certificates (5), walked by the caller's certificate parser. */
  NEXT(enc_end, sd_end);
  count = 0;
  if (h.tag == 0xa0) {
    const size_t certs_end = h.end;
    for (size_t p = h.value; p < certs_end; count++) {
      if (count == SDS_MAX_CERTIFICATES) return 0;
      EXPECT(p, certs_end, 0x30);
      put(out, SDS_CERTIFICATES + 1 + 2 * count, p, h.end);
      p = h.end;
    }
    NEXT(certs_end, sd_end);
  }
  out[SDS_CERTIFICATES] = count;
  /* signerInfos (4), the last field, with one SignerInfo (5). */
  if (h.tag != 0x31 || h.end != sd_end) return 0;
  EXPECT(h.value, sd_end, 0x30);
  if (h.end != sd_end) return 0;
  const size_t si_end = h.end;
  EXPECT(h.value, si_end, 0x02);
  if (h.end - h.value != 1) return 0;
  /* sid (6) */
  NEXT(h.end, si_end);
  const size_t sid_end = h.end;
  out[SDS_SID_TAG] = h.tag;
  if (h.tag == 0x30) {
    EXPECT(h.value, sid_end, 0x30);
    put(out, SDS_ISSUER, h.start, h.end);
    EXPECT(h.end, sid_end, 0x02);
    if (h.end != sid_end) return 0;
    put(out, SDS_SERIAL, h.value, h.end);
  } else if (h.tag == 0x80) {
    put(out, SDS_SERIAL, h.value, h.end);
  } else {
    return 0;
  }
  size_t p = algorithm(der, sid_end, si_end, 6, max_depth, out, SDS_DIGEST_ALGORITHM);
  if (p == 0) return 0;
  /* signedAttrs [0] (6): Attribute (7) { attrType (8), attrValues (8) { values (9) } } */
  EXPECT(p, si_end, 0xa0);
  const size_t attrs_end = h.end;
  put(out, SDS_SIGNED_ATTRS, h.start, h.end);
  count = 0;
  for (size_t q = h.value; q < attrs_end;) {
    EXPECT(q, attrs_end, 0x30);
    const size_t attr_end = h.end;
    EXPECT(h.value, attr_end, 0x06);
    const int kind = pkcs9_attribute(der, &h);
    const size_t type_from = h.value, values_at = h.end;
    EXPECT(values_at, attr_end, 0x31);
    if (h.end != attr_end || h.value == attr_end) return 0;
    if (kind == 0) {
      if (count == SDS_MAX_OTHER_ATTRIBUTES) return 0;
      put(out, SDS_OTHER_ATTRIBUTES + 1 + 2 * count++, type_from, values_at);
      if (walk(der, values_at, attr_end, 8, max_depth) != attr_end) return 0;
    } else {
      NEXT(h.value, attr_end);
      if (h.constructed || h.end != attr_end) return 0;
      const int at = kind == MESSAGE_DIGEST ? SDS_MESSAGE_DIGEST
                     : kind == CONTENT_TYPE ? SDS_CONTENT_TYPE
                                            : SDS_SIGNING_TIME;
      if (out[at] >= 0) return 0; /* twice */
      put(out, at, h.start, h.end);
    }
    q = attr_end;
  }
  out[SDS_OTHER_ATTRIBUTES] = count;
  p = algorithm(der, attrs_end, si_end, 6, max_depth, out, SDS_SIGNATURE_ALGORITHM);
  if (p == 0) return 0;
  EXPECT(p, si_end, 0x04);
  if (h.end != si_end) return 0;
  put(out, SDS_SIGNATURE, h.value, h.end);
  return 1;
}
