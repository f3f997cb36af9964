/**
 * `node:crypto` for the browser build of the verifier (vite alias, see `browser-aliases.ts`): the subset
 * `@yizheng/pki` calls. Digests: SM3 and SHA-256 in pure TypeScript; SHA-1/384/512 and RSA/ECDSA verification
 * by WebCrypto through the replay oracle (`replay.ts`). Signing and key generation are not offered.
 */
import { sm3 } from '@yizheng/gm/browser';
import { currentOracle, type WebHash } from './replay.js';
import { sha256 } from './sha256.js';

const WEB_HASH: Readonly<Record<string, WebHash>> = {
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
};

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}

class Hash {
  readonly #parts: Uint8Array[] = [];
  constructor(private readonly name: string) {
    if (name !== 'sm3' && WEB_HASH[name] === undefined) throw new Error(`digest ${name} is not supported`);
  }

  update(data: Uint8Array | string): this {
    this.#parts.push(bytesOf(data).slice());
    return this;
  }

  digest(): Uint8Array {
    const all = new Uint8Array(this.#parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.#parts) {
      all.set(p, o);
      o += p.length;
    }
    const out =
      this.name === 'sm3'
        ? sm3(all)
        : this.name === 'sha256'
          ? sha256(all)
          : currentOracle().digest(WEB_HASH[this.name]!, all);
    return typeof Buffer === 'undefined' ? out : Buffer.from(out);
  }
}

export function createHash(name: string): Hash {
  return new Hash(name);
}

/** A public key as this shim keeps it: the SPKI bytes. */
export class KeyObject {
  constructor(readonly spki: Uint8Array) {}
}

export function createPublicKey(input: { key: Uint8Array; format: 'der'; type: 'spki' }): KeyObject {
  if (input.format !== 'der' || input.type !== 'spki') throw new Error('only DER SPKI public keys');
  return new KeyObject(new Uint8Array(input.key));
}

export function verify(
  hash: string,
  data: Uint8Array,
  key: KeyObject | { key: KeyObject; dsaEncoding: 'der' },
  signature: Uint8Array,
): boolean {
  const web = WEB_HASH[hash];
  if (web === undefined) return false;
  const ecdsa = !(key instanceof KeyObject);
  const k = key instanceof KeyObject ? key : key.key;
  return currentOracle().verify({ kind: ecdsa ? 'ecdsa' : 'rsa', hash: web, spki: k.spki, data, signature });
}

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function unavailable(): never {
  throw new Error('signing is not available in the browser verifier');
}
export const createPrivateKey = unavailable;
export const sign = unavailable;
