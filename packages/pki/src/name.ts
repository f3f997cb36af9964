/**
 * X.501 Names from structured input (RFC 5280 §4.1.2.4, GM/T 0015 §5.2): countryName as PrintableString,
 * emailAddress as IA5String, serialNumber as PrintableString when it can be, everything else — Chinese
 * included — as UTF8String (the encoding RFC 5280 requires of new certificates).
 *
 *   Name ::= CHOICE { rdnSequence RDNSequence }
 *   RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
 *   RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 *   AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue }
 */
import { ia5String, oid, printableString, sequence, setOf, utf8String } from './der-writer.js';
import { PkiError } from './errors.js';

export const NAME_OID = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  serialNumber: '2.5.4.5',
  emailAddress: '1.2.840.113549.1.9.1',
} as const;

export type NameAttribute = keyof typeof NAME_OID;

/**
 * A Name: either an object whose attributes are written in the order C, ST, L, O, OU, CN, serialNumber,
 * emailAddress (one RDN each; an array value gives several RDNs of that type), or an explicit list of
 * [attribute name or OID, value] pairs, most general first.
 */
export type NameInput =
  | Readonly<Partial<Record<NameAttribute, string | readonly string[]>>>
  | readonly (readonly [string, string])[];

const ORDER: readonly NameAttribute[] = ['C', 'ST', 'L', 'O', 'OU', 'CN', 'serialNumber', 'emailAddress'];

function attributeValue(type: string, value: string): Uint8Array {
  if (type === NAME_OID.C) {
    if (!/^[A-Z]{2}$/.test(value))
      throw new PkiError('PKI_INVALID_ARGUMENT', `countryName must be two letters: ${value}`);
    return printableString(value);
  }
  if (type === NAME_OID.emailAddress) return ia5String(value);
  if (type === NAME_OID.serialNumber && /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value))
    return printableString(value);
  return utf8String(value);
}

function typeOid(name: string): string {
  const known = (NAME_OID as Readonly<Record<string, string>>)[name];
  if (known !== undefined) return known;
  if (/^[0-2](\.\d+)+$/.test(name)) return name;
  throw new PkiError('PKI_INVALID_ARGUMENT', `unknown name attribute ${name}`);
}

/** DER of a Name; an empty input gives the empty RDNSequence. */
export function encodeName(input: NameInput): Uint8Array {
  const pairs: (readonly [string, string])[] = [];
  if (Array.isArray(input)) {
    for (const [t, v] of input as readonly (readonly [string, string])[]) pairs.push([typeOid(t), v]);
  } else {
    const obj = input as Readonly<Partial<Record<string, string | readonly string[]>>>;
    for (const key of Object.keys(obj)) {
      if (!(ORDER as readonly string[]).includes(key))
        throw new PkiError('PKI_INVALID_ARGUMENT', `unknown name attribute ${key}`);
    }
    for (const key of ORDER) {
      const v = obj[key];
      for (const value of v === undefined ? [] : typeof v === 'string' ? [v] : v)
        pairs.push([NAME_OID[key], value]);
    }
  }
  return sequence(...pairs.map(([t, v]) => setOf([sequence(oid(t), attributeValue(t, v))])));
}
