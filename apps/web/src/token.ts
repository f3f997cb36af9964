/**
 * Signing tokens for certificate login. `LoginToken` is the seam a UKey vendor's middleware implements (its
 * browser plug-in or local service signs with the key inside the device); `SoftwareToken` holds a PKCS#8 PEM
 * key loaded by the user, in memory only (never stored), and signs with the TypeScript SM2 engine.
 */
import { sm2 } from '@yizheng/gm/browser';

export interface LoginToken {
  readonly kind: string;
  /** The certificate held with the key (PEM), when the token has one. */
  certificatePem(): string | undefined;
  /** Signs the UTF-8 text; returns the base64 signature (SM2 DER with the default ID 1234567812345678). */
  sign(text: string): Promise<string>;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export class SoftwareToken implements LoginToken {
  readonly kind = 'software';
  readonly #key: ReturnType<typeof sm2.importPrivateKey>;
  readonly #cert: string | undefined;

  /** Throws when the PEM is not an SM2 private key. */
  constructor(keyPem: string, certPem?: string) {
    this.#key = sm2.importPrivateKey(keyPem);
    this.#cert = certPem !== undefined && certPem.includes('BEGIN CERTIFICATE') ? certPem : undefined;
  }

  certificatePem(): string | undefined {
    return this.#cert;
  }

  sign(text: string): Promise<string> {
    return Promise.resolve(toBase64(sm2.sign(this.#key, new TextEncoder().encode(text))));
  }
}
