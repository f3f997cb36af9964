/** The environment-independent part of the public face, shared by the Node and browser entry points. */
export { GmError, isGmError, type GmErrorCode } from './errors.js';
export { constantTimeEqual, fromHex, randomBytes, toHex } from './bytes.js';
export { decodePem, encodePem } from './pem.js';
export { DEFAULT_USER_ID, OID as SM2_OID } from './sm2/curve.js';
export type { Sm2Engine } from './sm2/engine.js';
export type { HashFactory, Hasher } from './sm2/hash.js';
export { Sm2PrivateKey, Sm2PublicKey, type KeyInput } from './sm2/keys.js';
export {
  createSm2,
  type EncryptOptions,
  type SignOptions,
  type Sm2,
  type Sm2Deps,
  type Sm2KeyPair,
  type VerifyOptions,
} from './sm2/sm2.js';
export {
  derToRaw as sm2SignatureDerToRaw,
  rawToDer as sm2SignatureRawToDer,
  type SignatureFormat,
} from './sm2/signature.js';
export type { CiphertextFormat } from './sm2/ciphertext.js';
export { createJsEngine } from './sm2/js-engine.js';
export { createSm2BatchVerify, type Sm2BatchVerify, type VerifyBatchItem } from './sm2/batch-verify.js';
export {
  SIGNED_DATA_SHAPE,
  SIGNED_DATA_SHAPE_LENGTH,
  SIGNED_DATA_SHAPE_MAX,
  type SignedDataShape,
} from './signed-data-shape.js';
