/**
 * SM2 signature encodings.
 *
 * GM/T 0009-2012 clause 7.3:
 *   SM2Signature ::= SEQUENCE { R INTEGER, S INTEGER }
 * and the raw form r ‖ s, each 32 bytes big-endian. Parsing is strict: DER only (minimal integers, no trailing
 * bytes), and r, s ∈ [1, n-1] (GB/T 32918.2 clause 7.1 B1, B2) — anything else is GM_INVALID_SIGNATURE_ENCODING.
 */
import { bigIntToBytes, bytesToBigInt, concat } from '../bytes.js';
import { TAG, children, decodeUnsignedInteger, expectTag, integer, readOnly, sequence } from '../der.js';
import { GmError } from '../errors.js';
import { N } from './curve.js';

export type SignatureFormat = 'der' | 'raw';

function bad(msg: string, cause?: unknown): never {
  throw new GmError('GM_INVALID_SIGNATURE_ENCODING', msg, cause === undefined ? undefined : { cause });
}

function checkRange(r: bigint, s: bigint): void {
  if (r < 1n || r >= N) bad('r is outside [1, n-1]');
  if (s < 1n || s >= N) bad('s is outside [1, n-1]');
}

/** DER SM2Signature → 64-byte r ‖ s. */
export function derToRaw(der: Uint8Array): Uint8Array {
  let r: bigint;
  let s: bigint;
  try {
    const f = children(readOnly(der, TAG.SEQUENCE));
    if (f.length !== 2) bad('SM2Signature has exactly two INTEGERs');
    r = decodeUnsignedInteger(expectTag(f[0], TAG.INTEGER, 'R'));
    s = decodeUnsignedInteger(expectTag(f[1], TAG.INTEGER, 'S'));
  } catch (e) {
    if (e instanceof GmError && e.code === 'GM_INVALID_SIGNATURE_ENCODING') throw e;
    bad(`not a DER SM2Signature: ${(e as Error).message}`, e);
  }
  checkRange(r, s);
  return concat(bigIntToBytes(r, 32), bigIntToBytes(s, 32));
}

/** 64-byte r ‖ s → DER SM2Signature. */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const { r, s } = splitRaw(raw);
  return sequence(integer(r), integer(s));
}

export function splitRaw(raw: Uint8Array): { r: bigint; s: bigint } {
  if (raw.length !== 64) bad('a raw SM2 signature is 64 bytes (r ‖ s)');
  const r = bytesToBigInt(raw.subarray(0, 32));
  const s = bytesToBigInt(raw.subarray(32));
  checkRange(r, s);
  return { r, s };
}

/** Normalises a signature of the given format to checked raw r ‖ s. */
export function toRawSignature(sig: Uint8Array, format: SignatureFormat): Uint8Array {
  if (format === 'der') return derToRaw(sig);
  splitRaw(sig);
  return sig;
}
