/**
 * `@yizheng/pki/testing`: a deterministic test PKI (SM2, RSA, P-256) for tests and demos. Never for
 * production keys: everything derives from a seed.
 */
export { drbg, type Drbg } from './drbg.js';
export { testKey, type TestKey, type TestKeyKind } from './keys.js';
export { seededRsaKey } from './rsa-seeded.js';
export {
  TestCa,
  TestPki,
  type CaOptions,
  type CrlOptions,
  type IssueOptions,
  type Revocation,
  type RevokeOptions,
  type TestCertificate,
  type TestPkiOptions,
} from './test-pki.js';
export { ocspResponse, type TestOcspResponseOptions } from './ocsp-response.js';
