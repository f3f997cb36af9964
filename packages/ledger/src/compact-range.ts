/**
 * A compact range: the hashes of the canonical perfect-subtree decomposition of a leaf range [begin, end)
 * (see {@link rangeNodes}). It is all the integrator needs to keep: appending a leaf merges equal-sized
 * neighbours, and for begin = 0 the right fold of the hashes is MTH(D[0:end]).
 *
 * Every perfect node that becomes complete while appending is reported to an optional visitor, which is how
 * the integrator learns which nodes to persist.
 */
import { LedgerError } from './errors.js';
import type { LogHasher } from './hash.js';
import { type NodeId, pow2, rangeNodes } from './tree-math.js';

/** Called for each newly completed perfect node (leaves included), lowest first. */
export type NodeVisitor = (id: NodeId, hash: Uint8Array) => void;

interface Entry {
  level: number;
  index: number;
  hash: Uint8Array;
}

export class CompactRange {
  readonly #hasher: LogHasher;
  readonly #begin: number;
  #end: number;
  readonly #entries: Entry[];

  /**
   * A range over [begin, end) from the hashes of `rangeNodes(begin, end)`, in that order.
   * An empty range at `begin` is `new CompactRange(hasher, begin)`.
   */
  constructor(hasher: LogHasher, begin = 0, end: number = begin, hashes: readonly Uint8Array[] = []) {
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
      throw new LedgerError('LEDGER_BAD_ARGUMENT', `invalid compact range [${begin}, ${end})`);
    }
    const ids = rangeNodes(begin, end);
    if (ids.length !== hashes.length) {
      throw new LedgerError(
        'LEDGER_BAD_ARGUMENT',
        `compact range [${begin}, ${end}) needs ${ids.length} hashes, got ${hashes.length}`,
      );
    }
    this.#hasher = hasher;
    this.#begin = begin;
    this.#end = end;
    this.#entries = ids.map((id, i) => ({ ...id, hash: checkHash(hasher, hashes[i]) }));
  }

  get begin(): number {
    return this.#begin;
  }

  get end(): number {
    return this.#end;
  }

  /** The node ids of the range, left to right. */
  nodeIds(): NodeId[] {
    return this.#entries.map(({ level, index }) => ({ level, index }));
  }

  /** The hashes of the range's nodes, left to right. */
  hashes(): Uint8Array[] {
    return this.#entries.map((e) => e.hash);
  }

  /** Appends one leaf hash at position `end`. */
  append(leafHash: Uint8Array, visit?: NodeVisitor): void {
    this.appendNode(0, leafHash, visit);
  }

  /** Appends the perfect subtree of height `level` that starts at `end` (end must be a multiple of 2^level). */
  appendNode(level: number, hash: Uint8Array, visit?: NodeVisitor): void {
    if (!Number.isInteger(level) || level < 0 || level > 53 || this.#end % pow2(level) !== 0) {
      throw new LedgerError('LEDGER_BAD_ARGUMENT', `cannot append a level-${level} node at ${this.#end}`);
    }
    if (!Number.isSafeInteger(this.#end + pow2(level))) {
      throw new LedgerError('LEDGER_BAD_ARGUMENT', 'compact range would exceed 2^53 - 1 leaves');
    }
    let entry: Entry = { level, index: this.#end / pow2(level), hash: checkHash(this.#hasher, hash) };
    this.#end += pow2(level);
    visit?.({ level: entry.level, index: entry.index }, entry.hash);
    for (;;) {
      const last = this.#entries.at(-1);
      if (
        last === undefined ||
        last.level !== entry.level ||
        entry.index % 2 !== 1 ||
        last.index !== entry.index - 1
      ) {
        break;
      }
      this.#entries.pop();
      entry = {
        level: entry.level + 1,
        index: last.index / 2,
        hash: this.#hasher.hashChildren(last.hash, entry.hash),
      };
      visit?.({ level: entry.level, index: entry.index }, entry.hash);
    }
    this.#entries.push(entry);
  }

  /** Appends the adjacent range `other` ([end, other.end)) to this one. */
  merge(other: CompactRange, visit?: NodeVisitor): void {
    if (other.begin !== this.#end) {
      throw new LedgerError(
        'LEDGER_BAD_ARGUMENT',
        `cannot merge [${other.begin}, …) onto a range ending at ${this.#end}`,
      );
    }
    const ids = other.nodeIds();
    const hashes = other.hashes();
    ids.forEach((id, i) => {
      this.appendNode(id.level, hashes[i]!, visit);
    });
  }

  /**
   * MTH of the range: the right fold of its nodes. This is the tree root when begin = 0, and the subtree hash
   * when [begin, end) is a subtree; the empty range hashes to HASH("").
   */
  rootHash(): Uint8Array {
    return foldRight(this.#hasher, this.hashes());
  }

  clone(): CompactRange {
    return new CompactRange(this.#hasher, this.#begin, this.#end, this.hashes());
  }
}

function checkHash(hasher: LogHasher, hash: unknown): Uint8Array {
  if (!(hash instanceof Uint8Array) || hash.length !== hasher.size) {
    throw new LedgerError('LEDGER_BAD_ARGUMENT', `a node hash must be ${hasher.size} bytes`);
  }
  return hash;
}

/** Right fold of perfect-subtree hashes (an ephemeral node's hash from its stored parts). */
export function foldRight(hasher: LogHasher, hashes: readonly Uint8Array[]): Uint8Array {
  const last = hashes.at(-1);
  if (last === undefined) return hasher.emptyRoot();
  let h = last;
  for (let i = hashes.length - 2; i >= 0; i--) h = hasher.hashChildren(hashes[i]!, h);
  return h;
}
