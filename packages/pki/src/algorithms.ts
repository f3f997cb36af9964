/**
 * Signature and digest algorithms, in one place. RSA PKCS#1 v1.5 (RFC 8017 §8.2) and ECDSA (FIPS 186-4, P-256 /
 * P-384) go through node:crypto with KeyObjects made from the SubjectPublicKeyInfo; SM2 (GB/T 32918.2,
 * SM3withSM2 per GM/T 0009 with the default user ID 1234567812345678) goes through an injected
 * {@link Sm2Provider} — never node's `crypto.sign`/`verify`, which hash with an empty user ID.
 *
 *   SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }  (RFC 5280 §4.1)
 */
import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { BytesCache } from './bytes-cache.js';
import { parseDer, scanDer } from './der.js';
import { PkiError } from './errors.js';

export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1WithRSA: '1.2.840.113549.1.1.5',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA1: '1.2.840.10045.4.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  /** SM2 curve (GM/T 0006), also used by some vendors as the key algorithm itself. */
  sm2Curve: '1.2.156.10197.1.301',
  /** sm2sign (GM/T 0006 / GM/T 0010 SignerInfo signatureAlgorithm). */
  sm2Sign: '1.2.156.10197.1.301.1',
  sm3WithSm2: '1.2.156.10197.1.501',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  sm3: '1.2.156.10197.1.401',
} as const;

export type DigestName = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sm3';
export type KeyKind = 'rsa' | 'ec-p256' | 'ec-p384' | 'sm2';

const DIGEST_BY_OID = new Map<string, DigestName>([
  [OID.sha1, 'sha1'],
  [OID.sha256, 'sha256'],
  [OID.sha384, 'sha384'],
  [OID.sha512, 'sha512'],
  [OID.sm3, 'sm3'],
]);

export const DIGEST_OID: Readonly<Record<DigestName, string>> = {
  sha1: OID.sha1,
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
  sm3: OID.sm3,
};

/** The signature algorithms: which key kind and which digest (undefined: taken from the CMS digestAlgorithm). */
const SIGNATURE_BY_OID = new Map<string, { keys: readonly KeyKind[]; digest: DigestName | undefined }>([
  [OID.sha1WithRSA, { keys: ['rsa'], digest: 'sha1' }],
  [OID.sha256WithRSA, { keys: ['rsa'], digest: 'sha256' }],
  [OID.sha384WithRSA, { keys: ['rsa'], digest: 'sha384' }],
  [OID.sha512WithRSA, { keys: ['rsa'], digest: 'sha512' }],
  [OID.rsaEncryption, { keys: ['rsa'], digest: undefined }],
  [OID.ecdsaWithSHA1, { keys: ['ec-p256', 'ec-p384'], digest: 'sha1' }],
  [OID.ecdsaWithSHA256, { keys: ['ec-p256', 'ec-p384'], digest: 'sha256' }],
  [OID.ecdsaWithSHA384, { keys: ['ec-p256', 'ec-p384'], digest: 'sha384' }],
  [OID.ecdsaWithSHA512, { keys: ['ec-p256', 'ec-p384'], digest: 'sha512' }],
  [OID.ecPublicKey, { keys: ['ec-p256', 'ec-p384'], digest: undefined }],
  [OID.sm3WithSm2, { keys: ['sm2'], digest: 'sm3' }],
  [OID.sm2Sign, { keys: ['sm2'], digest: 'sm3' }],
  [OID.sm2Curve, { keys: ['sm2'], digest: 'sm3' }],
]);

/**
 * SM2 as this package needs it; `@yizheng/gm` satisfies it through {@link gmSm2Provider} in `sm2.ts`. The
 * message is hashed with Z(ID) ‖ M (GB/T 32918.2 §6.1); the signature is a DER SM2Signature.
 */
export interface Sm2Provider {
  verify(spki: Uint8Array, message: Uint8Array, signature: Uint8Array, id?: Uint8Array | string): boolean;
  sm3(data: Uint8Array): Uint8Array;
}

export interface AlgorithmPolicy {
  /** Accept SHA-1 signatures and digests (default false). */
  readonly allowSha1?: boolean;
  /** SM2 implementation; required for SM2 keys. */
  readonly sm2?: Sm2Provider;
  /** SM2 signer ID (default 1234567812345678). */
  readonly sm2Id?: Uint8Array | string;
}

export function digestName(oid: string, policy: AlgorithmPolicy = {}): DigestName {
  const name = DIGEST_BY_OID.get(oid);
  if (name === undefined) throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `unknown digest algorithm ${oid}`);
  if (name === 'sha1' && policy.allowSha1 !== true) {
    throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', 'SHA-1 is not allowed here');
  }
  return name;
}

export function digest(name: DigestName, data: Uint8Array, policy: AlgorithmPolicy = {}): Uint8Array {
  if (name === 'sm3') {
    if (policy.sm2 !== undefined) return policy.sm2.sm3(data);
    return new Uint8Array(createHash('sm3').update(data).digest());
  }
  return new Uint8Array(createHash(name).update(data).digest());
}

/**
 * Key kinds already worked out, by the exact SPKI bytes (a pure memo: the same bytes always give the same kind,
 * and failures are not kept, so they are re-parsed and fail again). Bounded: at most {@link KEY_KIND_MAX}
 * entries of SPKIs up to {@link KEY_KIND_MAX_SPKI} bytes, the oldest dropped first.
 */
const keyKinds = new BytesCache<KeyKind>(1024);
const KEY_KIND_MAX_SPKI = 2048;

/** The key kind of a SubjectPublicKeyInfo (RSA, EC P-256/P-384, SM2). */
export function keyKind(spki: Uint8Array): KeyKind {
  if (spki.length > KEY_KIND_MAX_SPKI) return parseKeyKind(spki);
  let kind = keyKinds.get(spki);
  if (kind === undefined) {
    kind = parseKeyKind(spki);
    keyKinds.set(spki, kind);
  }
  return kind;
}

function parseKeyKind(spki: Uint8Array): KeyKind {
  const info = parseDer(spki, SubjectPublicKeyInfo);
  const alg = info.algorithm.algorithm;
  if (alg === OID.rsaEncryption) return 'rsa';
  if (alg === OID.sm2Curve) return 'sm2';
  if (alg === OID.ecPublicKey) {
    const params = info.algorithm.parameters;
    let curve: string | undefined;
    if (params) {
      const parsed = asn1js.fromBER(params);
      if (parsed.offset !== -1 && parsed.result instanceof asn1js.ObjectIdentifier) {
        curve = parsed.result.getValue();
      }
    }
    if (curve === OID.p256) return 'ec-p256';
    if (curve === OID.p384) return 'ec-p384';
    if (curve === OID.sm2Curve) return 'sm2';
    throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `unsupported EC curve ${curve ?? '(none)'}`);
  }
  throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `unsupported key algorithm ${alg}`);
}

function nodeKey(spki: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', 'public key is not a valid SubjectPublicKeyInfo', { cause: e });
  }
}

export function isKnownSignatureAlgorithm(algorithm: string): boolean {
  return SIGNATURE_BY_OID.has(algorithm);
}

/** Whether `spki` is a key of the kind `algorithm` needs (false for unknown algorithms). */
export function fitsKey(algorithm: string, spki: Uint8Array): boolean {
  const sig = SIGNATURE_BY_OID.get(algorithm);
  return sig !== undefined && sig.keys.includes(keyKind(spki));
}

export interface SignatureInput {
  /** signatureAlgorithm OID (certificate, CRL, SignerInfo). */
  readonly algorithm: string;
  /** CMS digestAlgorithm OID, used when the signature OID names only the key (rsaEncryption, sm2). */
  readonly digestAlgorithm?: string;
  /** The signer's SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  /** The exact bytes that were signed. */
  readonly data: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Verifies a signature. Returns false when the signature does not verify (including a signature value that is
 * not strict DER); throws PKI_UNSUPPORTED_ALGORITHM for unknown or disallowed algorithms or a key that does not
 * fit the algorithm.
 */
export function verifySignature(input: SignatureInput, policy: AlgorithmPolicy = {}): boolean {
  const sig = SIGNATURE_BY_OID.get(input.algorithm);
  if (sig === undefined) {
    throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `unknown signature algorithm ${input.algorithm}`);
  }
  const kind = keyKind(input.spki);
  if (!sig.keys.includes(kind)) {
    throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `a ${kind} key cannot verify ${input.algorithm}`);
  }
  let hash = sig.digest;
  if (
    hash === undefined ||
    (kind !== 'sm2' && input.digestAlgorithm !== undefined && sig.digest === undefined)
  ) {
    if (input.digestAlgorithm === undefined) {
      throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `${input.algorithm} needs a digest algorithm`);
    }
    hash = digestName(input.digestAlgorithm, policy);
  }
  if (hash === 'sha1' && policy.allowSha1 !== true) {
    throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', 'SHA-1 signatures are not allowed here');
  }
  if (kind === 'sm2') {
    if (hash !== 'sm3') throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `SM2 with ${hash} is not supported`);
    if (policy.sm2 === undefined)
      throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', 'no SM2 provider configured');
    try {
      return policy.sm2.verify(input.spki, input.data, input.signature, policy.sm2Id);
    } catch {
      return false; // malformed signature encoding
    }
  }
  if (hash === 'sm3') throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `${kind} with SM3 is not supported`);
  const key = nodeKey(input.spki);
  if (kind !== 'rsa') {
    // ECDSA-Sig-Value must be strict DER: a non-minimal encoding is a different (malleated) signature.
    try {
      scanDer(input.signature, { maxDepth: 2, maxSize: 256 });
    } catch {
      return false;
    }
  }
  try {
    return nodeVerify(hash, input.data, kind === 'rsa' ? key : { key, dsaEncoding: 'der' }, input.signature);
  } catch {
    return false;
  }
}
