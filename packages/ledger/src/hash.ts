/**
 * RFC 9162 §2.1.1 hashing with an injected hash function (SM3 or SHA-256):
 *
 *     MTH({})      = HASH()
 *     MTH({d(0)})  = HASH(0x00 || d(0))                  leaf hash
 *     MTH(D[n])    = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   interior node
 *
 * The hash function is synchronous and passed in, so the verifier runs in a browser with a pure-TypeScript
 * SM3 and on Node with `node:crypto` (see `@yizheng/ledger/node`).
 */
import { LedgerError } from './errors.js';

export type LogHashName = 'sm3' | 'sha256';

export interface LogHasher {
  readonly name: LogHashName;
  /** Digest length in bytes; both supported hashes are 32 bytes. */
  readonly size: 32;
  /** The raw hash function. */
  hash(data: Uint8Array): Uint8Array;
  /** MTH of the empty tree, HASH(""). */
  emptyRoot(): Uint8Array;
  /** Leaf hash HASH(0x00 || leaf). */
  hashLeaf(leaf: Uint8Array): Uint8Array;
  /** Interior node hash HASH(0x01 || left || right). */
  hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array;
}

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** Wraps a synchronous 32-byte hash function into the RFC 9162 log hasher. */
export function createLogHasher(name: LogHashName, fn: (data: Uint8Array) => Uint8Array): LogHasher {
  if (name !== 'sm3' && name !== 'sha256') {
    throw new LedgerError('LEDGER_BAD_ARGUMENT', `unsupported log hash ${String(name)}`);
  }
  const hash = (data: Uint8Array): Uint8Array => {
    const out = fn(data);
    if (!(out instanceof Uint8Array) || out.length !== 32) {
      throw new LedgerError('LEDGER_BAD_ARGUMENT', `${name} returned a digest that is not 32 bytes`);
    }
    return out;
  };
  let empty: Uint8Array | undefined;
  return {
    name,
    size: 32,
    hash,
    emptyRoot: () => (empty ??= hash(new Uint8Array(0))).slice(),
    hashLeaf(leaf) {
      const buf = new Uint8Array(1 + leaf.length);
      buf[0] = LEAF_PREFIX;
      buf.set(leaf, 1);
      return hash(buf);
    },
    hashChildren(left, right) {
      const buf = new Uint8Array(1 + left.length + right.length);
      buf[0] = NODE_PREFIX;
      buf.set(left, 1);
      buf.set(right, 1 + left.length);
      return hash(buf);
    },
  };
}
