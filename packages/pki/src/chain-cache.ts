/**
 * A caching front for {@link verifyChain}, for verifiers that see the same signer certificates again and again.
 * Only a *valid* result is kept, and it is reused only when nothing it depended on can have changed:
 * - the same trust-anchor array (by identity) and algorithm policy (by identity), and the anchor the path ended
 *   at still in that array;
 * - the same end-entity certificate (exact bytes) and the same path inputs (key usage, EKU, maximum length,
 *   processed extensions, RFC 5280 policy inputs);
 * - every certificate of the kept path between end entity and anchor among this call's intermediates (exact
 *   bytes);
 * - a validation time inside every certificate of the kept path's validity period: without revocation checking
 *   that is the only input of path validation that depends on the time, so the answer at any such time is the
 *   one kept.
 * With `revocation`, nothing is cached: revocation answers depend on the sources and on the time, and are
 * asked every time. Failures are never cached.
 */
import { BytesCache } from './bytes-cache.js';
import type { ParsedCertificate } from './certificate.js';
import { verifyChain, type ChainOptions, type ChainResult } from './chain.js';

/** A path validator with the signature of {@link verifyChain}. */
export type ChainValidator = (leaf: ParsedCertificate, options: ChainOptions) => ChainResult;

interface Entry {
  readonly inputs: string;
  readonly result: ChainResult;
  /** The latest notBefore and earliest notAfter over the path (ms). */
  readonly from: number;
  readonly to: number;
}

const NO_POLICY = {};
const ENTRIES_PER_LEAF = 8;

function inputsOf(o: ChainOptions): string {
  return JSON.stringify([
    o.keyUsage ?? null,
    o.extKeyUsage ?? null,
    o.maxLength ?? null,
    o.processedExtensions ?? null,
    o.certificatePolicies ?? null,
  ]);
}

function present(cert: ParsedCertificate, among: readonly ParsedCertificate[]): boolean {
  return among.some((c) => c === cert || Buffer.compare(c.der, cert.der) === 0);
}

/** A {@link ChainValidator} that keeps up to `maxLeaves` end entities' valid results per anchors and policy. */
export function cachedChainValidator(maxLeaves = 256): ChainValidator {
  const caches = new WeakMap<readonly ParsedCertificate[], WeakMap<object, BytesCache<Entry[]>>>();
  return (leaf, options) => {
    if (options.revocation !== undefined || maxLeaves <= 0) return verifyChain(leaf, options);
    let byPolicy = caches.get(options.trustAnchors);
    if (byPolicy === undefined) {
      byPolicy = new WeakMap();
      caches.set(options.trustAnchors, byPolicy);
    }
    const policyKey = options.policy ?? NO_POLICY;
    let cache = byPolicy.get(policyKey);
    if (cache === undefined) {
      cache = new BytesCache<Entry[]>(maxLeaves);
      byPolicy.set(policyKey, cache);
    }
    const inputs = inputsOf(options);
    const at = options.at.getTime();
    const entries = cache.get(leaf.der) ?? [];
    for (const e of entries) {
      const path = e.result.chain;
      const anchor = path[path.length - 1];
      if (
        e.inputs === inputs &&
        at >= e.from &&
        at <= e.to &&
        anchor !== undefined &&
        options.trustAnchors.includes(anchor) &&
        path.slice(1, -1).every((c) => present(c, options.intermediates ?? []))
      )
        return e.result;
    }
    const result = verifyChain(leaf, options);
    if (result.valid && result.chain.length > 0) {
      const from = Math.max(...result.chain.map((c) => c.notBefore.getTime()));
      const to = Math.min(...result.chain.map((c) => c.notAfter.getTime()));
      const kept = [{ inputs, result, from, to }, ...entries].slice(0, ENTRIES_PER_LEAF);
      cache.set(leaf.der, kept);
    }
    return result;
  };
}
