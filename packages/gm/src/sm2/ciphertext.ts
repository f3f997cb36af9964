/**
 * SM2 ciphertext layouts (GB/T 32918.4 clause 6.1 and GM/T 0009 clause 7.2).
 *
 * - `c1c3c2` (GB/T 32918.4-2016, the standard order): C1 ‖ C3 ‖ C2
 * - `c1c2c3` (the 2010 draft order, still used by older systems): C1 ‖ C2 ‖ C3
 * - `asn1` (GM/T 0009-2012 clause 7.2, what OpenSSL produces):
 *     SM2Cipher ::= SEQUENCE { XCoordinate INTEGER, YCoordinate INTEGER,
 *                              HASH OCTET STRING SIZE(32), CipherText OCTET STRING }
 * C1 in the concatenated forms is a point encoding: 04‖x‖y (65 bytes) or 02/03‖x (33 bytes).
 */
import { bigIntToBytes, bytesToBigInt, concat } from '../bytes.js';
import {
  TAG,
  children,
  decodeUnsignedInteger,
  expectTag,
  integer,
  octetString,
  readOnly,
  sequence,
} from '../der.js';
import { GmError } from '../errors.js';
import { P } from './curve.js';

export type CiphertextFormat = 'c1c3c2' | 'c1c2c3' | 'asn1';

/** The parts of an SM2 ciphertext; c1 is a point encoding (validated later against the curve). */
export interface CiphertextParts {
  c1: Uint8Array;
  c3: Uint8Array;
  c2: Uint8Array;
}

function bad(msg: string): never {
  throw new GmError('GM_INVALID_CIPHERTEXT', msg);
}

export function encodeCiphertext(parts: CiphertextParts, format: CiphertextFormat): Uint8Array {
  switch (format) {
    case 'c1c3c2':
      return concat(parts.c1, parts.c3, parts.c2);
    case 'c1c2c3':
      return concat(parts.c1, parts.c2, parts.c3);
    case 'asn1':
      return sequence(
        integer(bytesToBigInt(parts.c1.subarray(1, 33))),
        integer(bytesToBigInt(parts.c1.subarray(33, 65))),
        octetString(parts.c3),
        octetString(parts.c2),
      );
  }
}

function c1Length(first: number | undefined): number {
  if (first === 0x04) return 65;
  if (first === 0x02 || first === 0x03) return 33;
  return bad('C1 must start with 04 (uncompressed) or 02/03 (compressed)');
}

export function decodeCiphertext(data: Uint8Array, format: CiphertextFormat): CiphertextParts {
  if (format === 'asn1') {
    let f;
    try {
      f = children(readOnly(data, TAG.SEQUENCE));
    } catch {
      bad('not a DER SM2Cipher');
    }
    if (f.length !== 4) bad('SM2Cipher has four fields');
    try {
      const x = decodeUnsignedInteger(expectTag(f[0], TAG.INTEGER, 'XCoordinate'));
      const y = decodeUnsignedInteger(expectTag(f[1], TAG.INTEGER, 'YCoordinate'));
      if (x >= P || y >= P) bad('C1 coordinate out of range');
      const c3 = expectTag(f[2], TAG.OCTET_STRING, 'HASH');
      const c2 = expectTag(f[3], TAG.OCTET_STRING, 'CipherText');
      if (c3.length !== 32) bad('HASH must be 32 bytes');
      if (c2.length === 0) bad('CipherText is empty');
      return { c1: concat(Uint8Array.of(4), bigIntToBytes(x, 32), bigIntToBytes(y, 32)), c3, c2 };
    } catch (e) {
      if (e instanceof GmError && e.code === 'GM_INVALID_CIPHERTEXT') throw e;
      bad(`not a DER SM2Cipher: ${(e as Error).message}`);
    }
  }
  const l1 = c1Length(data[0]);
  if (data.length < l1 + 32 + 1) bad('ciphertext too short');
  const c1 = data.subarray(0, l1);
  if (format === 'c1c3c2') return { c1, c3: data.subarray(l1, l1 + 32), c2: data.subarray(l1 + 32) };
  return { c1, c2: data.subarray(l1, data.length - 32), c3: data.subarray(data.length - 32) };
}
