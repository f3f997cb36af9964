/**
 * SM3, HMAC-SM3 and SM4 in pure TypeScript: what the browser entry exports. `node/symmetric.ts` exports the same
 * names and types backed by OpenSSL for the Node entry.
 */
export type { HashFactory } from './sm2/hash.js';
export { createSm3, sm3, type Sm3Hasher } from './sm3-js.js';
export { createHmacSm3, hmacSm3 } from './hmac-sm3.js';
export {
  createSm4Opener,
  createSm4Sealer,
  sm4Decrypt,
  sm4Encrypt,
  sm4GcmDecrypt,
  sm4GcmEncrypt,
  sm4Open,
  sm4Seal,
  type Sm4GcmResult,
  type Sm4Mode,
  type Sm4Opener,
  type Sm4Options,
  type Sm4Sealer,
} from './sm4.js';
