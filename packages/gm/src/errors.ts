/**
 * Typed errors of `@yizheng/gm`. Every failure caused by input (a key, a signature, a ciphertext, a PEM file)
 * surfaces as a {@link GmError} with a stable code; callers switch on `code`, never on the message.
 */
export type GmErrorCode =
  /** A key (private or public) is malformed, out of range, or not on the SM2 curve. */
  | 'GM_INVALID_KEY'
  /** A key container is well formed but holds something other than an SM2 key (RSA, P-256, …). */
  | 'GM_UNSUPPORTED_KEY'
  /** A signature is not a strict DER SM2Signature / 64-byte r‖s, or r, s are outside [1, n-1]. */
  | 'GM_INVALID_SIGNATURE_ENCODING'
  /** A ciphertext is malformed (bad C1 point, too short, bad ASN.1). */
  | 'GM_INVALID_CIPHERTEXT'
  /** Decryption failed: the C3 hash check or the authentication tag did not match. */
  | 'GM_DECRYPT_FAILED'
  /** PEM armour is malformed or has an unexpected label. */
  | 'GM_INVALID_PEM'
  /** DER is malformed, non-minimal, truncated or has trailing bytes. */
  | 'GM_INVALID_DER'
  /** A length, size or option is outside what the algorithm accepts. */
  | 'GM_INVALID_ARGUMENT'
  /** PKCS#7 padding is wrong on decryption. */
  | 'GM_INVALID_PADDING'
  /** A nonce/IV would be reused with the same key. */
  | 'GM_NONCE_REUSE'
  /** The requested engine cannot be loaded on this machine. */
  | 'GM_ENGINE_UNAVAILABLE';

export class GmError extends Error {
  override readonly name = 'GmError';
  readonly code: GmErrorCode;

  constructor(code: GmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isGmError(e: unknown, code?: GmErrorCode): e is GmError {
  return e instanceof GmError && (code === undefined || e.code === code);
}
