/**
 * The public SM4 API (GB/T 32907): ECB, CBC and CTR compatible with `openssl enc -sm4-*`, SM4-GCM (RFC 8998), and
 * sealed envelopes for data at rest. {@link createSm4Api} binds the argument checks, the GCM construction and the
 * envelope format to a backend; this module's exports use the pure-TypeScript backend, `node/sm4.ts` binds the
 * same API to OpenSSL, so both entries behave identically (same outputs, same error codes).
 */
import {
  cbcDecrypt,
  cbcEncrypt,
  ctrCrypt,
  ecbDecrypt,
  ecbEncrypt,
  pkcs7Pad,
  pkcs7Unpad,
} from './cipher-modes.js';
import { GmError } from './errors.js';
import { Gcm, type GcmResult } from './gcm.js';
import {
  NonceSequence,
  openSealed,
  randomNonce,
  sealerFrom,
  sealWithNonce,
  type Sm4Opener,
  type Sm4Sealer,
} from './sm4-seal.js';
import { Sm4 } from './sm4-js.js';

export type { Sm4Opener, Sm4Sealer } from './sm4-seal.js';

export type Sm4Mode = 'ecb' | 'cbc' | 'ctr';

export interface Sm4Options {
  /** 16 bytes; required for cbc and ctr, refused for ecb. */
  iv?: Uint8Array;
  /** PKCS#7 padding for ecb and cbc (default true); ctr never pads (true is refused). */
  padding?: boolean;
}

export type Sm4GcmResult = GcmResult;

/** What an SM4 implementation supplies; arguments arrive checked (key and IV 16 bytes, lengths consistent). */
export interface Sm4Backend {
  /** ECB; `padding`: add PKCS#7 on encryption, check and strip it on decryption (GM_INVALID_PADDING). */
  ecb(encrypt: boolean, key: Uint8Array, data: Uint8Array, padding: boolean): Uint8Array;
  /** CBC, same padding contract as `ecb`. */
  cbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array, padding: boolean): Uint8Array;
  /** CTR with a 128-bit big-endian counter. */
  ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** GCM under `key`. */
  gcm(key: Uint8Array): Gcm;
}

/** The SM4 API as bound to a backend (function-valued properties: they can be destructured). */
export interface Sm4Api {
  /**
   * Encrypts `data` in ECB, CBC or CTR mode.
   * @throws GmError GM_INVALID_ARGUMENT on a key or IV of the wrong length, an IV given to ECB, padding asked of
   *   CTR, or unpadded ECB/CBC data that is not whole blocks
   */
  sm4Encrypt: (mode: Sm4Mode, key: Uint8Array, data: Uint8Array, options?: Sm4Options) => Uint8Array;
  /**
   * Decrypts what `sm4Encrypt` (or `openssl enc -sm4-*`) produced.
   * @throws GmError GM_INVALID_ARGUMENT (as for encryption), GM_INVALID_CIPHERTEXT (ECB/CBC data not whole blocks,
   *   or empty with padding), GM_INVALID_PADDING (PKCS#7 check failed)
   */
  sm4Decrypt: (mode: Sm4Mode, key: Uint8Array, data: Uint8Array, options?: Sm4Options) => Uint8Array;
  /** SM4-GCM encryption with a 16-byte tag. `iv`: 12 bytes recommended, never reused under one key. */
  sm4GcmEncrypt: (key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array) => Sm4GcmResult;
  /**
   * SM4-GCM decryption; `tag` may be truncated to 12 … 16 bytes. No plaintext is returned unless the tag matches.
   * @throws GmError GM_DECRYPT_FAILED on a tag mismatch, GM_INVALID_ARGUMENT on bad lengths
   */
  sm4GcmDecrypt: (
    key: Uint8Array,
    iv: Uint8Array,
    ciphertext: Uint8Array,
    tag: Uint8Array,
    aad?: Uint8Array,
  ) => Uint8Array;
  /** Seals `plaintext` for storage: version 1 envelope, version ‖ random 96-bit nonce ‖ ciphertext ‖ tag. */
  sm4Seal: (key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array) => Uint8Array;
  /**
   * Opens a sealed envelope (from `sm4Seal` or a sealer).
   * @throws GmError GM_INVALID_CIPHERTEXT (truncated, unknown version), GM_DECRYPT_FAILED (wrong key or aad,
   *   tampered data), GM_INVALID_ARGUMENT (key length)
   */
  sm4Open: (key: Uint8Array, sealed: Uint8Array, aad?: Uint8Array) => Uint8Array;
  /** A sealer for many seals under one key with deterministic, never-repeating nonces (SP 800-38D §8.2.1). */
  createSm4Sealer: (key: Uint8Array) => Sm4Sealer;
  /**
   * An opener for many envelopes under one key: the SM4 key schedule and GCM's GHASH table are computed once
   * (opening with `sm4Open` computes them on every call). Same results and errors as `sm4Open`.
   */
  createSm4Opener: (key: Uint8Array) => Sm4Opener;
}

const EMPTY = new Uint8Array(0);

function bytes(name: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new GmError('GM_INVALID_ARGUMENT', `${name} must be a Uint8Array`);
  return v;
}

function optionalBytes(name: string, v: unknown): Uint8Array {
  return v === undefined ? EMPTY : bytes(name, v);
}

function sixteen(name: string, v: unknown): Uint8Array {
  const b = bytes(name, v);
  if (b.length !== 16)
    throw new GmError('GM_INVALID_ARGUMENT', `SM4 ${name} must be 16 bytes, got ${b.length}`);
  return b;
}

interface Checked {
  key: Uint8Array;
  data: Uint8Array;
  iv: Uint8Array | undefined;
  padding: boolean;
}

function check(mode: unknown, key: unknown, data: unknown, options: Sm4Options | undefined): Checked {
  const o = options ?? {};
  const k = sixteen('key', key);
  const d = bytes('data', data);
  if (o.padding !== undefined && typeof o.padding !== 'boolean') {
    throw new GmError('GM_INVALID_ARGUMENT', 'padding must be a boolean');
  }
  switch (mode) {
    case 'ecb':
      if (o.iv !== undefined) throw new GmError('GM_INVALID_ARGUMENT', 'SM4-ECB takes no IV');
      return { key: k, data: d, iv: undefined, padding: o.padding ?? true };
    case 'cbc':
      return { key: k, data: d, iv: sixteen('iv', o.iv), padding: o.padding ?? true };
    case 'ctr':
      if (o.padding === true) throw new GmError('GM_INVALID_ARGUMENT', 'SM4-CTR does not pad');
      return { key: k, data: d, iv: sixteen('iv', o.iv), padding: false };
    default:
      throw new GmError('GM_INVALID_ARGUMENT', `unknown SM4 mode ${String(mode)}`);
  }
}

/** Binds the SM4 API to a backend. */
export function createSm4Api(backend: Sm4Backend): Sm4Api {
  const sm4Encrypt: Sm4Api['sm4Encrypt'] = (mode, key, data, options) => {
    const c = check(mode, key, data, options);
    if (c.iv === undefined) {
      if (!c.padding && c.data.length % 16 !== 0) throw notBlocks();
      return backend.ecb(true, c.key, c.data, c.padding);
    }
    if (mode === 'ctr') return backend.ctr(c.key, c.iv, c.data);
    if (!c.padding && c.data.length % 16 !== 0) throw notBlocks();
    return backend.cbc(true, c.key, c.iv, c.data, c.padding);
  };

  const sm4Decrypt: Sm4Api['sm4Decrypt'] = (mode, key, data, options) => {
    const c = check(mode, key, data, options);
    if (mode === 'ctr') return backend.ctr(c.key, c.iv!, c.data);
    if (c.data.length % 16 !== 0) {
      throw new GmError('GM_INVALID_CIPHERTEXT', 'SM4-ECB/CBC ciphertext must be whole 16-byte blocks');
    }
    if (c.padding && c.data.length === 0)
      throw new GmError('GM_INVALID_CIPHERTEXT', 'padded ciphertext is empty');
    return c.iv === undefined
      ? backend.ecb(false, c.key, c.data, c.padding)
      : backend.cbc(false, c.key, c.iv, c.data, c.padding);
  };

  const gcmFor = (key: unknown): Gcm => backend.gcm(sixteen('key', key));

  return {
    sm4Encrypt,
    sm4Decrypt,
    sm4GcmEncrypt: (key, iv, plaintext, aad) =>
      gcmFor(key).encrypt(bytes('iv', iv), bytes('plaintext', plaintext), optionalBytes('aad', aad)),
    sm4GcmDecrypt: (key, iv, ciphertext, tag, aad) =>
      gcmFor(key).decrypt(
        bytes('iv', iv),
        bytes('ciphertext', ciphertext),
        bytes('tag', tag),
        optionalBytes('aad', aad),
      ),
    sm4Seal: (key, plaintext, aad) =>
      sealWithNonce(gcmFor(key), randomNonce(), bytes('plaintext', plaintext), optionalBytes('aad', aad)),
    sm4Open: (key, sealed, aad) =>
      openSealed(gcmFor(key), bytes('sealed data', sealed), optionalBytes('aad', aad)),
    createSm4Sealer: (key) => {
      const sealer = sealerFrom(gcmFor(Uint8Array.from(sixteen('key', key))), NonceSequence.random());
      return {
        seal: (plaintext, aad) => sealer.seal(bytes('plaintext', plaintext), optionalBytes('aad', aad)),
      };
    },
    createSm4Opener: (key) => {
      const gcm = gcmFor(Uint8Array.from(sixteen('key', key)));
      return {
        open: (sealed, aad) => openSealed(gcm, bytes('sealed data', sealed), optionalBytes('aad', aad)),
      };
    },
  };
}

function notBlocks(): GmError {
  return new GmError('GM_INVALID_ARGUMENT', 'without padding, SM4-ECB/CBC data must be whole 16-byte blocks');
}

/** Runs `f` with a fresh SM4 key schedule, wiped afterwards. */
function withSm4<T>(key: Uint8Array, f: (c: Sm4) => T): T {
  const c = new Sm4(key);
  try {
    return f(c);
  } finally {
    c.wipe();
  }
}

/** The pure-TypeScript backend (browser entry). */
export const jsSm4Backend: Sm4Backend = {
  ecb: (encrypt, key, data, padding) =>
    withSm4(key, (c) =>
      encrypt ? ecbEncrypt(c, padding ? pkcs7Pad(data) : data) : unpadIf(padding, ecbDecrypt(c, data)),
    ),
  cbc: (encrypt, key, iv, data, padding) =>
    withSm4(key, (c) =>
      encrypt
        ? cbcEncrypt(c, iv, padding ? pkcs7Pad(data) : data)
        : unpadIf(padding, cbcDecrypt(c, iv, data)),
    ),
  ctr: (key, iv, data) => withSm4(key, (c) => ctrCrypt(c, iv, data)),
  gcm: (key) => new Gcm(new Sm4(key)),
};

function unpadIf(padding: boolean, data: Uint8Array): Uint8Array {
  return padding ? pkcs7Unpad(data) : data;
}

export const {
  sm4Encrypt,
  sm4Decrypt,
  sm4GcmEncrypt,
  sm4GcmDecrypt,
  sm4Seal,
  sm4Open,
  createSm4Sealer,
  createSm4Opener,
} = createSm4Api(jsSm4Backend);
