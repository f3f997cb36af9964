/**
 * Pure tree arithmetic for the RFC 9162 Merkle tree: node addressing, decomposition of leaf ranges into perfect
 * subtrees, and which stored nodes an inclusion proof (§2.1.3.1) or consistency proof (§2.1.4.1) is made of.
 *
 * Addressing: node (level, index) is the root of the perfect subtree over leaves
 * [index·2^level, (index+1)·2^level). Level 0 nodes are leaf hashes. Only such perfect nodes are ever stored;
 * the hash of a ragged right edge (an "ephemeral" node) is folded from the perfect subtrees it decomposes into.
 *
 * Sizes go up to 2^53 − 1, so everything here uses arithmetic, never 32-bit bitwise operators.
 */

/** The root of the perfect subtree over leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** A half-open leaf range [begin, end). */
export interface LeafRange {
  readonly begin: number;
  readonly end: number;
}

/**
 * One hash of a proof: MTH(D[begin:end]) = the right fold of `nodes`,
 * h = nodes[last]; h = HASH(0x01 || nodes[i] || h) for i from last−1 down to 0.
 * `nodes` has one element when the range is itself a perfect subtree.
 */
export interface ProofEntryPlan extends LeafRange {
  readonly nodes: readonly NodeId[];
}

/** 2^k for 0 ≤ k ≤ 53. */
export function pow2(k: number): number {
  return 2 ** k;
}

/** ⌊x / 2^k⌋. */
export function shiftRight(x: number, k: number): number {
  return Math.floor(x / 2 ** k);
}

/** Number of bits needed to write x (0 for 0). */
export function bitLength(x: number): number {
  let n = 0;
  while (x > 0) {
    x = Math.floor(x / 2);
    n++;
  }
  return n;
}

/** Number of trailing zero bits of x > 0. */
export function trailingZeros(x: number): number {
  if (x <= 0) throw new RangeError('trailingZeros of a non-positive number');
  let n = 0;
  while (x % 2 === 0) {
    x /= 2;
    n++;
  }
  return n;
}

/** Number of set bits of x ≥ 0. */
export function popCount(x: number): number {
  let n = 0;
  while (x > 0) {
    n += x % 2;
    x = Math.floor(x / 2);
  }
  return n;
}

export function isPowerOfTwo(x: number): boolean {
  return x > 0 && pow2(trailingZeros(x)) === x;
}

/** The smallest power of two ≥ x (x ≥ 1). */
export function bitCeil(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** RFC 9162 §2.1.1: the largest power of two smaller than n, for n ≥ 2 (the split point k < n ≤ 2k). */
export function largestPowerOfTwoBelow(n: number): number {
  if (!(n >= 2)) throw new RangeError(`largestPowerOfTwoBelow needs n >= 2, got ${n}`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function nodeRange(id: NodeId): LeafRange {
  const width = pow2(id.level);
  return { begin: id.index * width, end: (id.index + 1) * width };
}

/** A stable string key for maps and database columns: "level/index". */
export function nodeKey(id: NodeId): string {
  return `${id.level}/${id.index}`;
}

/**
 * The canonical decomposition of [begin, end) into maximal aligned perfect subtrees, left to right (the nodes
 * of a compact range). For begin = 0 these are the subtrees given by the set bits of `end`, largest first.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  if (!(begin <= end)) throw new RangeError(`rangeNodes needs begin <= end, got [${begin}, ${end})`);
  const out: NodeId[] = [];
  let at = begin;
  while (at < end) {
    let level = at === 0 ? bitLength(end) : Math.min(trailingZeros(at), bitLength(end - at));
    while (pow2(level) > end - at) level--;
    out.push({ level, index: at / pow2(level) });
    at += pow2(level);
  }
  return out;
}

/** The perfect subtrees [0, size) decomposes into, left to right. Their right fold is MTH(D[0:size]). */
export function perfectSubtrees(size: number): NodeId[] {
  return rangeNodes(0, size);
}

/**
 * Whether [begin, end) is a subtree of the tree in the sense of RFC 9162's recursion (and of the Merkle Tree
 * Certificates draft): begin < end and begin is a multiple of bitCeil(end − begin). Exactly these ranges have an
 * MTH that is a node (perfect or ephemeral) of every tree of size ≥ end.
 */
export function isSubtree(begin: number, end: number): boolean {
  return begin < end && begin % bitCeil(end - begin) === 0;
}

/** Plan for MTH(D[begin:end]) over a subtree range: the perfect nodes to read and fold. */
export function entryPlan(begin: number, end: number): ProofEntryPlan {
  if (!isSubtree(begin, end)) throw new RangeError(`[${begin}, ${end}) is not a subtree`);
  return { begin, end, nodes: rangeNodes(begin, end) };
}

/**
 * RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges, in proof order (the leaf's sibling first). Requires
 * 0 ≤ index < size.
 *
 *     PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])        for m < k
 *     PATH(m, D[n]) = PATH(m − k, D[k:n]) : MTH(D[0:k])    for m ≥ k
 */
export function inclusionPath(index: number, size: number): LeafRange[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`inclusionPath needs 0 <= index < size`);
  const topDown: LeafRange[] = [];
  let offset = 0;
  let m = index;
  let n = size;
  while (n > 1) {
    const k = largestPowerOfTwoBelow(n);
    if (m < k) {
      topDown.push({ begin: offset + k, end: offset + n });
      n = k;
    } else {
      topDown.push({ begin: offset, end: offset + k });
      offset += k;
      m -= k;
      n -= k;
    }
  }
  return topDown.reverse();
}

/**
 * RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as leaf ranges, in proof order. Requires
 * 0 < m ≤ n (PROOF(n, D[n]) is empty).
 *
 *     SUBPROOF(m, D[m], true)  = {}
 *     SUBPROOF(m, D[m], false) = {MTH(D[m])}
 *     SUBPROOF(m, D[n], b)     = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          for m ≤ k
 *     SUBPROOF(m, D[n], b)     = SUBPROOF(m − k, D[k:n], false) : MTH(D[0:k])  for m > k
 */
export function consistencyPath(m: number, n: number): LeafRange[] {
  if (!(m > 0 && m <= n)) throw new RangeError(`consistencyPath needs 0 < m <= n`);
  const topDown: LeafRange[] = [];
  let offset = 0;
  let first = m;
  let second = n;
  let complete = true;
  for (;;) {
    if (first === second) {
      if (!complete) topDown.push({ begin: offset, end: offset + first });
      break;
    }
    const k = largestPowerOfTwoBelow(second);
    if (first <= k) {
      topDown.push({ begin: offset + k, end: offset + second });
      second = k;
    } else {
      topDown.push({ begin: offset, end: offset + k });
      offset += k;
      first -= k;
      second -= k;
      complete = false;
    }
  }
  return topDown.reverse();
}

/** The stored nodes behind each hash of an inclusion proof. */
export function inclusionProofPlan(index: number, size: number): ProofEntryPlan[] {
  return inclusionPath(index, size).map((r) => entryPlan(r.begin, r.end));
}

/** The stored nodes behind each hash of a consistency proof. */
export function consistencyProofPlan(m: number, n: number): ProofEntryPlan[] {
  return consistencyPath(m, n).map((r) => entryPlan(r.begin, r.end));
}

/**
 * Length of an inclusion proof for `index` in a tree of `size` (0 ≤ index < size): the levels below the point
 * where the paths to `index` and `size − 1` diverge, plus one left sibling per set bit above it.
 */
export function inclusionProofLength(index: number, size: number): number {
  return inclusionPath(index, size).length;
}

/** Length of a consistency proof between sizes 0 < m ≤ n. */
export function consistencyProofLength(m: number, n: number): number {
  return consistencyPath(m, n).length;
}

/** Every distinct node id of a set of plans, in first-use order (one batched store read). */
export function planNodes(plans: readonly ProofEntryPlan[]): NodeId[] {
  const seen = new Set<string>();
  const out: NodeId[] = [];
  for (const plan of plans) {
    for (const id of plan.nodes) {
      const key = nodeKey(id);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(id);
      }
    }
  }
  return out;
}
