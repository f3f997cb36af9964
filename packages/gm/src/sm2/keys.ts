/**
 * SM2 key objects and their encodings.
 *
 * Public key (RFC 5480 SubjectPublicKeyInfo, GM/T 0015 / GB/T 35275 for SM2):
 *   SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 *   algorithm = { id-ecPublicKey, sm2 (1.2.156.10197.1.301) }   (what OpenSSL and most CAs write), or
 *               { sm2 (1.2.156.10197.1.301) [, sm2] }             (seen from some vendors) — both accepted.
 * Private key: PKCS#8 (RFC 5208) PrivateKeyInfo wrapping SEC1 (RFC 5915) ECPrivateKey:
 *   ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING, [0] parameters OPTIONAL,
 *                               [1] publicKey BIT STRING OPTIONAL }
 * Raw forms: uncompressed 04‖x‖y, compressed 02/03‖x (GB/T 32918.1 §4.2.9), and the hex strings of
 * `sm-crypto` (130 hex digits for a public key, 64 for a private key).
 *
 * Every import validates: the point is on the curve and not infinity, coordinates in [0, p); d ∈ [1, n-2]
 * (n-1 is excluded because signing needs (1 + d)⁻¹ mod n).
 */
import { bigIntToBytes, bytesToBigInt, concat, fromHex, toHex } from '../bytes.js';
import {
  TAG,
  bitString,
  children,
  decodeOctetAlignedBitString,
  decodeOid,
  decodeSmallInteger,
  explicit,
  expectTag,
  integer,
  octetString,
  oid,
  readOnly,
  sequence,
  type Tlv,
} from '../der.js';
import { GmError } from '../errors.js';
import { decodePem, encodePem, isPem } from '../pem.js';
import { FIELD_BYTES, N, OID, P, isOnCurve } from './curve.js';
import { decompressY } from './js/field.js';

const secrets = new WeakMap<Sm2PrivateKey, Uint8Array>();

function invalidKey(msg: string): never {
  throw new GmError('GM_INVALID_KEY', msg);
}

/** A validated SM2 public key. Immutable. */
export class Sm2PublicKey {
  /** 04 ‖ x ‖ y */
  readonly #point: Uint8Array;

  private constructor(point: Uint8Array) {
    this.#point = point;
  }

  /** From a raw point: 65-byte uncompressed or 33-byte compressed. Validates. */
  static fromPoint(bytes: Uint8Array): Sm2PublicKey {
    let x: bigint;
    let y: bigint;
    if (bytes.length === 65 && bytes[0] === 0x04) {
      x = bytesToBigInt(bytes.subarray(1, 33));
      y = bytesToBigInt(bytes.subarray(33));
    } else if (bytes.length === 33 && (bytes[0] === 0x02 || bytes[0] === 0x03)) {
      x = bytesToBigInt(bytes.subarray(1));
      if (x >= P) invalidKey('x coordinate out of range');
      const yy = decompressY(x, bytes[0] === 0x03);
      if (yy === undefined) invalidKey('compressed point is not on the SM2 curve');
      y = yy;
    } else {
      invalidKey('a public key point is 65 bytes (04‖x‖y) or 33 bytes (02/03‖x)');
    }
    if (!isOnCurve(x, y)) invalidKey('point is not on the SM2 curve');
    return new Sm2PublicKey(concat(Uint8Array.of(4), bigIntToBytes(x, 32), bigIntToBytes(y, 32)));
  }

  static fromSpki(der: Uint8Array): Sm2PublicKey {
    const top = children(readOnly(der, TAG.SEQUENCE));
    if (top.length !== 2) throw new GmError('GM_INVALID_DER', 'SubjectPublicKeyInfo has two fields');
    const alg = children(expectTag(top[0], TAG.SEQUENCE, 'AlgorithmIdentifier'));
    checkAlgorithm(alg);
    const point = decodeOctetAlignedBitString(expectTag(top[1], TAG.BIT_STRING, 'subjectPublicKey'));
    return Sm2PublicKey.fromPoint(point);
  }

  /** 65-byte uncompressed point, or 33-byte compressed. A copy. */
  toRaw(compressed = false): Uint8Array {
    if (!compressed) return this.#point.slice();
    const yOdd = (this.#point[64]! & 1) === 1;
    return concat(Uint8Array.of(yOdd ? 3 : 2), this.#point.subarray(1, 33));
  }

  /** The point without copying; callers must not modify it. */
  get point(): Uint8Array {
    return this.#point;
  }

  get x(): Uint8Array {
    return this.#point.slice(1, 33);
  }

  get y(): Uint8Array {
    return this.#point.slice(33, 65);
  }

  /** SubjectPublicKeyInfo DER with { id-ecPublicKey, sm2 } as OpenSSL writes it. */
  toSpki(): Uint8Array {
    return sequence(sequence(oid(OID.ecPublicKey), oid(OID.sm2)), bitString(this.#point));
  }

  toPem(): string {
    return encodePem('PUBLIC KEY', this.toSpki());
  }

  /** 130 hex digits, as `sm-crypto` writes public keys. */
  toHex(): string {
    return toHex(this.#point);
  }

  equals(other: Sm2PublicKey): boolean {
    return toHex(this.#point) === toHex(other.#point);
  }

  toJSON(): { type: 'sm2-public-key'; point: string } {
    return { type: 'sm2-public-key', point: this.toHex() };
  }
}

/** A validated SM2 private key. The scalar never leaves this module except to an engine. */
export class Sm2PrivateKey {
  readonly publicKey: Sm2PublicKey;

  private constructor(d: Uint8Array, publicKey: Sm2PublicKey) {
    secrets.set(this, d);
    this.publicKey = publicKey;
  }

  /** @internal Used by the SM2 protocol code; `derivePublic` is d·G from the engine. */
  static create(d: Uint8Array, derivePublic: (d: Uint8Array) => Uint8Array): Sm2PrivateKey {
    checkScalar(d);
    // A fresh copy: `Buffer#slice` would share (pooled) memory with the caller, who may wipe it.
    return new Sm2PrivateKey(new Uint8Array(d), Sm2PublicKey.fromPoint(derivePublic(d)));
  }

  /** PKCS#8 PrivateKeyInfo DER (unencrypted) with id-ecPublicKey + sm2, the SEC1 key inside. */
  toPkcs8(): Uint8Array {
    const sec1 = sequence(
      integer(1),
      octetString(privateScalar(this)),
      explicit(1, bitString(this.publicKey.point)),
    );
    return sequence(integer(0), sequence(oid(OID.ecPublicKey), oid(OID.sm2)), octetString(sec1));
  }

  /** SEC1 ECPrivateKey DER with the curve parameters and the public key. */
  toSec1(): Uint8Array {
    return sequence(
      integer(1),
      octetString(privateScalar(this)),
      explicit(0, oid(OID.sm2)),
      explicit(1, bitString(this.publicKey.point)),
    );
  }

  toPem(format: 'pkcs8' | 'sec1' = 'pkcs8'): string {
    return format === 'pkcs8'
      ? encodePem('PRIVATE KEY', this.toPkcs8())
      : encodePem('EC PRIVATE KEY', this.toSec1());
  }

  /** 64 hex digits, as `sm-crypto` writes private keys. Handle with care. */
  toHex(): string {
    return toHex(privateScalar(this));
  }

  toJSON(): { type: 'sm2-private-key'; redacted: true } {
    return { type: 'sm2-private-key', redacted: true };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Sm2PrivateKey <redacted>';
  }
}

/** @internal The 32-byte scalar d of a private key (for engines). */
export function privateScalar(key: Sm2PrivateKey): Uint8Array {
  const d = secrets.get(key);
  if (!d) throw new GmError('GM_INVALID_KEY', 'not an Sm2PrivateKey created by this package');
  return d;
}

/** d ∈ [1, n-2], 32 bytes. */
export function checkScalar(d: Uint8Array): void {
  if (d.length !== FIELD_BYTES) invalidKey('an SM2 private key is 32 bytes');
  const v = bytesToBigInt(d);
  if (v < 1n || v > N - 2n) invalidKey('private key out of range [1, n-2]');
}

function checkAlgorithm(alg: Tlv[]): void {
  const algOid = decodeOid(expectTag(alg[0], TAG.OID, 'algorithm'));
  const param = alg[1];
  const paramOid = param && param.tag === TAG.OID ? decodeOid(param.value) : undefined;
  if (alg.length > 2) throw new GmError('GM_INVALID_DER', 'AlgorithmIdentifier has at most two fields');
  if (algOid === OID.ecPublicKey) {
    if (paramOid !== OID.sm2)
      throw new GmError('GM_UNSUPPORTED_KEY', `EC key on curve ${paramOid ?? '(none)'}, not SM2`);
    return;
  }
  if (algOid === OID.sm2) {
    if (param !== undefined && param.tag !== TAG.NULL && paramOid !== OID.sm2) {
      throw new GmError('GM_UNSUPPORTED_KEY', 'SM2 algorithm with unexpected parameters');
    }
    return;
  }
  throw new GmError('GM_UNSUPPORTED_KEY', `key algorithm ${algOid} is not SM2`);
}

/** Parsed private key material: the scalar and, if the container carried one, the public point. */
export interface PrivateKeyMaterial {
  d: Uint8Array;
  publicPoint?: Uint8Array;
}

function parseSec1(der: Uint8Array, outerCurveChecked: boolean): PrivateKeyMaterial {
  const f = children(readOnly(der, TAG.SEQUENCE));
  if (decodeSmallInteger(expectTag(f[0], TAG.INTEGER, 'ECPrivateKey.version')) !== 1) {
    throw new GmError('GM_INVALID_DER', 'ECPrivateKey version must be 1');
  }
  let d = expectTag(f[1], TAG.OCTET_STRING, 'ECPrivateKey.privateKey');
  // Some encoders drop leading zero bytes of d; left-pad to 32.
  if (d.length < 32) d = concat(new Uint8Array(32 - d.length), d);
  let publicPoint: Uint8Array | undefined;
  let curveSeen = outerCurveChecked;
  for (const t of f.slice(2)) {
    if (t.tag === 0xa0) {
      const c = decodeOid(readOnly(t.value, TAG.OID));
      if (c !== OID.sm2) throw new GmError('GM_UNSUPPORTED_KEY', `EC key on curve ${c}, not SM2`);
      curveSeen = true;
    } else if (t.tag === 0xa1) {
      publicPoint = decodeOctetAlignedBitString(readOnly(t.value, TAG.BIT_STRING));
    } else throw new GmError('GM_INVALID_DER', 'unexpected field in ECPrivateKey');
  }
  if (!curveSeen) {
    // A bare SEC1 key without parameters: we cannot tell the curve; accept as SM2 only if the public point
    // it carries lies on SM2 (checked by the caller).
    if (!publicPoint)
      throw new GmError('GM_UNSUPPORTED_KEY', 'SEC1 key names no curve and carries no public key');
  }
  // Copies, never views: the caller's bytes may be a pooled Buffer, and the scalar is wiped after use.
  return publicPoint ? { d: new Uint8Array(d), publicPoint } : { d: new Uint8Array(d) };
}

function parsePkcs8(der: Uint8Array): PrivateKeyMaterial {
  const f = children(readOnly(der, TAG.SEQUENCE));
  const version = decodeSmallInteger(expectTag(f[0], TAG.INTEGER, 'PrivateKeyInfo.version'));
  if (version !== 0 && version !== 1)
    throw new GmError('GM_INVALID_DER', 'PrivateKeyInfo version must be 0 or 1');
  checkAlgorithm(children(expectTag(f[1], TAG.SEQUENCE, 'privateKeyAlgorithm')));
  return parseSec1(expectTag(f[2], TAG.OCTET_STRING, 'privateKey'), true);
}

/** Identifies the container of a DER private key: PKCS#8 starts SEQUENCE { INTEGER 0, SEQUENCE ... }. */
function parsePrivateDer(der: Uint8Array): PrivateKeyMaterial {
  const f = children(readOnly(der, TAG.SEQUENCE));
  if (f[1]?.tag === TAG.SEQUENCE) return parsePkcs8(der);
  return parseSec1(der, false);
}

export type KeyInput = Uint8Array | string;

/**
 * Parses private key material from PKCS#8 or SEC1 (DER or PEM), 32 raw bytes, or 64 hex digits.
 * Range checks on d happen in {@link Sm2PrivateKey.create}.
 */
export function parsePrivateKey(input: KeyInput): PrivateKeyMaterial {
  if (typeof input === 'string') {
    const text = input.trim();
    if (isPem(text)) {
      const { label, der } = decodePem(text);
      if (label === 'PRIVATE KEY') return parsePkcs8(der);
      if (label === 'EC PRIVATE KEY') return parseSec1(der, false);
      if (label === 'ENCRYPTED PRIVATE KEY') {
        throw new GmError('GM_UNSUPPORTED_KEY', 'encrypted PKCS#8 is not supported; decrypt it first');
      }
      throw new GmError('GM_INVALID_PEM', `unexpected PEM label ${label} for a private key`);
    }
    if (/^[0-9a-fA-F]{64}$/.test(text)) return { d: fromHex(text) };
    invalidKey('a private key is PEM, DER, 32 raw bytes or 64 hex digits');
  }
  if (input.length === 32) return { d: new Uint8Array(input) };
  if (input.length > 0 && input[0] === TAG.SEQUENCE) return parsePrivateDer(input);
  invalidKey('a private key is PEM, DER, 32 raw bytes or 64 hex digits');
}

/** Parses a public key from SPKI (DER or PEM), a raw point (65/33 bytes), or its hex (130/66 digits). */
export function parsePublicKey(input: KeyInput): Sm2PublicKey {
  if (typeof input === 'string') {
    const text = input.trim();
    if (isPem(text)) {
      const { label, der } = decodePem(text);
      if (label !== 'PUBLIC KEY')
        throw new GmError('GM_INVALID_PEM', `unexpected PEM label ${label} for a public key`);
      return Sm2PublicKey.fromSpki(der);
    }
    if (/^[0-9a-fA-F]+$/.test(text) && (text.length === 130 || text.length === 66)) {
      return Sm2PublicKey.fromPoint(fromHex(text));
    }
    if (/^[0-9a-fA-F]{128}$/.test(text)) return Sm2PublicKey.fromPoint(fromHex('04' + text));
    invalidKey('a public key is PEM, DER (SPKI), a raw point or its hex');
  }
  if (
    (input.length === 65 && input[0] === 4) ||
    (input.length === 33 && (input[0] === 2 || input[0] === 3))
  ) {
    return Sm2PublicKey.fromPoint(input);
  }
  if (input.length > 0 && input[0] === TAG.SEQUENCE) return Sm2PublicKey.fromSpki(input);
  invalidKey('a public key is PEM, DER (SPKI), a raw point or its hex');
}
