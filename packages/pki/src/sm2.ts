/**
 * The {@link Sm2Provider} backed by `@yizheng/gm` (GB/T 32918.2 signatures with the GM/T 0009 default user ID
 * unless one is given). Never node's crypto for SM2 signatures: it hashes with an empty user ID. SM3 itself
 * (GB/T 32905) is `@yizheng/gm`'s one-shot `sm3` (OpenSSL through node:crypto).
 */
import { sm2, sm3 } from '@yizheng/gm';
import type { Sm2Provider } from './algorithms.js';

export const gmSm2Provider: Sm2Provider = {
  verify(spki, message, signature, id) {
    const key = sm2.importPublicKey(spki);
    return sm2.verify(key, message, signature, id === undefined ? undefined : { id });
  },
  sm3,
};
