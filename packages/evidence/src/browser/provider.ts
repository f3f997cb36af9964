/** The browser provider: SM2 and SM3 from `@yizheng/gm/browser` (pure TypeScript), SHA-256 in TypeScript. */
import { sm2, sm3 } from '@yizheng/gm/browser';
import type { Sm2Provider } from '@yizheng/pki';
import type { EvidenceCrypto } from '../crypto.js';
import { sha256 } from './sha256.js';

const sm2Provider: Sm2Provider = {
  verify(spki, message, signature, id) {
    const key = sm2.importPublicKey(spki);
    return sm2.verify(key, message, signature, id === undefined ? undefined : { id });
  },
  sm3,
};

export const browserCrypto: EvidenceCrypto = { name: 'browser', sm2, sm3, sha256, pki: { sm2: sm2Provider } };
