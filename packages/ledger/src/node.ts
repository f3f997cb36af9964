/**
 * `@yizheng/ledger/node`: log hashers backed by `node:crypto` (OpenSSL's SM3 and SHA-256). Browsers build theirs
 * with `createLogHasher` and a pure-TypeScript SM3 (`@yizheng/gm/browser`).
 */
import { createHash } from 'node:crypto';
import { createLogHasher, type LogHasher, type LogHashName } from './hash.js';

function nodeHash(algorithm: LogHashName): (data: Uint8Array) => Uint8Array {
  return (data) => Uint8Array.from(createHash(algorithm).update(data).digest());
}

/** RFC 9162 hashing with SM3 (GB/T 32905), the platform default. */
export const sm3LogHasher: LogHasher = createLogHasher('sm3', nodeHash('sm3'));

/** RFC 9162 hashing with SHA-256, as in Certificate Transparency. */
export const sha256LogHasher: LogHasher = createLogHasher('sha256', nodeHash('sha256'));

/** The Node hasher for a deployment's configured log hash. */
export function nodeLogHasher(name: LogHashName): LogHasher {
  switch (name) {
    case 'sm3':
      return sm3LogHasher;
    case 'sha256':
      return sha256LogHasher;
  }
}
