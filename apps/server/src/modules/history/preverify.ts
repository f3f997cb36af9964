/**
 * Pre-verification of a history batch off the event loop: the raw SM2 signatures of a batch are verified with
 * `sm2.verifyBatchAsync` (curve arithmetic on the libuv thread pool, the batch split so that both cores work),
 * and every signature that verified is remembered with its exact public key, message and ID. The ingest path
 * then runs its usual checks (certificate, validity, revocation, summary) with an {@link Sm2Provider} that
 * answers `true` for exactly those remembered (key, message, signature) triples and verifies anything else itself.
 * Nothing is assumed: a triple is remembered only after the engine verified it, and a signature that did not
 * verify (or could not be pre-verified) is checked again on the synchronous path, which names the failure.
 */
import { sm2, type Sm2PublicKey, type VerifyBatchItem } from '@yizheng/gm';
import { cachedSm2Provider, fromPem, parseCertificate, type Sm2Provider } from '@yizheng/pki';
import type { TrustConfig } from '../../evidence/verify-signature.js';
import type { SignaturePushBody } from '../evidence/schema.js';

interface Verified {
  spki: Buffer;
  message: Buffer;
}

const MAX_REMEMBERED = 20_000;

/** The bytes as a Buffer over the same memory (no copy). */
const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
/** A signature's map key: its bytes one character each (exact, and cheaper than base64). */
const keyOf = (signature: Uint8Array): string => view(signature).toString('latin1');

/** Signatures (DER) that verified, with what they verified against. */
export class VerifiedSignatures {
  readonly #entries = new Map<string, Verified>();

  /** Remembers a triple that verified; the bytes are kept as given (views, not copies: never written to). */
  add(signature: Uint8Array, spki: Uint8Array, message: Uint8Array): string {
    const k = keyOf(signature);
    if (this.#entries.size >= MAX_REMEMBERED) this.#entries.clear(); // only ever costs a second verification
    this.#entries.set(k, { spki: view(spki), message: view(message) });
    return k;
  }

  /** Whether exactly this triple verified (default SM2 ID only: the one the pre-verification used). */
  has(
    spki: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
    id: Uint8Array | string | undefined,
  ): boolean {
    if (id !== undefined) return false;
    const e = this.#entries.get(keyOf(signature));
    return e !== undefined && e.spki.equals(spki) && e.message.equals(message);
  }

  delete(keys: readonly string[]): void {
    for (const k of keys) this.#entries.delete(k);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** An SM2 provider answering remembered triples from `verified`, everything else with `fallback`. */
export function preverifiedSm2Provider(verified: VerifiedSignatures, fallback: Sm2Provider): Sm2Provider {
  return {
    verify(spki, message, signature, id) {
      if (verified.has(spki, message, signature, id)) return true;
      return fallback.verify(spki, message, signature, id);
    },
    sm3: (data) => fallback.sm3(data),
  };
}

interface Signer {
  spki: Uint8Array;
  key: Sm2PublicKey;
}

const MAX_SIGNERS = 10_000;

/** Public keys by certificate text (a hospital's signers are a few thousand doctors); null: not SM2 / unreadable. */
const SIGNERS = new Map<string, Signer | null>();

function signerOf(certificate: string): Signer | null {
  const hit = SIGNERS.get(certificate);
  if (hit !== undefined) return hit;
  let s: Signer | null;
  try {
    const der = certificate.trimStart().startsWith('-----')
      ? fromPem(certificate)
      : new Uint8Array(Buffer.from(certificate, 'base64'));
    const spki = parseCertificate(der).spki;
    s = { spki, key: sm2.importPublicKey(spki) };
  } catch {
    s = null; // not an SM2 certificate or not one at all: left to the ingest path, which names the problem
  }
  if (SIGNERS.size >= MAX_SIGNERS) SIGNERS.clear();
  SIGNERS.set(certificate, s);
  return s;
}

/** How many slices a batch is cut into, so the libuv pool verifies them in parallel (2 cores here). */
const SLICES = 2;

/**
 * Verifies the raw SM2 signatures among `bodies` on the thread pool and remembers those that verified in
 * `into`; returns the remembered keys (to forget them once the batch is stored) and the count verified.
 */
export async function preverifyBatch(
  bodies: readonly SignaturePushBody[],
  into: VerifiedSignatures,
): Promise<{ keys: string[]; verified: number }> {
  const items: (VerifyBatchItem & { spki: Uint8Array; message: Uint8Array })[] = [];
  for (const b of bodies) {
    const cert = b.signature.certificate;
    if (b.signature.format !== 'raw' || cert === undefined || b.original === undefined) continue;
    if (b.signature.algorithm !== undefined || b.originalDigest !== undefined) continue;
    const signer = signerOf(cert);
    if (signer === null) continue;
    items.push({
      publicKey: signer.key,
      spki: signer.spki,
      message: Buffer.from(b.original, 'base64'),
      signature: Buffer.from(b.signature.value, 'base64'),
    });
  }
  if (items.length === 0) return { keys: [], verified: 0 };
  const size = Math.ceil(items.length / SLICES);
  const slices: (typeof items)[] = [];
  for (let i = 0; i < items.length; i += size) slices.push(items.slice(i, i + size));
  const results = (await Promise.all(slices.map((s) => sm2.verifyBatchAsync(s)))).flat();
  const keys: string[] = [];
  results.forEach((ok, i) => {
    const it = items[i]!;
    if (ok) keys.push(into.add(it.signature, it.spki, it.message));
  });
  return { keys, verified: keys.length };
}

const TRUSTS = new WeakMap<TrustConfig, { trust: TrustConfig; verified: VerifiedSignatures }>();

/** The trust configuration history pushes with: `trust` plus the pre-verified provider (one per configuration). */
export function preverifiedTrust(trust: TrustConfig): { trust: TrustConfig; verified: VerifiedSignatures } {
  let t = TRUSTS.get(trust);
  if (t === undefined) {
    const verified = new VerifiedSignatures();
    const fallback = trust.sm2 ?? cachedSm2Provider(10_000);
    t = { trust: { ...trust, sm2: preverifiedSm2Provider(verified, fallback) }, verified };
    TRUSTS.set(trust, t);
  }
  return t;
}
