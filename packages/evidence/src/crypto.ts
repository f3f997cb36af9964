/**
 * The crypto-provider seam of the verifier. Everything the verifier itself computes (SM3 of files, the
 * platform's SM2 signatures over the manifest, checkpoint and report seal, the log's SHA-256) goes through an
 * {@link EvidenceCrypto}; certificates, CMS and RFC 3161 tokens go through `@yizheng/pki` with `pki` as its
 * algorithm policy (SM2 injected; RSA/ECDSA by the platform's node:crypto — in the browser build the
 * `node:crypto` module is `browser/node-crypto.ts`, backed by WebCrypto).
 *
 * Providers: `node-provider.ts` (native SM2, node:crypto) for the CLI and server; `browser/provider.ts` (the
 * TypeScript SM2/SM3 engine of `@yizheng/gm/browser`) for the public verification page.
 */
import type { sm2 as Sm2Api } from '@yizheng/gm/browser';
import type { AlgorithmPolicy } from '@yizheng/pki';

export interface EvidenceCrypto {
  readonly name: 'node' | 'browser';
  /** SM2 (GB/T 32918.2, default user ID) for the platform's own signatures. */
  readonly sm2: Pick<typeof Sm2Api, 'verify' | 'importPublicKey'>;
  readonly sm3: (data: Uint8Array) => Uint8Array;
  readonly sha256: (data: Uint8Array) => Uint8Array;
  /** The algorithm policy passed to every `@yizheng/pki` verification (its `sm2` provider). */
  readonly pki: AlgorithmPolicy;
}
