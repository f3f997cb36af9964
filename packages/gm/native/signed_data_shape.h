/*
 * The field offsets of the common CMS SignedData message (RFC 5652; GM/T 0010 uses the same structure with its
 * own OIDs), located in one bounded pass. See signed_data_shape.c; the layout of `out` is SDS_* below and
 * `SIGNED_DATA_SHAPE` in src/signed-data-shape.ts.
 */
#ifndef YIZHENG_SIGNED_DATA_SHAPE_H
#define YIZHENG_SIGNED_DATA_SHAPE_H

#include <stddef.h>
#include <stdint.h>

/* Pairs are [from, to) offsets into the input. */
enum {
  SDS_E_CONTENT_TYPE = 0, /* eContentType OID contents */
  SDS_CONTENT = 2,        /* eContent OCTET STRING contents */
  SDS_SID_TAG = 4,        /* 0x30 IssuerAndSerialNumber, 0x80 subjectKeyIdentifier */
  SDS_ISSUER = 5,         /* the issuer Name TLV (IssuerAndSerialNumber) */
  SDS_SERIAL = 7,         /* serialNumber INTEGER contents, or the subjectKeyIdentifier contents */
  SDS_DIGEST_ALGORITHM = 9,     /* the signer's digestAlgorithm OID contents */
  SDS_SIGNED_ATTRS = 11,        /* the signedAttrs [0] TLV */
  SDS_MESSAGE_DIGEST = 13,      /* messageDigest's one value TLV (-1, -1: absent) */
  SDS_CONTENT_TYPE = 15,        /* contentType's one value TLV (-1, -1: absent) */
  SDS_SIGNING_TIME = 17,        /* signingTime's one value TLV (-1, -1: absent) */
  SDS_SIGNATURE_ALGORITHM = 19, /* signatureAlgorithm OID contents */
  SDS_SIGNATURE = 21,           /* signature OCTET STRING contents */
  SDS_DIGEST_ALGORITHMS = 23,   /* count, then that many OID-contents pairs of SignedData.digestAlgorithms */
  SDS_OTHER_ATTRIBUTES = 32,    /* count, then the attrType OID contents of the other signed attributes */
  SDS_CERTIFICATES = 41,        /* count, then the certificate TLVs of SignedData.certificates */
  SDS_LENGTH = 58
};

enum { SDS_MAX_DIGEST_ALGORITHMS = 4, SDS_MAX_OTHER_ATTRIBUTES = 4, SDS_MAX_CERTIFICATES = 8 };

/*
 * 1 when `der` (n bytes) is a ContentInfo holding SignedData of the common shape — see the .c file — with
 * every offset written to out[0 .. SDS_LENGTH); 0 otherwise (out then holds nothing meaningful). Values it does
 * not descend into (algorithm parameters, other attributes' values) are walked to their ends with no level
 * deeper than max_depth (the top level is 1). Reads nothing outside der[0 .. n).
 */
int signed_data_shape(const uint8_t *der, size_t n, uint32_t max_depth, int32_t out[SDS_LENGTH]);

#endif
