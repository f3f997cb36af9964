/**
 * `@yizheng/pki`: X.509, CRL, OCSP, CMS SignedData (RSA, ECDSA, SM2 per GM/T 0010) and RFC 3161 TSP, with
 * hardened DER intake and typed errors.
 */
export * from './errors.js';
export {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_SIZE,
  childrenOf,
  fromPem,
  parseDer,
  readHeader,
  scanDer,
  tlvBytes,
  toPem,
  type DerLimits,
  type Tlv,
} from './der.js';
