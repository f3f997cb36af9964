/**
 * SM2 signers and verifiers for signed notes (checkpoints), GB/T 32918.2 with SM3 and the GM/T 0009 default user
 * ID `1234567812345678`; signatures are DER SM2Signature (GM/T 0009 §7.2).
 *
 * Key ID. C2SP signed-note recommends SHA-256(key name || 0x0A || signature type || public key)[:4], and assigns
 * type 0xff to algorithms without a byte of their own, "followed by a longer identifier". Yizheng uses
 *
 *     key ID = SM3(key name || 0x0A || 0xff || "yizheng-sm2" || SubjectPublicKeyInfo DER)[:4]
 *
 * SM3 rather than SHA-256 keeps the platform on national algorithms end to end (the key ID is an identifier,
 * not a security boundary: the verifier is configured with the full public key). The SPKI is the GM/T 0015
 * form (id-ecPublicKey with the SM2 curve OID), as `Sm2PublicKey.toSpki()` produces.
 *
 * The SM2 implementation is injected: pass `sm2` and `sm3` from `@yizheng/gm` (Node) or `@yizheng/gm/browser`.
 */
import { concatBytes } from './bytes.js';
import { LedgerError } from './errors.js';
import type { NoteSigner, NoteVerifier } from './checkpoint.js';

/** Signature type byte for "an algorithm without an assigned byte", then Yizheng's identifier. */
export const SM2_NOTE_SIGNATURE_TYPE = new Uint8Array([0xff, ...new TextEncoder().encode('yizheng-sm2')]);

interface Sm2SignatureOptions {
  id?: string | Uint8Array;
  format?: 'der' | 'raw';
}

/** The part of `@yizheng/gm`'s SM2 API a note signer uses. */
export interface Sm2NoteApi<PrivateKey, PublicKey> {
  sign(privateKey: PrivateKey, message: Uint8Array, options?: Sm2SignatureOptions): Uint8Array;
  verify(
    publicKey: PublicKey,
    message: Uint8Array,
    signature: Uint8Array,
    options?: Sm2SignatureOptions,
  ): boolean;
}

/** An SM2 public key that can give its SubjectPublicKeyInfo DER. */
export interface SpkiKey {
  toSpki(): Uint8Array;
}

export interface Sm2NoteDeps<PrivateKey, PublicKey extends SpkiKey> {
  readonly sm2: Sm2NoteApi<PrivateKey, PublicKey>;
  readonly sm3: (data: Uint8Array) => Uint8Array;
}

/** The 4-byte key ID of an SM2 note key (see the module comment). */
export function sm2NoteKeyId(
  sm3: (data: Uint8Array) => Uint8Array,
  name: string,
  spki: Uint8Array,
): Uint8Array {
  if (typeof name !== 'string' || name === '')
    throw new LedgerError('LEDGER_BAD_ARGUMENT', 'key name is empty');
  const digest = sm3(
    concatBytes(new TextEncoder().encode(name), new Uint8Array([0x0a]), SM2_NOTE_SIGNATURE_TYPE, spki),
  );
  return digest.slice(0, 4);
}

/** A note signer for the platform's SM2 key. */
export function createSm2NoteSigner<PrivateKey, PublicKey extends SpkiKey>(
  deps: Sm2NoteDeps<PrivateKey, PublicKey>,
  key: { readonly name: string; readonly privateKey: PrivateKey; readonly publicKey: PublicKey },
): NoteSigner {
  const keyId = sm2NoteKeyId(deps.sm3, key.name, key.publicKey.toSpki());
  return {
    name: key.name,
    keyId,
    sign: (message) => deps.sm2.sign(key.privateKey, message, { format: 'der' }),
  };
}

/** A note verifier for a trusted SM2 public key. */
export function createSm2NoteVerifier<PrivateKey, PublicKey extends SpkiKey>(
  deps: Sm2NoteDeps<PrivateKey, PublicKey>,
  key: { readonly name: string; readonly publicKey: PublicKey },
): NoteVerifier {
  const keyId = sm2NoteKeyId(deps.sm3, key.name, key.publicKey.toSpki());
  return {
    name: key.name,
    keyId,
    verify: (message, signature) => deps.sm2.verify(key.publicKey, message, signature, { format: 'der' }),
  };
}
