/** The Node provider: native SM2 and node:crypto SM3/SHA-256 (the CLI, the server and the tests). */
import { createHash } from 'node:crypto';
import { sm2, sm3 } from '@yizheng/gm';
import { gmSm2Provider } from '@yizheng/pki';
import type { EvidenceCrypto } from './crypto.js';

export const nodeCrypto: EvidenceCrypto = {
  name: 'node',
  sm2,
  sm3,
  sha256: (data) => new Uint8Array(createHash('sha256').update(data).digest()),
  pki: { sm2: gmSm2Provider },
};
