/**
 * Batch and asynchronous SM2 verification (GB/T 32918.2-2016 clause 7.1) over any {@link Sm2Engine}.
 *
 * The protocol part is done here, once, in TypeScript, exactly as `Sm2.verify` does it: the signature is
 * decoded and range-checked (B1, B2: r, s ∈ [1, n-1]), e = SM3(Z_A ‖ M') is computed (B3). Only the curve
 * part (B4–B7) goes to the engine — many signatures per call when the engine has `verifyBatch`, and off the
 * event loop, on the libuv thread pool, when it has `verifyBatchAsync` (the native engine has both). For
 * engines without them (js, openssl) the same results come from a loop over `verify`; the asynchronous form
 * then yields to the event loop between chunks.
 */
import { GmError } from '../errors.js';
import type { Sm2Engine } from './engine.js';
import { Sm2PublicKey } from './keys.js';
import { toRawSignature, type SignatureFormat } from './signature.js';
import type { Sm2, VerifyOptions } from './sm2.js';

export interface VerifyBatchItem {
  publicKey: Sm2PublicKey;
  message: Uint8Array | string;
  signature: Uint8Array;
  /** Signer's distinguishing identifier (GM/T 0009 default `1234567812345678`). */
  id?: string | Uint8Array;
  /** Signature encoding, default `der`. */
  format?: SignatureFormat;
}

export interface Sm2BatchVerify {
  /**
   * Verifies every item; result i is what `verify` returns for item i, except that a signature that cannot
   * be decoded (which `verify` reports as GM_INVALID_SIGNATURE_ENCODING) is `false` here, so one bad record
   * does not abort the batch.
   */
  verifyBatch(items: readonly VerifyBatchItem[]): boolean[];
  /** {@link verifyBatch} with the curve arithmetic on the libuv thread pool (native engine). */
  verifyBatchAsync(items: readonly VerifyBatchItem[]): Promise<boolean[]>;
  /** `verify` with the curve arithmetic off the event loop; rejects as `verify` throws. */
  verifyAsync(
    publicKey: Sm2PublicKey,
    message: Uint8Array | string,
    signature: Uint8Array,
    options?: VerifyOptions,
  ): Promise<boolean>;
}

/** Items per engine call: bounds the memory of one call and lets several pool threads share a batch. */
const CHUNK = 1024;

interface Prepared {
  e: Uint8Array;
  rs: Uint8Array;
  pub: Uint8Array;
  /** false where the signature could not be decoded (those slots are filled with a dummy and ignored). */
  decoded: boolean[];
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export function createSm2BatchVerify(sm2: Pick<Sm2, 'engine' | 'computeDigest'>): Sm2BatchVerify {
  const engine: Sm2Engine = sm2.engine;

  /** B1–B3 for items[from, to): concatenated e, r‖s and public points. */
  function prepare(items: readonly VerifyBatchItem[], from: number, to: number): Prepared {
    const n = to - from;
    const out: Prepared = {
      e: new Uint8Array(n * 32),
      rs: new Uint8Array(n * 64),
      pub: new Uint8Array(n * 65),
      decoded: new Array<boolean>(n),
    };
    for (let i = 0; i < n; i++) {
      const item = items[from + i];
      if (item === undefined || !(item.publicKey instanceof Sm2PublicKey)) {
        throw new GmError('GM_INVALID_ARGUMENT', `batch item ${from + i} has no Sm2PublicKey`);
      }
      if (!(item.signature instanceof Uint8Array)) {
        throw new GmError('GM_INVALID_ARGUMENT', `batch item ${from + i} has no signature bytes`);
      }
      let raw: Uint8Array;
      try {
        raw = toRawSignature(item.signature, item.format ?? 'der');
      } catch (err) {
        if (err instanceof GmError && err.code === 'GM_INVALID_SIGNATURE_ENCODING') {
          out.decoded[i] = false;
          out.pub.set(item.publicKey.point, i * 65); // any valid point; the result is discarded
          out.rs.fill(0, i * 64, i * 64 + 64); // r = 0 never verifies
          continue;
        }
        throw err;
      }
      out.decoded[i] = true;
      out.e.set(sm2.computeDigest(item.publicKey, item.message, item.id), i * 32);
      out.rs.set(raw, i * 64);
      out.pub.set(item.publicKey.point, i * 65);
    }
    return out;
  }

  function verifyPrepared(p: Prepared): Uint8Array {
    if (engine.verifyBatch) return engine.verifyBatch(p.e, p.rs, p.pub);
    const n = p.decoded.length;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (!p.decoded[i]) continue;
      out[i] = engine.verify(
        p.e.subarray(i * 32, i * 32 + 32),
        p.rs.subarray(i * 64, i * 64 + 64),
        p.pub.subarray(i * 65, i * 65 + 65),
      )
        ? 1
        : 0;
    }
    return out;
  }

  const collect = (p: Prepared, r: Uint8Array, into: boolean[]): void => {
    for (let i = 0; i < p.decoded.length; i++) into.push(p.decoded[i] === true && r[i] === 1);
  };

  function verifyBatch(items: readonly VerifyBatchItem[]): boolean[] {
    if (!Array.isArray(items))
      throw new GmError('GM_INVALID_ARGUMENT', 'verifyBatch takes an array of items');
    const results: boolean[] = [];
    for (let from = 0; from < items.length; from += CHUNK) {
      const p = prepare(items, from, Math.min(items.length, from + CHUNK));
      collect(p, verifyPrepared(p), results);
    }
    return results;
  }

  async function verifyBatchAsync(items: readonly VerifyBatchItem[]): Promise<boolean[]> {
    if (!Array.isArray(items))
      throw new GmError('GM_INVALID_ARGUMENT', 'verifyBatch takes an array of items');
    const pending: { p: Prepared; r: Promise<Uint8Array> }[] = [];
    for (let from = 0; from < items.length; from += CHUNK) {
      if (from > 0) await yieldToEventLoop(); // digests are computed here: keep each slice short
      const p = prepare(items, from, Math.min(items.length, from + CHUNK));
      const r = engine.verifyBatchAsync
        ? engine.verifyBatchAsync(p.e, p.rs, p.pub)
        : Promise.resolve(verifyPrepared(p));
      r.catch(() => undefined); // observed below; avoid an unhandled rejection while later chunks prepare
      pending.push({ p, r });
    }
    const results: boolean[] = [];
    for (const { p, r } of pending) collect(p, await r, results);
    return results;
  }

  async function verifyAsync(
    publicKey: Sm2PublicKey,
    message: Uint8Array | string,
    signature: Uint8Array,
    options?: VerifyOptions,
  ): Promise<boolean> {
    const raw = toRawSignature(signature, options?.format ?? 'der'); // throws as verify does
    const e = sm2.computeDigest(publicKey, message, options?.id);
    if (!engine.verifyBatchAsync) return engine.verify(e, raw, publicKey.point);
    const r = await engine.verifyBatchAsync(e, raw, publicKey.point);
    return r[0] === 1;
  }

  return { verifyBatch, verifyBatchAsync, verifyAsync };
}
