/**
 * SM3, HMAC-SM3 and SM4 through Node's OpenSSL: what the Node entry exports. The same names and types as
 * `../symmetric.ts` (pure TypeScript, the browser entry), with identical results.
 */
export type { HashFactory } from '../sm2/hash.js';
export type { Sm3Hasher } from '../sm3-js.js';
export type { Sm4GcmResult, Sm4Mode, Sm4Opener, Sm4Options, Sm4Sealer } from '../sm4.js';
export { createSm3, sm3 } from './sm3.js';
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
} from './sm4.js';
