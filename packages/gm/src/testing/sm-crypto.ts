/** Test support: the `sm-crypto` library (CommonJS) as an independent SM2 implementation. */
import { createRequire } from 'node:module';
import type * as SmCrypto from 'sm-crypto';

const require = createRequire(import.meta.url);
const lib = require('sm-crypto') as typeof SmCrypto;
export const smCryptoSm2 = lib.sm2;
