/**
 * Signing tokens for certificate login. `LoginToken` is the seam a UKey vendor's middleware implements (its
 * browser plug-in or local service signs with the key inside the device). The software tokens hold a key the
 * user loads — PKCS#8 (PEM or DER, plain or encrypted) or PKCS#12 (.p12/.pfx) — in memory only (never stored):
 * SM2 keys sign with the TypeScript SM2 engine, RSA keys with WebCrypto (RSASSA-PKCS1-v1_5, SHA-256; imported
 * non-extractable).
 */
import { sm2 } from '@yizheng/gm/browser';
import {
  decryptPrivateKeyInfo,
  isPkcs12Error,
  parsePkcs12,
  privateKeyAlgorithm,
  type Pkcs12ErrorCode,
} from '../../../packages/pki/src/pkcs12.js';

export interface LoginToken {
  readonly kind: string;
  /** The certificate held with the key (PEM), when the token has one. */
  certificatePem(): string | undefined;
  /**
   * Signs the UTF-8 text; returns the base64 signature (SM2 DER with the default ID 1234567812345678, or RSA
   * PKCS#1 v1.5 with SHA-256).
   */
  sign(text: string): Promise<string>;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function toPem(der: Uint8Array, label: string): string {
  const body = toBase64(der).replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

const certOf = (pem: string | undefined): string | undefined =>
  pem !== undefined && pem.includes('BEGIN CERTIFICATE') ? pem : undefined;

/** An SM2 key (PKCS#8 PEM or DER) signed with the TypeScript SM2 engine. */
export class SoftwareToken implements LoginToken {
  readonly kind = 'software';
  readonly #key: ReturnType<typeof sm2.importPrivateKey>;
  readonly #cert: string | undefined;

  /** Throws when the key is not an SM2 private key. */
  constructor(key: string | Uint8Array, certPem?: string) {
    this.#key = sm2.importPrivateKey(key);
    this.#cert = certOf(certPem);
  }

  certificatePem(): string | undefined {
    return this.#cert;
  }

  sign(text: string): Promise<string> {
    return Promise.resolve(toBase64(sm2.sign(this.#key, new TextEncoder().encode(text))));
  }
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** An RSA key held by WebCrypto (non-extractable); signs RSASSA-PKCS1-v1_5 with SHA-256. */
export class WebCryptoRsaToken implements LoginToken {
  readonly kind = 'software-rsa';
  readonly #key: CryptoKey;
  readonly #cert: string | undefined;

  private constructor(key: CryptoKey, certPem: string | undefined) {
    this.#key = key;
    this.#cert = certOf(certPem);
  }

  static async fromPkcs8(pkcs8: Uint8Array, certPem?: string): Promise<WebCryptoRsaToken> {
    const key = await crypto.subtle.importKey('pkcs8', new Uint8Array(pkcs8), RSA, false, ['sign']);
    return new WebCryptoRsaToken(key, certPem);
  }

  certificatePem(): string | undefined {
    return this.#cert;
  }

  async sign(text: string): Promise<string> {
    return toBase64(new Uint8Array(await crypto.subtle.sign(RSA, this.#key, new TextEncoder().encode(text))));
  }
}

export type TokenErrorCode = Pkcs12ErrorCode | 'TOKEN_PASSWORD_REQUIRED' | 'TOKEN_KEY_UNSUPPORTED';

/** Why a key file could not be loaded (the login page shows a message per code). */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
  }
}

async function fromPkcs8(pkcs8: Uint8Array, certPem: string | undefined): Promise<LoginToken> {
  try {
    const algorithm = privateKeyAlgorithm(pkcs8);
    if (algorithm === 'sm2') return new SoftwareToken(pkcs8, certPem);
    if (algorithm === 'rsa') return await WebCryptoRsaToken.fromPkcs8(pkcs8, certPem);
    throw new TokenError('TOKEN_KEY_UNSUPPORTED', `${algorithm} keys are not supported (SM2 or RSA)`);
  } finally {
    pkcs8.fill(0); // the token holds the imported key; drop the encoded copy
  }
}

const PEM = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Loads a software token from a key file's bytes: PKCS#8 PEM/DER (`PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` with
 * the password), or PKCS#12 with the password (its certificate, when it holds one for the key, is presented at
 * login). A separate certificate PEM may be given. Throws {@link TokenError}.
 */
export async function loadSoftwareToken(input: {
  key: Uint8Array;
  password?: string;
  certificatePem?: string;
}): Promise<LoginToken> {
  const password = input.password ?? '';
  try {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(input.key.subarray(0, 64 * 1024));
    if (text.includes('-----BEGIN')) {
      const blocks = [...text.matchAll(PEM)].map((m) => ({
        label: m[1]!,
        der: fromBase64(m[2]!.replace(/\s+/g, '')),
      }));
      const cert = blocks.find((b) => b.label === 'CERTIFICATE');
      const certPem =
        input.certificatePem ?? (cert !== undefined ? toPem(cert.der, 'CERTIFICATE') : undefined);
      const plain = blocks.find((b) => b.label === 'PRIVATE KEY');
      if (plain !== undefined) return await fromPkcs8(plain.der, certPem);
      const enc = blocks.find((b) => b.label === 'ENCRYPTED PRIVATE KEY');
      if (enc !== undefined) {
        if (password === '') throw new TokenError('TOKEN_PASSWORD_REQUIRED', 'the key is encrypted');
        return await fromPkcs8(await decryptPrivateKeyInfo(enc.der, password), certPem);
      }
      // SEC1 'EC PRIVATE KEY' and others: the SM2 engine reads what it knows.
      return new SoftwareToken(text, input.certificatePem);
    }
    // DER: PKCS#8 PrivateKeyInfo, else PKCS#12.
    try {
      privateKeyAlgorithm(input.key);
      return await fromPkcs8(new Uint8Array(input.key), input.certificatePem);
    } catch (e) {
      if (e instanceof TokenError) throw e;
    }
    const p12 = await parsePkcs12(input.key, password);
    const key = p12.keys[0]!;
    const id = key.localKeyId;
    const paired =
      p12.certificates.find(
        (c) => id !== undefined && c.localKeyId !== undefined && toBase64(c.localKeyId) === toBase64(id),
      ) ?? (p12.certificates.length === 1 ? p12.certificates[0] : undefined);
    const certPem =
      input.certificatePem ?? (paired !== undefined ? toPem(paired.der, 'CERTIFICATE') : undefined);
    for (const k of p12.keys.slice(1)) k.pkcs8.fill(0);
    return await fromPkcs8(key.pkcs8, certPem);
  } catch (e) {
    if (e instanceof TokenError) throw e;
    if (isPkcs12Error(e)) {
      if (e.code === 'PKCS12_PASSWORD_INVALID' && password === '')
        throw new TokenError('TOKEN_PASSWORD_REQUIRED', 'the file is protected by a password');
      throw new TokenError(e.code, e.message);
    }
    throw new TokenError('PKCS12_INVALID', e instanceof Error ? e.message : String(e));
  }
}
