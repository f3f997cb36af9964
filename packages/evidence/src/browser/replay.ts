/**
 * A synchronous face over asynchronous WebCrypto, by replay. `@yizheng/pki` verifies synchronously; WebCrypto
 * answers with promises. The verifier is deterministic, so it runs in passes: a question this oracle cannot
 * answer yet (an RSA/ECDSA verification, a SHA-1/384/512 digest) is recorded and given a provisional answer;
 * between passes every recorded question is answered by WebCrypto; the pass that asks nothing new is the result,
 * computed on real answers only (see {@link runWithReplay}).
 */

export type EcCurve = 'P-256' | 'P-384';
export type WebHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

type Bytes = Uint8Array<ArrayBuffer>;

interface VerifyQuestion {
  kind: 'rsa' | 'ecdsa';
  hash: WebHash;
  spki: Uint8Array;
  data: Uint8Array;
  signature: Uint8Array;
}

interface Recorded {
  kind: 'rsa' | 'ecdsa';
  hash: WebHash;
  spki: Bytes;
  data: Bytes;
  signature: Bytes;
}

const DIGEST_LENGTH: Readonly<Record<WebHash, number>> = {
  'SHA-1': 20,
  'SHA-256': 32,
  'SHA-384': 48,
  'SHA-512': 64,
};

/** At most this many passes (each adds questions; a package needs two or three). */
export const MAX_PASSES = 12;
/** At most this many distinct questions per verification. */
export const MAX_QUESTIONS = 4096;

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export class ReplayOracle {
  readonly #verdicts = new Map<string, boolean>();
  readonly #digests = new Map<string, Uint8Array>();
  #pendingVerify = new Map<string, Recorded>();
  #pendingDigest = new Map<string, { hash: WebHash; data: Bytes }>();

  constructor(private readonly subtle: SubtleCrypto) {}

  get pending(): number {
    return this.#pendingVerify.size + this.#pendingDigest.size;
  }

  verify(q: VerifyQuestion): boolean {
    const key = `${q.kind}|${q.hash}|${hex(q.spki)}|${hex(q.data)}|${hex(q.signature)}`;
    const known = this.#verdicts.get(key);
    if (known !== undefined) return known;
    this.#guard();
    this.#pendingVerify.set(key, {
      kind: q.kind,
      hash: q.hash,
      spki: new Uint8Array(q.spki),
      data: new Uint8Array(q.data),
      signature: new Uint8Array(q.signature),
    });
    return true;
  }

  digest(hash: WebHash, data: Uint8Array): Uint8Array {
    const key = `${hash}|${hex(data)}`;
    const known = this.#digests.get(key);
    if (known !== undefined) return known.slice();
    this.#guard();
    this.#pendingDigest.set(key, { hash, data: new Uint8Array(data) });
    return new Uint8Array(DIGEST_LENGTH[hash]);
  }

  /** Answers every recorded question with WebCrypto. */
  async resolve(): Promise<void> {
    const verifies = [...this.#pendingVerify];
    const digests = [...this.#pendingDigest];
    this.#pendingVerify = new Map();
    this.#pendingDigest = new Map();
    await Promise.all([
      ...verifies.map(async ([key, q]) => this.#verdicts.set(key, await this.#webVerify(q))),
      ...digests.map(async ([key, q]) =>
        this.#digests.set(key, new Uint8Array(await this.subtle.digest(q.hash, q.data))),
      ),
    ]);
  }

  #guard(): void {
    if (this.#verdicts.size + this.#digests.size + this.pending >= MAX_QUESTIONS)
      throw new Error('too many signatures to verify');
  }

  async #webVerify(q: Recorded): Promise<boolean> {
    try {
      if (q.kind === 'rsa') {
        const alg = { name: 'RSASSA-PKCS1-v1_5', hash: q.hash };
        const key = await this.subtle.importKey('spki', q.spki, alg, false, ['verify']);
        return await this.subtle.verify(alg, key, q.signature, q.data);
      }
      for (const namedCurve of ['P-256', 'P-384'] as const) {
        let key: CryptoKey;
        try {
          key = await this.subtle.importKey('spki', q.spki, { name: 'ECDSA', namedCurve }, false, ['verify']);
        } catch {
          continue;
        }
        const raw = ecdsaDerToRaw(q.signature, namedCurve === 'P-256' ? 32 : 48);
        if (raw === undefined) return false;
        return await this.subtle.verify({ name: 'ECDSA', hash: q.hash }, key, raw, q.data);
      }
      return false;
    } catch {
      return false;
    }
  }
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (DER) → r ‖ s, each `size` bytes (WebCrypto's form). */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Bytes | undefined {
  if (der[0] !== 0x30 || der[1] === undefined || der[1] >= 0x80 || der[1] !== der.length - 2)
    return undefined;
  const out = new Uint8Array(2 * size);
  let o = 2;
  for (let i = 0; i < 2; i++) {
    if (der[o] !== 0x02) return undefined;
    const len = der[o + 1];
    if (len === undefined || len === 0 || len >= 0x80 || o + 2 + len > der.length) return undefined;
    let v = der.subarray(o + 2, o + 2 + len);
    o += 2 + len;
    if (v[0]! >= 0x80) return undefined; // negative
    if (v.length > 1 && v[0] === 0 && v[1]! < 0x80) return undefined; // not minimal
    if (v[0] === 0) v = v.subarray(1);
    if (v.length > size) return undefined;
    out.set(v, (i + 1) * size - v.length);
  }
  return o === der.length ? out : undefined;
}

let current: ReplayOracle | undefined;

/** The oracle of the running pass (the node:crypto shim asks it). */
export function currentOracle(): ReplayOracle {
  if (current === undefined) throw new Error('node:crypto is only available to a verification in progress');
  return current;
}

/** Runs `pass` until it asks nothing new; its last result stands on real answers only. */
export async function runWithReplay<T>(subtle: SubtleCrypto, pass: () => T): Promise<T> {
  const oracle = new ReplayOracle(subtle);
  for (let i = 0; i < MAX_PASSES; i++) {
    current = oracle;
    let result: T;
    try {
      result = pass();
    } finally {
      current = undefined;
    }
    if (oracle.pending === 0) return result;
    await oracle.resolve();
  }
  throw new Error('the verification did not settle');
}
