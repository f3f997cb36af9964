/**
 * Signers: a private key with the signature algorithm it produces, as certificate, CRL and CMS builders need
 * it. RSA PKCS#1 v1.5 (RFC 8017 §8.2) and ECDSA P-256 / P-384 (FIPS 186-4, DER Ecdsa-Sig-Value) go through
 * node:crypto; SM2 (GB/T 32918.2, SM3withSM2 1.2.156.10197.1.501 per GM/T 0009, with the signer ID
 * 1234567812345678 unless another is given) goes through `@yizheng/gm` — never node's `crypto.sign`, which
 * hashes SM2 with an empty user ID.
 *
 *   PrivateKeyInfo ::= SEQUENCE { version Version, privateKeyAlgorithm AlgorithmIdentifier,
 *                                 privateKey OCTET STRING, attributes [0] IMPLICIT Attributes OPTIONAL }
 *                                                                                       (RFC 5208 §5)
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import * as asn1js from 'asn1js';
import { sm2 as defaultSm2, type Sm2, type Sm2PrivateKey } from '@yizheng/gm';
import { DIGEST_OID, OID, keyKind } from './algorithms.js';
import { PkiError } from './errors.js';

/** Something that signs: the builders ask it for its algorithm identifiers and its public key. */
export interface Signer {
  readonly keyKind: 'sm2' | 'rsa' | 'ecdsa';
  /** signatureAlgorithm OID written into certificates, CRLs and SignerInfos. */
  readonly signatureAlgorithm: string;
  /** digestAlgorithm OID (the hash the signature algorithm uses). */
  readonly digestAlgorithm: string;
  /** The signer's SubjectPublicKeyInfo, DER. */
  readonly publicKeyInfo: Uint8Array;
  /** Signs `data` (hashing it as the algorithm says); ECDSA and SM2 signatures are DER. */
  sign(data: Uint8Array): Uint8Array;
}

export type SignerHash = 'sha256' | 'sha384' | 'sha512';

export interface SignerOptions {
  /** Hash for RSA (default sha256) and ECDSA (default: sha256 for P-256, sha384 for P-384). */
  readonly hash?: SignerHash;
  /** SM2 signer ID (default 1234567812345678, GM/T 0009). */
  readonly sm2Id?: string | Uint8Array;
  /** The SM2 implementation (default: `@yizheng/gm`'s process default). */
  readonly sm2?: Sm2;
}

const RSA_SIG: Readonly<Record<SignerHash, string>> = {
  sha256: OID.sha256WithRSA,
  sha384: OID.sha384WithRSA,
  sha512: OID.sha512WithRSA,
};
const ECDSA_SIG: Readonly<Record<SignerHash, string>> = {
  sha256: OID.ecdsaWithSHA256,
  sha384: OID.ecdsaWithSHA384,
  sha512: OID.ecdsaWithSHA512,
};

function invalidKey(message: string, cause?: unknown): PkiError {
  return new PkiError('PKI_INVALID_ARGUMENT', message, cause === undefined ? undefined : { cause });
}

/** A signer for an SM2 private key from `@yizheng/gm` (SM3withSM2, SPKI {id-ecPublicKey, sm2 curve}). */
export function signerFromSm2Key(key: Sm2PrivateKey, options: SignerOptions = {}): Signer {
  const engine = options.sm2 ?? defaultSm2;
  const id = options.sm2Id;
  return {
    keyKind: 'sm2',
    signatureAlgorithm: OID.sm3WithSm2,
    digestAlgorithm: OID.sm3,
    publicKeyInfo: key.publicKey.toSpki(),
    sign: (data) => engine.sign(key, data, id === undefined ? {} : { id }),
  };
}

/** The DER of an SM2 private key (PKCS#8 with {id-ecPublicKey, sm2} or {sm2}, or SEC1 on sm2), else undefined. */
function sm2KeyDer(key: KeyObject): Uint8Array | undefined {
  const type = key.asymmetricKeyType as string | undefined;
  // OpenSSL 3 loads SM2 keys as its own key type, which node 20 reports as undefined (or 'sm2').
  if (
    type !== undefined &&
    type !== 'sm2' &&
    !(type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'SM2')
  )
    return undefined;
  let der: Uint8Array;
  try {
    der = new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
  } catch (e) {
    throw invalidKey('cannot export the private key', e);
  }
  let info: PrivateKeyInfo;
  try {
    info = AsnConvert.parse(der, PrivateKeyInfo);
  } catch (e) {
    throw invalidKey('not a PKCS#8 private key', e);
  }
  const alg = info.privateKeyAlgorithm;
  const param = alg.parameters ? asn1js.fromBER(alg.parameters).result : undefined;
  const curve = param instanceof asn1js.ObjectIdentifier ? param.getValue() : undefined;
  if (alg.algorithm === OID.sm2Curve || (alg.algorithm === OID.ecPublicKey && curve === OID.sm2Curve))
    return der;
  return undefined;
}

/** A signer for a node:crypto private KeyObject: RSA, EC P-256 / P-384, or SM2 (handed to `@yizheng/gm`). */
export function signerFromKeyObject(key: KeyObject, options: SignerOptions = {}): Signer {
  if (key.type !== 'private') throw invalidKey('a signer needs a private key');
  const sm2Der = sm2KeyDer(key);
  if (sm2Der !== undefined) {
    let sm2Key: Sm2PrivateKey;
    try {
      sm2Key = (options.sm2 ?? defaultSm2).importPrivateKey(sm2Der);
    } catch (e) {
      throw invalidKey('not a valid SM2 private key', e);
    }
    return signerFromSm2Key(sm2Key, options);
  }
  const publicKeyInfo = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }));
  if (key.asymmetricKeyType === 'rsa') {
    const hash = options.hash ?? 'sha256';
    return {
      keyKind: 'rsa',
      signatureAlgorithm: RSA_SIG[hash],
      digestAlgorithm: DIGEST_OID[hash],
      publicKeyInfo,
      sign: (data) => new Uint8Array(nodeSign(hash, data, key)),
    };
  }
  if (key.asymmetricKeyType === 'ec') {
    const kind = keyKind(publicKeyInfo);
    if (kind !== 'ec-p256' && kind !== 'ec-p384')
      throw new PkiError('PKI_UNSUPPORTED_ALGORITHM', `unsupported EC key ${kind}`);
    const hash = options.hash ?? (kind === 'ec-p256' ? 'sha256' : 'sha384');
    return {
      keyKind: 'ecdsa',
      signatureAlgorithm: ECDSA_SIG[hash],
      digestAlgorithm: DIGEST_OID[hash],
      publicKeyInfo,
      sign: (data) => new Uint8Array(nodeSign(hash, data, { key, dsaEncoding: 'der' })),
    };
  }
  throw new PkiError(
    'PKI_UNSUPPORTED_ALGORITHM',
    `unsupported private key type ${key.asymmetricKeyType ?? '(none)'}`,
  );
}

/** DER private key: PKCS#8, else SEC1 ECPrivateKey, else PKCS#1 RSAPrivateKey. */
function derPrivateKey(der: Uint8Array): KeyObject {
  const key = Buffer.from(der);
  let first: unknown;
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key, format: 'der', type });
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

/**
 * A signer from an unencrypted private key, PEM ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY") or DER
 * (PKCS#8): RSA, EC P-256 / P-384 or SM2. Throws PKI_INVALID_ARGUMENT for a key that cannot be read and
 * PKI_UNSUPPORTED_ALGORITHM for other key types.
 */
export function signerFromPrivateKey(input: Uint8Array | string, options: SignerOptions = {}): Signer {
  let key: KeyObject;
  try {
    if (typeof input === 'string') key = createPrivateKey({ key: input, format: 'pem' });
    else if (input[0] === 0x2d /* '-' of a PEM */) {
      key = createPrivateKey({ key: Buffer.from(input).toString('utf8'), format: 'pem' });
    } else key = derPrivateKey(input);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw invalidKey('not a readable unencrypted private key (PKCS#8, PKCS#1 or SEC1)', e);
  }
  return signerFromKeyObject(key, options);
}
