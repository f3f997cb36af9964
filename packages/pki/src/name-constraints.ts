/**
 * Name constraints (RFC 5280 §4.2.1.10, path processing §6.1.3 (b)–(c) and §6.1.4 (g)).
 *
 *   NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
 *                                  excludedSubtrees  [1] GeneralSubtrees OPTIONAL }
 *   GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] BaseDistance DEFAULT 0, maximum [1] OPTIONAL }
 *
 * Each CA's constraints apply to every certificate below it: a name of a constrained type must lie within one
 * of that CA's permitted subtrees of its type (the intersection over CAs is checked CA by CA) and within none
 * of any CA's excluded subtrees. Names checked: the subject DN (when not empty), emailAddress attributes of
 * the subject as rfc822Names (§4.2.1.10), and the subjectAltName rfc822Name, dNSName, URI, directoryName and
 * iPAddress entries. Self-issued intermediates are not checked (§6.1.3 (b)). Directory names are compared
 * RDN by RDN, attribute values case-insensitively with whitespace collapsed (RFC 5280 §7.1, simplified).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import type { GeneralName, Name } from '@peculiar/asn1-x509';
import { NameConstraints, SubjectAlternativeName, type GeneralSubtrees } from '@peculiar/asn1-x509';
import { isSelfIssued, type ParsedCertificate } from './certificate.js';
import { childrenOf, scanDer, type Tlv } from './der.js';
import { PkiError, type VerificationFailure } from './errors.js';
import { prepareString } from './name-compare.js';

const ID_CE_NAME_CONSTRAINTS = '2.5.29.30';
const ID_CE_SUBJECT_ALT_NAME = '2.5.29.17';
const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';

type Kind = 'dn' | 'email' | 'dns' | 'uri' | 'ip';

/** A name of one kind, in the form the matchers compare. */
type Subject =
  | { readonly kind: 'dn'; readonly rdns: readonly string[] }
  | { readonly kind: 'email' | 'dns' | 'uri'; readonly value: string }
  | { readonly kind: 'ip'; readonly bytes: Uint8Array };

/** A subtree base; `ip-range` carries address and mask; `other` marks a form not evaluated here. */
type Base =
  | Exclude<Subject, { kind: 'ip' }>
  | { readonly kind: 'ip-range'; readonly address: Uint8Array; readonly mask: Uint8Array }
  | { readonly kind: 'other' };

interface Constraints {
  readonly ca: ParsedCertificate;
  readonly permitted: readonly Base[] | undefined;
  readonly excluded: readonly Base[];
}

function rdnsOf(name: Name): string[] {
  return [...name].map((rdn) =>
    [...rdn]
      .map((atv) => `${atv.type}=${prepareString(atv.value.toString())}`)
      .sort()
      .join('+'),
  );
}

function parse<T>(value: Uint8Array, type: new () => T, what: string): T {
  try {
    return AsnConvert.parse(value, type);
  } catch (e) {
    throw new PkiError('PKI_ASN1_INVALID', `malformed ${what}`, { cause: e });
  }
}

function subjectOf(g: GeneralName): Exclude<Subject, { kind: 'ip' }> | undefined {
  if (g.rfc822Name !== undefined) return { kind: 'email', value: g.rfc822Name };
  if (g.dNSName !== undefined) return { kind: 'dns', value: g.dNSName };
  if (g.uniformResourceIdentifier !== undefined) return { kind: 'uri', value: g.uniformResourceIdentifier };
  if (g.directoryName !== undefined) return { kind: 'dn', rdns: rdnsOf(g.directoryName) };
  return undefined; // iPAddress is read from the raw bytes (ipAddressesOf): the schema turns it into text
}

function baseOf(g: GeneralName): Base | undefined {
  if (g.iPAddress !== undefined) return undefined; // read raw, see ipAddressesOf
  return subjectOf(g) ?? { kind: 'other' };
}

/** The contents of the iPAddress [7] GeneralNames among `names` (a located SEQUENCE OF GeneralName or of GeneralSubtree). */
function ipAddressesOf(bytes: Uint8Array, names: Tlv, subtrees: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const t of childrenOf(bytes, names, 'der')) {
    const g = subtrees ? childrenOf(bytes, t, 'der')[0] : t;
    if (g?.tagByte === 0x87) out.push(bytes.subarray(g.valueStart, g.end));
  }
  return out;
}

function ipRange(b: Uint8Array): Base {
  if (b.length !== 8 && b.length !== 32) return { kind: 'other' };
  return { kind: 'ip-range', address: b.subarray(0, b.length / 2), mask: b.subarray(b.length / 2) };
}

function basesOf(trees: GeneralSubtrees | undefined, ips: readonly Uint8Array[]): Base[] | undefined {
  if (trees === undefined) return undefined;
  const bases = [...trees].map((t) => baseOf(t.base)).filter((b): b is Base => b !== undefined);
  return [...bases, ...ips.map(ipRange)];
}

/** The names of `cert` that constraints apply to. */
function namesOf(cert: ParsedCertificate): Subject[] {
  const names: Subject[] = [];
  const subject = cert.asn.tbsCertificate.subject;
  if (subject.length > 0) names.push({ kind: 'dn', rdns: rdnsOf(subject) });
  for (const rdn of subject)
    for (const atv of rdn)
      if (atv.type === EMAIL_ADDRESS) names.push({ kind: 'email', value: atv.value.toString() });
  const san = cert.extensions.find((e) => e.oid === ID_CE_SUBJECT_ALT_NAME);
  if (san) {
    for (const g of parse(san.value, SubjectAlternativeName, 'subjectAltName')) {
      const s = subjectOf(g);
      if (s) names.push(s);
    }
    const top = scanDer(san.value);
    for (const ip of ipAddressesOf(san.value, top, false)) names.push({ kind: 'ip', bytes: ip });
  }
  return names;
}

function kindOf(b: Base): Kind | undefined {
  if (b.kind === 'ip-range') return 'ip';
  return b.kind === 'other' ? undefined : b.kind;
}

/** The host of a URI (RFC 3986 authority without userinfo and port); undefined when it has none. */
function uriHost(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(uri);
  return m?.[1] === undefined || m[1] === '' ? undefined : m[1].toLowerCase();
}

/** dNSName / URI host / email host against a domain constraint: equal, or below it. */
function inDomain(host: string, constraint: string): boolean {
  const h = host.toLowerCase();
  const c = constraint.toLowerCase();
  if (c === '') return true;
  if (c.startsWith('.')) return h.endsWith(c);
  return h === c || h.endsWith(`.${c}`);
}

function matches(name: Subject, base: Base): boolean {
  switch (base.kind) {
    case 'dn':
      return name.kind === 'dn' && base.rdns.every((r, i) => name.rdns[i] === r);
    case 'dns':
      return name.kind === 'dns' && inDomain(name.value, base.value);
    case 'email': {
      if (name.kind !== 'email') return false;
      const at = name.value.lastIndexOf('@');
      const host = name.value.slice(at + 1).toLowerCase();
      if (base.value.includes('@')) {
        // A mailbox: the local part compares exactly, the host case-insensitively.
        const bat = base.value.lastIndexOf('@');
        return (
          name.value.slice(0, at) === base.value.slice(0, bat) &&
          host === base.value.slice(bat + 1).toLowerCase()
        );
      }
      // A host ("example.com": that host only) or a domain (".example.com": any host below it).
      return base.value.startsWith('.') ? inDomain(host, base.value) : host === base.value.toLowerCase();
    }
    case 'uri': {
      if (name.kind !== 'uri') return false;
      const host = uriHost(name.value);
      if (host === undefined) return false;
      return base.value.startsWith('.') ? inDomain(host, base.value) : host === base.value.toLowerCase();
    }
    case 'ip-range': {
      if (name.kind !== 'ip' || name.bytes.length !== base.address.length) return false;
      return name.bytes.every(
        (b, i) => (b & (base.mask[i] ?? 0)) === ((base.address[i] ?? 0) & (base.mask[i] ?? 0)),
      );
    }
    case 'other':
      return false;
  }
}

/** The nameConstraints of `cert`, if any. */
export function nameConstraintsOf(cert: ParsedCertificate): Omit<Constraints, 'ca'> | undefined {
  const ext = cert.extensions.find((e) => e.oid === ID_CE_NAME_CONSTRAINTS);
  if (!ext) return undefined;
  const nc = parse(ext.value, NameConstraints, 'nameConstraints');
  const parts = childrenOf(ext.value, scanDer(ext.value), 'der');
  const raw = (tag: number): Uint8Array[] => {
    const t = parts.find((x) => x.tagByte === tag);
    return t ? ipAddressesOf(ext.value, t, true) : [];
  };
  return {
    permitted: basesOf(nc.permittedSubtrees, raw(0xa0)),
    excluded: basesOf(nc.excludedSubtrees, raw(0xa1)) ?? [],
  };
}

function describe(n: Subject): string {
  if (n.kind === 'dn') return `directoryName ${n.rdns.join(',')}`;
  if (n.kind === 'ip') return `iPAddress ${Buffer.from(n.bytes).toString('hex')}`;
  return `${n.kind} ${n.value}`;
}

/**
 * Checks the name constraints along `chain` (end entity first, trust anchor last). Returns one failure per
 * violating name, naming the certificate and the CA whose constraint it breaks.
 */
export function checkNameConstraints(chain: readonly ParsedCertificate[]): VerificationFailure[] {
  const failures: VerificationFailure[] = [];
  const active: Constraints[] = [];
  for (let i = chain.length - 1; i >= 0; i--) {
    const cert = chain[i];
    if (cert === undefined) continue;
    const isLeaf = i === 0;
    if (active.length > 0 && (isLeaf || !isSelfIssued(cert))) {
      let names: Subject[];
      try {
        names = namesOf(cert);
      } catch (e) {
        if (!(e instanceof PkiError)) throw e;
        failures.push({
          certificate: cert.subject,
          chainIndex: i,
          check: 'nameConstraints',
          code: e.code,
          message: e.message,
        });
        continue;
      }
      for (const name of names) {
        for (const c of active) {
          const excluded = c.excluded.find((b) => matches(name, b));
          const ofKind = c.permitted?.filter((b) => kindOf(b) === name.kind) ?? [];
          const outside = ofKind.length > 0 && !ofKind.some((b) => matches(name, b));
          if (excluded !== undefined || outside) {
            failures.push({
              certificate: cert.subject,
              chainIndex: i,
              check: 'nameConstraints',
              code: 'PKI_NAME_CONSTRAINTS',
              message: `${describe(name)} of ${cert.subject} is ${excluded ? 'excluded' : 'not permitted'} by the name constraints of ${c.ca.subject}`,
            });
            break;
          }
        }
      }
    }
    if (!isLeaf) {
      try {
        const nc = nameConstraintsOf(cert);
        if (nc) active.push({ ca: cert, ...nc });
      } catch (e) {
        if (!(e instanceof PkiError)) throw e;
        failures.push({
          certificate: cert.subject,
          chainIndex: i,
          check: 'nameConstraints',
          code: e.code,
          message: e.message,
        });
      }
    }
  }
  return failures;
}
