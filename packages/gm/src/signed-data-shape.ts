/**
 * The layout of a located CMS SignedData message (RFC 5652 §5; GM/T 0010 §7 has the same structure), as the
 * native locator (`native/signed_data_shape.c`, {@link SignedDataShape}) writes it into an `Int32Array` of
 * {@link SIGNED_DATA_SHAPE_LENGTH}. Each field names the index of a `[from, to)` pair of offsets into the
 * message, or of a count followed by that many pairs; -1 marks what the message does not hold. The locator
 * checks structure only and decodes nothing: `@yizheng/pki`'s CMS verifier reads the fields and applies every
 * rule (it also has the same walk in TypeScript, for where the addon is not built).
 */
export const SIGNED_DATA_SHAPE = {
  /** eContentType OBJECT IDENTIFIER contents. */
  eContentType: 0,
  /** eContent OCTET STRING contents (primitive, attached). */
  content: 2,
  /** The sid's tag: 0x30 IssuerAndSerialNumber, 0x80 subjectKeyIdentifier. */
  sidTag: 4,
  /** The issuer Name TLV of an IssuerAndSerialNumber sid. */
  issuer: 5,
  /** The serialNumber INTEGER contents, or the subjectKeyIdentifier contents. */
  serial: 7,
  /** The signer's digestAlgorithm OBJECT IDENTIFIER contents. */
  digestAlgorithm: 9,
  /** The signedAttrs `[0]` TLV. */
  signedAttrs: 11,
  /** The one value TLV of messageDigest, contentType and signingTime. */
  messageDigest: 13,
  contentType: 15,
  signingTime: 17,
  /** The signatureAlgorithm OBJECT IDENTIFIER contents. */
  signatureAlgorithm: 19,
  /** The signature OCTET STRING contents. */
  signature: 21,
  /** Count, then the OBJECT IDENTIFIER contents of each of SignedData.digestAlgorithms. */
  digestAlgorithms: 23,
  /** Count, then the attrType OBJECT IDENTIFIER contents of each other signed attribute. */
  otherAttributes: 32,
  /** Count, then each certificate TLV of SignedData.certificates. */
  certificates: 41,
} as const;

export const SIGNED_DATA_SHAPE_LENGTH = 58;
/** The most digestAlgorithms, other signed attributes and certificates a located message may hold. */
export const SIGNED_DATA_SHAPE_MAX = { digestAlgorithms: 4, otherAttributes: 4, certificates: 8 } as const;

/**
 * Locates the fields of `der` into `out` (`Int32Array(SIGNED_DATA_SHAPE_LENGTH)`): true when it is a
 * ContentInfo holding SignedData of the common shape — one signer with signed attributes and no unsigned ones,
 * attached content in a primitive OCTET STRING, certificates and no CRLs, only single-octet tags and minimal
 * definite lengths — whose unread values (algorithm parameters, other attributes' values) nest no deeper than
 * `maxDepth` (the top level is 1). False for anything else, and then `out` means nothing.
 */
export type SignedDataShape = (der: Uint8Array, maxDepth: number, out: Int32Array) => boolean;
