/** The hash dependency of the SM2 protocol code: SM3, accelerated on Node, pure TypeScript in browsers. */
export interface Hasher {
  update(data: Uint8Array): Hasher;
  digest(): Uint8Array;
}

export type HashFactory = () => Hasher;
