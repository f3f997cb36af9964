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
export {
  DIGEST_OID,
  OID,
  digest,
  digestName,
  fitsKey,
  isKnownSignatureAlgorithm,
  keyKind,
  verifySignature,
  type AlgorithmPolicy,
  type DigestName,
  type KeyKind,
  type SignatureInput,
  type Sm2Provider,
} from './algorithms.js';
export { gmSm2Provider } from './sm2.js';
export {
  checkValidity,
  isIssuerName,
  isSelfIssued,
  isSignedBy,
  nameToString,
  parseCertificate,
  type ParsedCertificate,
} from './certificate.js';
export { namesMatch, prepareString } from './name-compare.js';
export {
  EKU,
  KEY_USAGE,
  buildChain,
  PROCESSED_EXTENSIONS,
  crlRevocationSource,
  verifyChain,
  type ChainOptions,
  type ChainResult,
  type RevocationCheck,
  type RevocationOptions,
  type RevocationSource,
  type RevocationStatus,
} from './chain.js';
export { cachedChainValidator, type ChainValidator } from './chain-cache.js';
export { verifyRawSignature, type RawSignatureInput, type RawSignatureResult } from './raw-signature.js';
export {
  checkRevocation,
  parseCrl,
  revocationOf,
  verifyCrl,
  type CrlEntry,
  type CrlReason,
  type ParsedCrl,
} from './crl.js';
export {
  signerFromKeyObject,
  signerFromPrivateKey,
  signerFromSm2Key,
  type Signer,
  type SignerHash,
  type SignerOptions,
} from './signer.js';
export {
  addUnsignedAttribute,
  buildSignedData,
  signingCertificateV2Value,
  type Attr,
  type BuildSignedDataOptions,
  type SignerSpec,
} from './signed-data-builder.js';
export { buildCertificate, type BuildCertificateOptions } from './certificate-builder.js';
export { buildCrl, type BuildCrlOptions, type CrlEntryInput } from './crl-builder.js';
export {
  ACCESS_METHOD,
  EXT_OID,
  KEY_PURPOSE,
  KEY_USAGE_NAMES,
  keyIdentifierOf,
  keyUsageNames,
  type DecodedExtensions,
  type ExtensionsInput,
  type GeneralNameInput,
  type GeneralNameValue,
  type KeyUsageName,
  type PolicyInput,
  type RawExtension,
} from './extensions.js';
export { NAME_OID, encodeName, type NameAttribute, type NameInput } from './name.js';
export {
  CMS_OID,
  findSignerCertificate,
  parseSignedData,
  verifySignedData,
  type OtherRevocationInfo,
  type ParsedSignedData,
  type ParsedSignerInfo,
  type SignatureRevocationOptions,
  type SignedDataResult,
  type SignerResult,
  type VerifySignedDataOptions,
} from './signed-data.js';
export {
  TSP_OID,
  buildTstInfo,
  parseTstInfo,
  type ParsedTstInfo,
  type TstAccuracy,
  type TstInfoFields,
} from './tst-info.js';
export {
  buildTimeStampReq,
  parseTimeStampReq,
  type BuildTimeStampReqOptions,
  type BuiltTimeStampReq,
  type ParsedTimeStampReq,
  type TspHash,
} from './time-stamp-req.js';
export {
  PKI_FAILURE_BIT,
  PKI_STATUS,
  buildTimeStampResp,
  parseTimeStampResp,
  parseTimeStampToken,
  type ParsedTimeStampResp,
  type ParsedTimeStampToken,
  type PkiFailureName,
  type PkiStatusName,
  type TimeStampRespFields,
} from './time-stamp-resp.js';
export {
  checkSigningCertificate,
  checkTsaExtKeyUsage,
  verifyTimeStampToken,
  type TimeStampVerification,
  type VerifyTimeStampOptions,
} from './tsp-verify.js';
export { replyTimeStamp, type ReplyTimeStampOptions, type TsaIdentity } from './tsp-reply.js';
export {
  OCSP_OID,
  buildOcspRequest,
  certIdMatches,
  certIdOf,
  parseOcspRequest,
  responderKeyHash,
  type BuildOcspRequestOptions,
  type BuiltOcspRequest,
  type CertIdFields,
  type CertIdHash,
  type ParsedOcspRequest,
} from './ocsp-request.js';
export {
  CRL_REASON,
  OCSP_RESPONSE_STATUS,
  parseOcspResponse,
  type CrlReasonName,
  type OcspCertStatus,
  type OcspResponseStatusName,
  type ParsedBasicOcspResponse,
  type ParsedOcspResponse,
  type ParsedSingleResponse,
} from './ocsp-response.js';
export {
  verifyOcspResponse,
  type OcspResponderStatus,
  type OcspVerification,
  type VerifyOcspOptions,
} from './ocsp-verify.js';
export {
  buildOcspErrorResponse,
  buildOcspResponse,
  type BuildOcspResponseOptions,
  type OcspSingleResponseSpec,
} from './ocsp-builder.js';
export { ocspRevocationSource, type OcspSourceOptions } from './ocsp-source.js';
export {
  cachedSm2Provider,
  createCmsVerifier,
  type CmsVerifier,
  type CmsVerifierOptions,
} from './cms-verifier.js';
export { checkNameConstraints, nameConstraintsOf } from './name-constraints.js';
export { ANY_POLICY, processPolicies, type PolicyResult, type PolicySettings } from './policies.js';
export * from './pkcs12.js';
