/**
 * Pre-verification off the event loop: the SM2 signatures of a batch of signature checks — raw signatures with
 * their signer certificate, and the SM2 signers of CMS SignedData — are verified with `sm2.verifyBatchAsync`
 * (curve arithmetic on the libuv thread pool, the batch split so that every core works), and every signature
 * that verified is remembered with its exact public key, message and ID. The checks then run as usual
 * (verify-signature.ts: certificate, validity, revocation, digests, summary) with an {@link Sm2Provider} that
 * answers `true` for exactly those remembered (key, message, signature) triples and verifies anything else
 * itself. Nothing is assumed: a triple is remembered only after the engine verified it, and a signature that did
 * not verify (or could not be pre-verified) is checked again on the synchronous path, which names the failure.
 *
 * The message of a triple is what the check hands the provider: a raw signature's original; a CMS signer's
 * signed attributes as DER with the SET tag (RFC 5652 §5.4), or the content itself when it has none.
 */
import { availableParallelism } from 'node:os';
import { sm2, type Sm2PublicKey, type VerifyBatchItem } from '@yizheng/gm';
import {
  cachedSm2Provider,
  findSignerCertificate,
  type ParsedCertificate,
  type ParsedSignedData,
  type Sm2Provider,
} from '@yizheng/pki';
import { bytesKey, memoByBytes } from './bytes-memo.js';
import { parseCms, readCertificate, type SignatureCheckInput, type TrustConfig } from './verify-signature.js';

interface Verified {
  spki: Buffer;
  message: Buffer;
}

const MAX_REMEMBERED = 20_000;

/** The bytes as a Buffer over the same memory (no copy). */
const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Signatures (DER) that verified, with what they verified against. */
export class VerifiedSignatures {
  readonly #entries = new Map<string, Verified>();

  /** Remembers a triple that verified; the bytes are kept as given (views, not copies: never written to). */
  add(signature: Uint8Array, spki: Uint8Array, message: Uint8Array): string {
    const k = bytesKey(signature);
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
    const e = this.#entries.get(bytesKey(signature));
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

/**
 * SM2 public keys by SubjectPublicKeyInfo (a hospital's signers are a few thousand doctors); null: not SM2 (RSA,
 * ECDSA) or unreadable — left to the synchronous check, which names the problem.
 */
const sm2KeyOf = memoByBytes<Sm2PublicKey | null>(10_000, (spki) => {
  try {
    return sm2.importPublicKey(spki);
  } catch {
    return null;
  }
});

/** What a check needs to find its SM2 triples: the pushed signature, certificates and original. */
export type PreverifyInput = Pick<
  SignatureCheckInput,
  'format' | 'signature' | 'certificates' | 'original' | 'originalDigest' | 'algorithm'
>;

type Item = VerifyBatchItem & { spki: Uint8Array; message: Uint8Array; signature: Uint8Array };

function push(items: Item[], cert: ParsedCertificate | undefined, message: Uint8Array, sig: Uint8Array) {
  if (cert === undefined) return;
  const publicKey = sm2KeyOf(cert.spki);
  if (publicKey !== null) items.push({ publicKey, spki: cert.spki, message, signature: sig });
}

/**
 * The (key, message, signature) triples the check of `input` will ask the SM2 provider about, as far as known;
 * returns a CMS as parsed (for the check to reuse), undefined for a raw signature or an unreadable CMS.
 */
function triplesOf(input: PreverifyInput, items: Item[]): ParsedSignedData | undefined {
  if (input.format === 'raw') {
    const [signer] = input.certificates;
    // An explicit algorithm, or a digest beside the original, takes the synchronous path as it is.
    if (signer === undefined || input.original === undefined || input.algorithm !== undefined) return;
    if (input.originalDigest !== undefined) return;
    push(items, readCertificate(signer), input.original, input.signature);
    return;
  }
  let sd: ParsedSignedData;
  try {
    sd = parseCms(input.signature); // the checks' own reader: the same rules, the same certificate cache
  } catch {
    return; // refused by the synchronous check with its reason
  }
  const content = sd.content ?? input.original;
  let certs: readonly ParsedCertificate[] = sd.certificates;
  if (input.certificates.length > 0) {
    const extra = input.certificates
      .map(readCertificate)
      .filter((c): c is ParsedCertificate => c !== undefined);
    certs = [...certs, ...extra];
  }
  for (const s of sd.signers) {
    const message = s.signedAttrs ?? content;
    if (message === undefined) continue;
    push(items, findSignerCertificate(s, certs), message, s.signature);
  }
  return sd;
}

/** How many slices a batch is cut into, so the libuv pool verifies them in parallel. */
const SLICES = Math.max(1, Math.min(availableParallelism(), 4));

/**
 * Verifies the SM2 signatures the checks of `inputs` will need on the thread pool and remembers those that
 * verified in `into`; returns the remembered keys (to forget them once the checks are done), the count, and per
 * input its CMS as parsed (`SignatureCheckInput.parsedCms`, so the check does not parse it again).
 * Never rejects: whatever cannot be read or pre-verified is left to the synchronous check.
 */
export async function preverifySignatures(
  inputs: readonly PreverifyInput[],
  into: VerifiedSignatures,
): Promise<{ keys: string[]; verified: number; parsed: (ParsedSignedData | undefined)[] }> {
  const items: Item[] = [];
  const parsed = inputs.map((input) => triplesOf(input, items));
  if (items.length === 0) return { keys: [], verified: 0, parsed };
  const size = Math.ceil(items.length / SLICES);
  const slices: Item[][] = [];
  for (let i = 0; i < items.length; i += size) slices.push(items.slice(i, i + size));
  let results: boolean[];
  try {
    results = (await Promise.all(slices.map((s) => sm2.verifyBatchAsync(s)))).flat();
  } catch {
    // An item the engine cannot take, or the engine failing: nothing is remembered, and the synchronous checks
    // verify every signature themselves (and name what is wrong), as without pre-verification.
    return { keys: [], verified: 0, parsed };
  }
  const keys: string[] = [];
  results.forEach((ok, i) => {
    const it = items[i]!;
    if (ok) keys.push(into.add(it.signature, it.spki, it.message));
  });
  return { keys, verified: keys.length, parsed };
}

const TRUSTS = new WeakMap<TrustConfig, { trust: TrustConfig; verified: VerifiedSignatures }>();

/** `trust` with the pre-verified provider (one per configuration), and the triples it answers from. */
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
