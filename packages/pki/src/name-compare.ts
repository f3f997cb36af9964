/**
 * Distinguished-name comparison (RFC 5280 §7.1, string preparation of RFC 4518). Two Names match when they
 * have the same RDNs in the same order, each RDN the same set of attributes, and each attribute value matches:
 * values of the directory string types (UTF8String, PrintableString, TeletexString, BMPString,
 * UniversalString; IA5String and VisibleString too, as for emailAddress and domainComponent) are compared
 * after preparation, whatever string type each side uses — so a PrintableString matches the same text in a
 * UTF8String (RFC 5280 §7.1 and the PKITS "rollover" case); any other value is compared byte for byte.
 *
 * Preparation (RFC 4518 §2): map (§2.2: the characters mapped to SPACE and those mapped to nothing),
 * normalise to NFKC (§2.3), fold case (§2.4, with toLowerCase after NFKC, then NFKC again), and insignificant
 * space handling (§2.6.1: leading and trailing spaces dropped, inner runs of spaces counted as one). The
 * prohibit step (§2.4) is not applied: an unassigned or prohibited character is compared as it is.
 *
 *   Name ::= CHOICE { rdnSequence RDNSequence }   RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
 *   RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 *   AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue }
 */
import { childrenOf, sameBytes, scanDer } from './der.js';
import { oidOf } from './der-values.js';

/** RFC 4518 §2.2: characters mapped to SPACE (whitespace other than U+0020 included). */
const TO_SPACE = /[\t\n\v\f\r\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g;
/** RFC 4518 §2.2: characters mapped to nothing (soft hyphen, joiners, variation selectors, controls). */
const TO_NOTHING =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- RFC 4518 §2.2 lists them one by one
  /[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff\ufffc]/g;

/** RFC 4518 string preparation of an attribute value for caseIgnoreMatch. */
export function prepareString(s: string): string {
  const mapped = s.replace(TO_NOTHING, '').replace(TO_SPACE, ' ');
  const folded = mapped.normalize('NFKC').toLowerCase().normalize('NFKC');
  return folded.trim().replace(/ {2,}/g, ' ');
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');
const utf16be = new TextDecoder('utf-16be');

/** The text of a string-typed value by its tag, or undefined for a value of another type. */
function stringOf(tag: number, v: Uint8Array): string | undefined {
  switch (tag) {
    case 0x0c: // UTF8String
      return utf8.decode(v);
    case 0x13: // PrintableString
    case 0x14: // TeletexString (T.61, read as Latin-1 as most software does)
    case 0x16: // IA5String
    case 0x1a: // VisibleString
      return latin1.decode(v);
    case 0x1e: // BMPString (UCS-2, big-endian)
      return v.length % 2 === 0 ? utf16be.decode(v) : undefined;
    case 0x1c: {
      // UniversalString (UCS-4, big-endian)
      if (v.length % 4 !== 0) return undefined;
      let out = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp =
          (((v[i] ?? 0) << 24) | ((v[i + 1] ?? 0) << 16) | ((v[i + 2] ?? 0) << 8) | (v[i + 3] ?? 0)) >>> 0;
        if (cp > 0x10ffff) return undefined;
        out += String.fromCodePoint(cp);
      }
      return out;
    }
    default:
      return undefined;
  }
}

const canonical = new WeakMap<Uint8Array, string | null>();

/**
 * A string that is equal for two Names exactly when they match by the rules above (null when the bytes are
 * not a well-formed Name). Kept per byte array; a certificate's name arrays are never rewritten.
 */
function canonicalName(der: Uint8Array): string | null {
  const hit = canonical.get(der);
  if (hit !== undefined) return hit;
  let out: string | null;
  try {
    const top = scanDer(der, { mode: 'ber', maxDepth: 8 });
    if (top.tagByte !== 0x30) throw new Error('not a Name');
    const rdns = childrenOf(der, top).map((rdn) => {
      if (rdn.tagByte !== 0x31) throw new Error('not an RDN');
      const atvs = childrenOf(der, rdn).map((atv) => {
        const [type, value, ...rest] = childrenOf(der, atv);
        if (atv.tagByte !== 0x30 || !value || rest.length > 0)
          throw new Error('not an AttributeTypeAndValue');
        const contents = der.subarray(value.valueStart, value.end);
        const text = value.constructed ? undefined : stringOf(value.tagByte, contents);
        return JSON.stringify([
          oidOf(der, type),
          text === undefined
            ? `#${Buffer.from(der.subarray(value.start, value.end)).toString('hex')}`
            : prepareString(text),
          text === undefined,
        ]);
      });
      return atvs.sort();
    });
    out = JSON.stringify(rdns);
  } catch {
    out = null;
  }
  canonical.set(der, out);
  return out;
}

/** Whether two DER Names match (RFC 5280 §7.1): equal bytes, or equal after RFC 4518 preparation. */
export function namesMatch(a: Uint8Array, b: Uint8Array): boolean {
  if (sameBytes(a, b)) return true;
  const ca = canonicalName(a);
  return ca !== null && ca === canonicalName(b);
}
