// Types for the parts of the `sm-crypto` dev dependency that the interoperability tests use.
declare module 'sm-crypto' {
  interface SignatureOptions {
    hash?: boolean;
    der?: boolean;
    userId?: string;
    publicKey?: string;
  }
  export const sm2: {
    generateKeyPairHex(): { privateKey: string; publicKey: string };
    doSignature(msg: string, privateKey: string, options?: SignatureOptions): string;
    doVerifySignature(msg: string, signHex: string, publicKey: string, options?: SignatureOptions): boolean;
    doEncrypt(msg: string, publicKey: string, cipherMode?: 0 | 1): string;
    doDecrypt(encryptData: string, privateKey: string, cipherMode?: 0 | 1): string;
  };
  export const sm3: (msg: string) => string;
}
