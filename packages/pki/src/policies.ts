/**
 * Certificate policy processing (RFC 5280 §6.1.2 (a)–(d), §6.1.3 (d)–(f), §6.1.4 (a)–(b), (h)–(j), §6.1.5 (a)–(b),
 * (g)): the valid_policy_tree, policy mapping, requireExplicitPolicy, inhibitPolicyMapping and
 * inhibitAnyPolicy. Policy qualifiers are not interpreted.
 *
 *   certificatePolicies ::= SEQUENCE OF PolicyInformation { policyIdentifier, policyQualifiers OPTIONAL }
 *   PolicyMappings ::= SEQUENCE OF SEQUENCE { issuerDomainPolicy, subjectDomainPolicy }
 *   PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] SkipCerts OPTIONAL,
 *                                    inhibitPolicyMapping [1] SkipCerts OPTIONAL }
 *   InhibitAnyPolicy ::= SkipCerts
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  CertificatePolicies,
  InhibitAnyPolicy,
  PolicyConstraints,
  PolicyMappings,
} from '@peculiar/asn1-x509';
import { isSelfIssued, type ParsedCertificate } from './certificate.js';
import { PkiError, type VerificationFailure } from './errors.js';

export const ANY_POLICY = '2.5.29.32.0';
const EXT = {
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
} as const;

/** The initial inputs of RFC 5280 §6.1.1 (c), (e), (f), (g). */
export interface PolicySettings {
  /** user-initial-policy-set (default: anyPolicy). */
  readonly initialPolicySet?: readonly string[];
  readonly initialPolicyMappingInhibit?: boolean;
  readonly initialExplicitPolicy?: boolean;
  readonly initialAnyPolicyInhibit?: boolean;
}

export interface PolicyResult {
  readonly failures: readonly VerificationFailure[];
  /** The authorities-constrained ∩ user policies the path is valid for (anyPolicy possible); empty when none. */
  readonly policies: readonly string[];
}

interface Node {
  readonly validPolicy: string;
  expected: Set<string>;
  readonly parent: Node | undefined;
  readonly children: Node[];
  readonly depth: number;
}

function ext<T>(cert: ParsedCertificate, oid: string, type: new () => T): T | undefined {
  const e = cert.extensions.find((x) => x.oid === oid);
  if (!e) return undefined;
  try {
    return AsnConvert.parse(e.value, type);
  } catch (cause) {
    throw new PkiError('PKI_ASN1_INVALID', `malformed extension ${oid} in ${cert.subject}`, { cause });
  }
}

/** SkipCerts INTEGER (0..MAX) as a number, saturated at 2^31. */
function skipCerts(v: ArrayBuffer | number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  const b = new Uint8Array(v);
  if (b.length === 0 || ((b[0] ?? 0) & 0x80) !== 0)
    throw new PkiError('PKI_ASN1_INVALID', 'SkipCerts is negative');
  let n = 0;
  for (const x of b) n = Math.min(2 ** 31, n * 256 + x);
  return n;
}

function child(parent: Node, validPolicy: string, expected: Iterable<string>): Node {
  const n: Node = { validPolicy, expected: new Set(expected), parent, children: [], depth: parent.depth + 1 };
  parent.children.push(n);
  return n;
}

function atDepth(root: Node, depth: number): Node[] {
  const out: Node[] = [];
  const walk = (n: Node): void => {
    if (n.depth === depth) out.push(n);
    else n.children.forEach(walk);
  };
  walk(root);
  return out;
}

function remove(n: Node): void {
  const p = n.parent;
  if (p) p.children.splice(p.children.indexOf(n), 1);
}

/** Deletes nodes above `depth` without children, repeatedly; returns whether the tree is still non-NULL. */
function prune(root: Node, depth: number): boolean {
  for (let d = depth - 1; d >= 0; d--)
    for (const n of atDepth(root, d)) if (n.children.length === 0 && n !== root) remove(n);
  return !(root.children.length === 0 && depth > 0);
}

/**
 * Runs policy processing over `chain` (end entity first, trust anchor last; the anchor is not part of the
 * path, RFC 5280 §6.1). Failures are PKI_POLICY, naming the certificate where the policy set became empty
 * while an explicit policy was required, or where a mapping to or from anyPolicy appeared.
 */
export function processPolicies(
  chain: readonly ParsedCertificate[],
  settings: PolicySettings = {},
): PolicyResult {
  const path = chain.slice(0, -1).reverse(); // path[0] is issued by the anchor; path[n-1] the end entity
  const n = path.length;
  let root: Node | undefined = {
    validPolicy: ANY_POLICY,
    expected: new Set([ANY_POLICY]),
    parent: undefined,
    children: [],
    depth: 0,
  };
  let explicitPolicy = settings.initialExplicitPolicy === true ? 0 : n + 1;
  let inhibitAnyPolicy = settings.initialAnyPolicyInhibit === true ? 0 : n + 1;
  let policyMapping = settings.initialPolicyMappingInhibit === true ? 0 : n + 1;
  const failures: VerificationFailure[] = [];
  const fail = (cert: ParsedCertificate, i: number, message: string): PolicyResult => {
    failures.push({
      certificate: cert.subject,
      chainIndex: n - i,
      check: 'policy',
      code: 'PKI_POLICY',
      message,
    });
    return { failures, policies: [] };
  };

  for (let i = 1; i <= n; i++) {
    const cert = path[i - 1];
    if (!cert) break;
    const selfIssued = isSelfIssued(cert);
    const cp = ext(cert, EXT.certificatePolicies, CertificatePolicies);
    // §6.1.3 (d)
    if (cp && root) {
      const ids = [...cp].map((p) => p.policyIdentifier);
      const parents = atDepth(root, i - 1);
      for (const p of ids) {
        if (p === ANY_POLICY) continue;
        const matching = parents.filter((x) => x.expected.has(p));
        if (matching.length > 0) for (const x of matching) child(x, p, [p]);
        else for (const x of parents.filter((y) => y.validPolicy === ANY_POLICY)) child(x, p, [p]);
      }
      if (ids.includes(ANY_POLICY) && (inhibitAnyPolicy > 0 || (i < n && selfIssued))) {
        for (const x of parents)
          for (const e of x.expected) if (!x.children.some((c) => c.validPolicy === e)) child(x, e, [e]);
      }
      if (!prune(root, i)) root = undefined;
    }
    // §6.1.3 (e)
    if (!cp) root = undefined;
    // §6.1.3 (f)
    if (explicitPolicy <= 0 && root === undefined)
      return fail(cert, i, `no valid policy at ${cert.subject} while an explicit policy is required`);
    if (i === n) break;

    // §6.1.4 (a), (b)
    const pm = ext(cert, EXT.policyMappings, PolicyMappings);
    if (pm) {
      const mappings = [...pm];
      if (mappings.some((m) => m.issuerDomainPolicy === ANY_POLICY || m.subjectDomainPolicy === ANY_POLICY))
        return fail(cert, i, `${cert.subject} maps to or from anyPolicy`);
      const bySource = new Map<string, Set<string>>();
      for (const m of mappings) {
        const s = bySource.get(m.issuerDomainPolicy) ?? new Set<string>();
        s.add(m.subjectDomainPolicy);
        bySource.set(m.issuerDomainPolicy, s);
      }
      if (root) {
        for (const [idp, sdps] of bySource) {
          const nodes = atDepth(root, i).filter((x) => x.validPolicy === idp);
          if (policyMapping > 0) {
            if (nodes.length > 0) for (const x of nodes) x.expected = new Set(sdps);
            else {
              const any = atDepth(root, i).find((x) => x.validPolicy === ANY_POLICY);
              if (any?.parent) child(any.parent, idp, sdps);
            }
          } else {
            for (const x of nodes) remove(x);
          }
        }
        if (policyMapping <= 0 && !prune(root, i)) root = undefined;
      }
    }
    // §6.1.4 (h)
    if (!selfIssued) {
      if (explicitPolicy > 0) explicitPolicy--;
      if (policyMapping > 0) policyMapping--;
      if (inhibitAnyPolicy > 0) inhibitAnyPolicy--;
    }
    // §6.1.4 (i), (j)
    const pc = ext(cert, EXT.policyConstraints, PolicyConstraints);
    const rep = skipCerts(pc?.requireExplicitPolicy);
    const ipm = skipCerts(pc?.inhibitPolicyMapping);
    if (rep !== undefined && rep < explicitPolicy) explicitPolicy = rep;
    if (ipm !== undefined && ipm < policyMapping) policyMapping = ipm;
    const iap = skipCerts(ext(cert, EXT.inhibitAnyPolicy, InhibitAnyPolicy)?.value);
    if (iap !== undefined && iap < inhibitAnyPolicy) inhibitAnyPolicy = iap;
  }

  // §6.1.5 (a), (b)
  const ee = path[n - 1];
  if (!ee) return { failures, policies: [ANY_POLICY] };
  if (explicitPolicy > 0) explicitPolicy--;
  if (skipCerts(ext(ee, EXT.policyConstraints, PolicyConstraints)?.requireExplicitPolicy) === 0)
    explicitPolicy = 0;
  // §6.1.5 (g): the intersection with the user-initial-policy-set.
  const user = settings.initialPolicySet ?? [ANY_POLICY];
  let policies: string[] = [];
  if (root) {
    if (!user.includes(ANY_POLICY)) {
      const set = new Set(user);
      // valid_policy_node_set: nodes whose parent is anyPolicy (not the root).
      const all: Node[] = [];
      const walk = (x: Node): void => {
        all.push(x);
        x.children.forEach(walk);
      };
      walk(root);
      const nodeSet = all.filter((x) => x.parent?.validPolicy === ANY_POLICY);
      for (const x of nodeSet) if (x.validPolicy !== ANY_POLICY && !set.has(x.validPolicy)) remove(x);
      const anyLeaf = atDepth(root, n).find((x) => x.validPolicy === ANY_POLICY);
      if (anyLeaf?.parent) {
        for (const p of set)
          if (!nodeSet.some((x) => x.validPolicy === p && x.parent !== undefined))
            child(anyLeaf.parent, p, [p]);
        remove(anyLeaf);
      }
      if (!prune(root, n)) root = undefined;
    }
    if (root) policies = [...new Set(atDepth(root, n).map((x) => x.validPolicy))];
  }
  if (explicitPolicy <= 0 && policies.length === 0)
    return fail(ee, n, `no acceptable policy for ${ee.subject} (explicit policy required)`);
  return { failures, policies };
}
