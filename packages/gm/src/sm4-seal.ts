/**
 * Sealed envelopes for SM4 data at rest: SM4-GCM with a 96-bit nonce and a 128-bit tag, carried with a version
 * byte so the format can evolve.
 *
 *   sealed (version 1) = 0x01 ‖ nonce (12 bytes) ‖ ciphertext (= plaintext length) ‖ tag (16 bytes)
 *   GCM additional data = 0x01 ‖ aad            (the version byte is authenticated too)
 *
 * Nonces come either from the random generator (96 random bits, SP 800-38D §8.2.2; keep the number of seals per
 * key well below 2^32) or from a sealer's deterministic construction (§8.2.1): a 32-bit random fixed field and a
 * 64-bit invocation counter. The counter starts at a random value and runs through all 2^64 values once before
 * the sealer refuses, so one sealer never repeats a nonce, and two sealers of the same key collide only if both
 * the fixed fields and the counter ranges overlap.
 */
import { concat, randomBytes } from './bytes.js';
import { GmError } from './errors.js';
import type { Gcm } from './gcm.js';

export const SEAL_VERSION_1 = 0x01;
export const SEAL_NONCE_LENGTH = 12;
export const SEAL_TAG_LENGTH = 16;
/** Header, nonce and tag: the size of a sealed empty plaintext. */
export const SEAL_OVERHEAD = 1 + SEAL_NONCE_LENGTH + SEAL_TAG_LENGTH;

const EMPTY = new Uint8Array(0);
const HEADER_V1 = Uint8Array.of(SEAL_VERSION_1);

/** Seals `plaintext` under the GCM instance with this nonce (12 bytes; never reused with the same key). */
export function sealWithNonce(
  gcm: Gcm,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = EMPTY,
): Uint8Array {
  const { ciphertext, tag } = gcm.encrypt(nonce, plaintext, concat(HEADER_V1, aad), SEAL_TAG_LENGTH);
  const out = new Uint8Array(SEAL_OVERHEAD + ciphertext.length);
  out[0] = SEAL_VERSION_1;
  out.set(nonce, 1);
  out.set(ciphertext, 1 + SEAL_NONCE_LENGTH);
  out.set(tag, 1 + SEAL_NONCE_LENGTH + ciphertext.length);
  return out;
}

/**
 * Opens a sealed envelope.
 * @throws GmError GM_INVALID_CIPHERTEXT (too short, unknown version), GM_DECRYPT_FAILED (wrong key, aad or data)
 */
export function openSealed(gcm: Gcm, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  if (sealed.length < SEAL_OVERHEAD) throw new GmError('GM_INVALID_CIPHERTEXT', 'sealed data is truncated');
  if (sealed[0] !== SEAL_VERSION_1) {
    throw new GmError('GM_INVALID_CIPHERTEXT', `unsupported sealed-data version ${sealed[0]!}`);
  }
  const nonce = sealed.subarray(1, 1 + SEAL_NONCE_LENGTH);
  const tagAt = sealed.length - SEAL_TAG_LENGTH;
  return gcm.decrypt(
    nonce,
    sealed.subarray(1 + SEAL_NONCE_LENGTH, tagAt),
    sealed.subarray(tagAt),
    concat(HEADER_V1, aad),
  );
}

/** A random 96-bit nonce. */
export function randomNonce(): Uint8Array {
  return randomBytes(SEAL_NONCE_LENGTH);
}

const COUNTER_SPACE = 1n << 64n;

/**
 * The deterministic nonce sequence of SP 800-38D §8.2.1: fixed field (4 bytes) ‖ invocation counter (8 bytes,
 * big-endian, modulo 2^64). It yields at most `limit` nonces, then throws GM_NONCE_REUSE.
 */
export class NonceSequence {
  private readonly fixed: Uint8Array;
  private counter: bigint;
  private left: bigint;

  constructor(fixed: Uint8Array, start: bigint, limit: bigint = COUNTER_SPACE) {
    if (fixed.length !== 4) throw new GmError('GM_INVALID_ARGUMENT', 'nonce fixed field must be 4 bytes');
    if (start < 0n || start >= COUNTER_SPACE || limit < 0n || limit > COUNTER_SPACE) {
      throw new GmError('GM_INVALID_ARGUMENT', 'nonce counter out of range');
    }
    this.fixed = fixed.slice();
    this.counter = start;
    this.left = limit;
  }

  /** A fresh sequence: random fixed field, random counter start, all 2^64 counter values available. */
  static random(): NonceSequence {
    const r = randomBytes(12);
    let start = 0n;
    for (let i = 4; i < 12; i++) start = (start << 8n) | BigInt(r[i]!);
    return new NonceSequence(r.subarray(0, 4), start);
  }

  next(): Uint8Array {
    if (this.left === 0n) {
      throw new GmError('GM_NONCE_REUSE', 'nonce counter exhausted: create a new sealer (or a new key)');
    }
    this.left -= 1n;
    const nonce = new Uint8Array(SEAL_NONCE_LENGTH);
    nonce.set(this.fixed);
    let c = this.counter;
    for (let i = SEAL_NONCE_LENGTH - 1; i >= 4; i--) {
      nonce[i] = Number(c & 0xffn);
      c >>= 8n;
    }
    this.counter = (this.counter + 1n) % COUNTER_SPACE;
    return nonce;
  }
}

/** Seals data at rest under one key with never-repeating nonces (see the module comment). */
export interface Sm4Sealer {
  /**
   * Seals `plaintext` (additional data `aad`, authenticated but not stored) into a version-1 envelope that
   * `sm4Open` opens with the same key.
   * @throws GmError GM_NONCE_REUSE once the sealer's 2^64 nonces are spent
   */
  seal(plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
}

/** Opens envelopes under one key with the key schedule and GHASH table prepared once. */
export interface Sm4Opener {
  /**
   * Opens a version-1 envelope sealed under the opener's key.
   * @throws GmError GM_INVALID_CIPHERTEXT (truncated, unknown version), GM_DECRYPT_FAILED (wrong key or aad,
   *   tampered data)
   */
  open(sealed: Uint8Array, aad?: Uint8Array): Uint8Array;
}

/** A sealer over a prepared GCM instance and a nonce sequence (tests inject a sequence near its end). */
export function sealerFrom(gcm: Gcm, nonces: NonceSequence): Sm4Sealer {
  return {
    seal: (plaintext, aad = EMPTY) => sealWithNonce(gcm, nonces.next(), plaintext, aad),
  };
}
