/**
 * SM2 protocol layer (GB/T 32918.2 signatures, GB/T 32918.4 encryption, GM/T 0009 usage), over an
 * {@link Sm2Engine} for the curve arithmetic and a {@link HashFactory} for SM3. Both are passed in:
 * `createSm2({ engine, hash })` — no global state; the package entry points build a default instance.
 */
import {
  bigIntToBytes,
  bytesToBigInt,
  concat,
  constantTimeEqual,
  randomBytes,
  toBytes,
  utf8,
  wipe,
} from '../bytes.js';
import { GmError } from '../errors.js';
import { A, B, DEFAULT_USER_ID, GX, GY, N } from './curve.js';
import { decodeCiphertext, encodeCiphertext, type CiphertextFormat } from './ciphertext.js';
import type { Sm2Engine } from './engine.js';
import type { HashFactory } from './hash.js';
import { kdf } from './kdf.js';
import {
  Sm2PrivateKey,
  Sm2PublicKey,
  checkScalar,
  parsePrivateKey,
  parsePublicKey,
  privateScalar,
  type KeyInput,
} from './keys.js';
import { rawToDer, toRawSignature, type SignatureFormat } from './signature.js';

export interface SignOptions {
  /** Signer's distinguishing identifier (GM/T 0009: default `1234567812345678`). */
  id?: string | Uint8Array;
  /** Output encoding, default `der` (GM/T 0009 SM2Signature). */
  format?: SignatureFormat;
}

export type VerifyOptions = SignOptions;

export interface EncryptOptions {
  /** Ciphertext layout, default `c1c3c2` (GB/T 32918.4-2016). */
  format?: CiphertextFormat;
}

export interface Sm2KeyPair {
  privateKey: Sm2PrivateKey;
  publicKey: Sm2PublicKey;
}

/** The SM2 API: one instance per (engine, hash) pair. */
export interface Sm2 {
  readonly engine: Sm2Engine;
  generateKeyPair(): Sm2KeyPair;
  importPrivateKey(input: KeyInput): Sm2PrivateKey;
  importPublicKey(input: KeyInput): Sm2PublicKey;
  /** Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A), GB/T 32918.2 clause 5.5. */
  computeZ(publicKey: Sm2PublicKey, id?: string | Uint8Array): Uint8Array;
  /** e = SM3(Z_A ‖ M), GB/T 32918.2 clause 6.1 A1–A2. */
  computeDigest(publicKey: Sm2PublicKey, message: Uint8Array | string, id?: string | Uint8Array): Uint8Array;
  sign(privateKey: Sm2PrivateKey, message: Uint8Array | string, options?: SignOptions): Uint8Array;
  /**
   * {@link sign} of every message with one key; the curve arithmetic runs off the event loop (one job on the libuv
   * thread pool per {@link SIGN_MANY_CHUNK} messages) where the engine can, else here, one by one. Each e is
   * computed on the calling thread. Resolves with the signatures in order; rejects as `sign` throws.
   */
  signMany(
    privateKey: Sm2PrivateKey,
    messages: readonly (Uint8Array | string)[],
    options?: SignOptions,
  ): Promise<Uint8Array[]>;
  /** False for a signature that does not verify; GM_INVALID_SIGNATURE_ENCODING for one that cannot be parsed. */
  verify(
    publicKey: Sm2PublicKey,
    message: Uint8Array | string,
    signature: Uint8Array,
    options?: VerifyOptions,
  ): boolean;
  /** Signs a precomputed e (32 bytes). */
  signDigest(privateKey: Sm2PrivateKey, e: Uint8Array, options?: { format?: SignatureFormat }): Uint8Array;
  verifyDigest(
    publicKey: Sm2PublicKey,
    e: Uint8Array,
    signature: Uint8Array,
    options?: { format?: SignatureFormat },
  ): boolean;
  encrypt(publicKey: Sm2PublicKey, plaintext: Uint8Array | string, options?: EncryptOptions): Uint8Array;
  decrypt(privateKey: Sm2PrivateKey, ciphertext: Uint8Array, options?: EncryptOptions): Uint8Array;
}

export interface Sm2Deps {
  engine: Sm2Engine;
  hash: HashFactory;
  /**
   * Optional: the same hash as `hash` in one call (on Node, `crypto.hash` is several times cheaper than a
   * streaming object for short inputs). Used for e = SM3(Z ‖ M) when M is at most {@link ONE_SHOT_MAX} bytes.
   */
  hashOneShot?: (data: Uint8Array) => Uint8Array;
}

/** Messages per engine job in {@link Sm2.signMany}: bounds one job's memory and lets pool threads share a batch. */
export const SIGN_MANY_CHUNK = 256;

/** Longest message for which e is computed by {@link Sm2Deps.hashOneShot} over a copy of Z ‖ M. */
const ONE_SHOT_MAX = 4096;

/** Internal hooks for published test vectors (fixed k). Not exported from the package entry points. */
export interface Sm2Testing {
  signDigestWithK(privateKey: Sm2PrivateKey, e: Uint8Array, k: Uint8Array): Uint8Array;
  encryptWithK(
    publicKey: Sm2PublicKey,
    plaintext: Uint8Array,
    k: Uint8Array,
    format?: CiphertextFormat,
  ): Uint8Array;
}

const CURVE_PARAMS = concat(...[A, B, GX, GY].map((v) => bigIntToBytes(v, 32)));
const DEFAULT_ID = utf8(DEFAULT_USER_ID);
/** ENTL is two bytes of bit length: the ID is at most 8191 bytes. */
const MAX_ID_BYTES = 8191;

/** A uniformly random scalar in [1, n-2] by rejection sampling (also a valid nonce range). */
function randomScalar(): Uint8Array {
  for (;;) {
    const k = randomBytes(32);
    const v = bytesToBigInt(k);
    if (v >= 1n && v <= N - 2n) return k;
  }
}

export function createSm2(deps: Sm2Deps): Sm2 & { testing: Sm2Testing } {
  const { engine, hash, hashOneShot } = deps;
  /** Z ‖ M for {@link Sm2Deps.hashOneShot}, made on first use (see computeDigest). */
  let zmBuffer: Uint8Array | undefined;
  // Z for the default ID is cached per key object: the same signer is verified many times.
  const zCache = new WeakMap<Sm2PublicKey, Uint8Array>();

  function idBytes(id: string | Uint8Array | undefined): Uint8Array {
    if (id === undefined) return DEFAULT_ID;
    const b = toBytes(id);
    if (b.length > MAX_ID_BYTES)
      throw new GmError('GM_INVALID_ARGUMENT', `user ID longer than ${MAX_ID_BYTES} bytes`);
    return b;
  }

  function computeZ(publicKey: Sm2PublicKey, id?: string | Uint8Array): Uint8Array {
    const isDefault = id === undefined || (typeof id === 'string' && id === DEFAULT_USER_ID);
    if (isDefault) {
      const cached = zCache.get(publicKey);
      if (cached) return cached;
    }
    const idb = idBytes(id);
    const entl = idb.length * 8;
    const z = engine.computeZ
      ? engine.computeZ(publicKey.point, idb)
      : hash()
          .update(Uint8Array.of(entl >> 8, entl & 0xff))
          .update(idb)
          .update(CURVE_PARAMS)
          .update(publicKey.point.subarray(1))
          .digest();
    if (isDefault) zCache.set(publicKey, z);
    return z;
  }

  function computeDigest(
    publicKey: Sm2PublicKey,
    message: Uint8Array | string,
    id?: string | Uint8Array,
  ): Uint8Array {
    const z = computeZ(publicKey, id);
    const m = toBytes(message);
    if (hashOneShot && m.length <= ONE_SHOT_MAX) {
      // Z ‖ M is written into one reused buffer (off-heap: a new one per call costs an allocation, and one of
      // at most 64 bytes would be moved out of V8's heap by the native hash), wiped after: M may be private.
      const n = z.length + m.length;
      zmBuffer ??= new Uint8Array(new ArrayBuffer(z.length + ONE_SHOT_MAX));
      zmBuffer.set(z);
      zmBuffer.set(m, z.length);
      try {
        return hashOneShot(zmBuffer.subarray(0, n));
      } finally {
        zmBuffer.fill(0, 0, n);
      }
    }
    return hash().update(z).update(m).digest();
  }

  function sign(privateKey: Sm2PrivateKey, message: Uint8Array | string, options?: SignOptions): Uint8Array {
    const e = computeDigest(privateKey.publicKey, message, options?.id);
    return encodeSig(engine.sign(e, privateScalar(privateKey)), options?.format);
  }

  function checkDigest(e: Uint8Array): void {
    if (!(e instanceof Uint8Array) || e.length !== 32) {
      throw new GmError('GM_INVALID_ARGUMENT', 'the digest e is 32 bytes');
    }
  }

  function encodeSig(raw: Uint8Array, format: SignatureFormat | undefined): Uint8Array {
    return (format ?? 'der') === 'der' ? rawToDer(raw) : raw;
  }

  function signDigest(
    privateKey: Sm2PrivateKey,
    e: Uint8Array,
    options?: { format?: SignatureFormat },
  ): Uint8Array {
    checkDigest(e);
    return encodeSig(engine.sign(e, privateScalar(privateKey)), options?.format);
  }

  function verifyDigest(
    publicKey: Sm2PublicKey,
    e: Uint8Array,
    signature: Uint8Array,
    options?: { format?: SignatureFormat },
  ): boolean {
    checkDigest(e);
    const raw = toRawSignature(signature, options?.format ?? 'der');
    return engine.verify(e, raw, publicKey.point);
  }

  /** GB/T 32918.4 clause 6.1, A1–A8. */
  function encryptWith(
    publicKey: Sm2PublicKey,
    plaintext: Uint8Array,
    nextK: () => Uint8Array,
    format: CiphertextFormat,
  ): Uint8Array {
    if (plaintext.length === 0)
      throw new GmError('GM_INVALID_ARGUMENT', 'SM2 cannot encrypt an empty message');
    for (let attempt = 0; attempt < 16; attempt++) {
      const k = nextK(); // A1
      const c1 = engine.publicKeyFromPrivate(k); // A2: C1 = [k]G
      // A3: S = [h]P_B — h = 1 for SM2, and P_B was validated on import, so S ≠ O.
      const p2 = engine.multiply(publicKey.point, k); // A4: (x2, y2) = [k]P_B
      wipe(k);
      const x2 = p2.subarray(1, 33);
      const y2 = p2.subarray(33, 65);
      const t = kdf(hash, p2.subarray(1), plaintext.length); // A5
      if (t.every((b) => b === 0)) continue; // A5: t all zero → new k
      const c2 = new Uint8Array(plaintext.length); // A6
      for (let i = 0; i < c2.length; i++) c2[i] = plaintext[i]! ^ t[i]!;
      const c3 = hash().update(x2).update(plaintext).update(y2).digest(); // A7
      return encodeCiphertext({ c1, c3, c2 }, format); // A8
    }
    throw new GmError('GM_INVALID_ARGUMENT', 'KDF produced an all-zero key stream repeatedly');
  }

  /** GB/T 32918.4 clause 7.1, B1–B7. */
  function decrypt(privateKey: Sm2PrivateKey, ciphertext: Uint8Array, options?: EncryptOptions): Uint8Array {
    const { c1, c2, c3 } = decodeCiphertext(ciphertext, options?.format ?? 'c1c3c2');
    let point: Sm2PublicKey;
    try {
      point = Sm2PublicKey.fromPoint(c1); // B1: C1 on the curve
    } catch {
      throw new GmError('GM_INVALID_CIPHERTEXT', 'C1 is not a point on the SM2 curve');
    }
    const p2 = engine.multiply(point.point, privateScalar(privateKey)); // B3
    const t = kdf(hash, p2.subarray(1), c2.length); // B4
    if (t.every((b) => b === 0)) throw new GmError('GM_DECRYPT_FAILED', 'decryption failed');
    const m = new Uint8Array(c2.length); // B5
    for (let i = 0; i < m.length; i++) m[i] = c2[i]! ^ t[i]!;
    const u = hash().update(p2.subarray(1, 33)).update(m).update(p2.subarray(33, 65)).digest(); // B6
    if (!constantTimeEqual(u, c3)) {
      wipe(m);
      throw new GmError('GM_DECRYPT_FAILED', 'decryption failed');
    }
    return m; // B7
  }

  const api: Sm2 & { testing: Sm2Testing } = {
    engine,
    generateKeyPair(): Sm2KeyPair {
      const privateKey = Sm2PrivateKey.create(randomScalar(), (d) => engine.publicKeyFromPrivate(d));
      return { privateKey, publicKey: privateKey.publicKey };
    },
    importPrivateKey(input: KeyInput): Sm2PrivateKey {
      const m = parsePrivateKey(input);
      checkScalar(m.d);
      const key = Sm2PrivateKey.create(m.d, (d) => engine.publicKeyFromPrivate(d));
      wipe(m.d);
      if (m.publicPoint !== undefined) {
        let embedded: Sm2PublicKey;
        try {
          embedded = Sm2PublicKey.fromPoint(m.publicPoint);
        } catch {
          throw new GmError(
            'GM_INVALID_KEY',
            'the public key inside the private key is not on the SM2 curve',
          );
        }
        if (!embedded.equals(key.publicKey)) {
          throw new GmError('GM_INVALID_KEY', 'the public key inside the private key does not match d·G');
        }
      }
      return key;
    },
    importPublicKey: parsePublicKey,
    computeZ,
    computeDigest,
    sign,
    async signMany(privateKey, messages, options): Promise<Uint8Array[]> {
      const signBatch = engine.signBatchAsync?.bind(engine);
      if (signBatch === undefined) return messages.map((m) => sign(privateKey, m, options));
      const d = privateScalar(privateKey);
      // Every chunk is queued before any is awaited (the engine copies its inputs), so pool threads share them.
      const jobs: { n: number; rs: Promise<Uint8Array> }[] = [];
      for (let from = 0; from < messages.length; from += SIGN_MANY_CHUNK) {
        const chunk = messages.slice(from, from + SIGN_MANY_CHUNK);
        const es = new Uint8Array(chunk.length * 32);
        chunk.forEach((m, i) => {
          es.set(computeDigest(privateKey.publicKey, m, options?.id), i * 32);
        });
        const rs = signBatch(es, d);
        rs.catch(() => undefined); // observed below; no unhandled rejection while later chunks are queued
        jobs.push({ n: chunk.length, rs });
      }
      const out: Uint8Array[] = [];
      for (const { n, rs } of jobs) {
        const r = await rs;
        for (let i = 0; i < n; i++) out.push(encodeSig(r.slice(i * 64, i * 64 + 64), options?.format));
      }
      return out;
    },
    verify(publicKey, message, signature, options): boolean {
      const raw = toRawSignature(signature, options?.format ?? 'der');
      const e = computeDigest(publicKey, message, options?.id);
      return engine.verify(e, raw, publicKey.point);
    },
    signDigest,
    verifyDigest,
    encrypt(publicKey, plaintext, options): Uint8Array {
      return encryptWith(publicKey, toBytes(plaintext), randomScalar, options?.format ?? 'c1c3c2');
    },
    decrypt,
    testing: {
      signDigestWithK(privateKey, e, k): Uint8Array {
        checkDigest(e);
        return engine.sign(e, privateScalar(privateKey), k);
      },
      encryptWithK(publicKey, plaintext, k, format = 'c1c3c2'): Uint8Array {
        return encryptWith(publicKey, plaintext, () => k.slice(), format);
      },
    },
  };
  return api;
}
