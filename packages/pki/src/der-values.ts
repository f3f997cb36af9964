/**
 * Direct decoding of the few primitive values read on every CMS verification (X.690 §8.19 OBJECT IDENTIFIER,
 * §8.7 OCTET STRING, X.680 §47/§46 UTCTime/GeneralizedTime), without building an asn1js object tree. Each
 * OID and OCTET STRING decoder handles the plain DER form itself and hands anything else (long-form or BER
 * encodings, arcs beyond 2^53) to asn1js, so that the result is always the one asn1js gives. Times are read
 * in the two forms RFC 5652 §11.3 allows and nothing else (asn1js read other forms loosely: any character as
 * a digit, 31 February as 2 March).
 */
import * as asn1js from 'asn1js';
import { tlvBytes, type Tlv } from './der.js';
import { PkiError } from './errors.js';

function bad(message: string): PkiError {
  return new PkiError('PKI_ASN1_INVALID', message);
}

/**
 * The offset of the contents of `v[from, to)` when it is exactly one primitive TLV with tag byte `tag` and a
 * definite DER length; -1 otherwise (the caller then decodes it with asn1js).
 */
function contentsAt(v: Uint8Array, from: number, to: number, tag: number): number {
  if (to - from < 2 || v[from] !== tag) return -1;
  const lb = v[from + 1] ?? 0;
  if (lb < 0x80) return lb === to - from - 2 ? from + 2 : -1;
  if (lb === 0x81) {
    const len = v[from + 2] ?? 0;
    return len >= 0x80 && len === to - from - 3 ? from + 3 : -1;
  }
  if (lb === 0x82) {
    const len = ((v[from + 2] ?? 0) << 8) | (v[from + 3] ?? 0);
    return len >= 0x100 && len === to - from - 4 ? from + 4 : -1;
  }
  return -1;
}

/** {@link contentsAt} of the whole of `v`, as a view; undefined when it is not such a TLV. */
function primitiveContents(v: Uint8Array, tag: number): Uint8Array | undefined {
  const c = contentsAt(v, 0, v.length, tag);
  return c < 0 ? undefined : v.subarray(c);
}

/**
 * Dotted form of OBJECT IDENTIFIER contents `bytes[from, to)`; throws PKI_ASN1_INVALID for an empty,
 * truncated or non-minimal encoding. Undefined for an arc beyond 2^53 (left to asn1js).
 */
export function oidContents(bytes: Uint8Array, from: number, to: number): string | undefined {
  if (to === from) throw bad('empty OBJECT IDENTIFIER');
  // Built as one string, arc by arc (no array per OID: this runs for every OID of every message).
  let out = '';
  let arc = 0;
  let fresh = true;
  for (let i = from; i < to; i++) {
    const b = bytes[i] ?? 0;
    if (fresh && b === 0x80) throw bad('non-minimal OBJECT IDENTIFIER arc');
    fresh = false;
    arc = arc * 128 + (b & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER / 128) return undefined;
    if ((b & 0x80) === 0) {
      if (out === '') out = arc >= 80 ? `2.${arc - 80}` : `${Math.floor(arc / 40)}.${arc % 40}`;
      else out += `.${arc}`;
      arc = 0;
      fresh = true;
    }
  }
  if (!fresh) throw bad('truncated OBJECT IDENTIFIER');
  return out;
}

/**
 * Dotted forms of short OIDs already seen, found by a numeric hash of their contents and confirmed byte for
 * byte: the same few OIDs come in every message, and the kept string is one flat string whose hash V8 has
 * computed already (map lookups by it are cheap). Bounded; cleared when full.
 */
const seenOids = new Map<number, { readonly bytes: Uint8Array; readonly dotted: string }>();
const SEEN_OIDS_MAX = 512;
const SEEN_OID_MAX_BYTES = 24;

/** A located OBJECT IDENTIFIER in dotted form (strict: minimal arcs); arcs beyond 2^53 via asn1js. */
export function oidOf(bytes: Uint8Array, t: Tlv | undefined): string {
  if (!t || t.tagByte !== 0x06) throw bad('expected an OBJECT IDENTIFIER');
  const from = t.valueStart;
  const to = t.end;
  if (to === from || to - from > SEEN_OID_MAX_BYTES)
    return oidContents(bytes, from, to) ?? asn1jsOid(tlvBytes(bytes, t));
  let h = 0x811c9dc5; // FNV-1a
  for (let i = from; i < to; i++) h = Math.imul(h ^ (bytes[i] ?? 0), 0x01000193);
  h = (h >>> 0) * 32 + (to - from);
  const hit = seenOids.get(h);
  if (hit !== undefined && hit.bytes.length === to - from) {
    let same = true;
    for (let i = from; i < to && same; i++) same = hit.bytes[i - from] === bytes[i];
    if (same) return hit.dotted;
  }
  const dotted = oidContents(bytes, from, to) ?? asn1jsOid(tlvBytes(bytes, t));
  if (seenOids.size >= SEEN_OIDS_MAX) seenOids.clear();
  seenOids.set(h, { bytes: bytes.slice(from, to), dotted });
  return dotted;
}

function asn1jsOid(v: Uint8Array): string {
  const r = asn1js.fromBER(v);
  if (r.offset === -1 || !(r.result instanceof asn1js.ObjectIdentifier))
    throw bad('malformed OBJECT IDENTIFIER');
  return r.result.getValue();
}

/**
 * An attribute value (one TLV) that should be an OBJECT IDENTIFIER: its dotted form, or undefined when it is
 * not one (as asn1js reads it).
 */
export function attributeOid(v: Uint8Array): string | undefined {
  const c = primitiveContents(v, 0x06);
  if (c !== undefined) {
    try {
      const s = oidContents(c, 0, c.length);
      if (s !== undefined) return s;
    } catch {
      // not minimal: asn1js decides below, as before
    }
  }
  const r = asn1js.fromBER(v).result;
  return r instanceof asn1js.ObjectIdentifier ? r.getValue() : undefined;
}

/**
 * An attribute value (one TLV) that should be a primitive OCTET STRING: its contents (a view), or undefined
 * when it is not one (as asn1js reads it).
 */
export function attributeOctets(v: Uint8Array): Uint8Array | undefined {
  const c = primitiveContents(v, 0x04);
  if (c !== undefined) return c;
  const r = asn1js.fromBER(v).result;
  return r instanceof asn1js.OctetString ? new Uint8Array(r.valueBlock.valueHexView) : undefined;
}

const digit = (b: number | undefined): number =>
  b !== undefined && b >= 0x30 && b <= 0x39 ? b - 0x30 : Number.NaN;

/** `n` decimal digits at `c[i]`, NaN if any is not a digit. */
function digits(c: Uint8Array, i: number, n: number): number {
  let x = 0;
  for (let k = 0; k < n; k++) x = x * 10 + digit(c[i + k]);
  return x;
}

/**
 * Days from 1970-01-01 to the proleptic Gregorian date y-mo-d (mo 1–12), by the days-from-civil algorithm of
 * Hinnant's "chrono-Compatible Low-Level Date Algorithms": integer arithmetic, exact for every year a DER
 * time can carry (0–9999), and several times cheaper than Date.UTC on this path (each CMS signingTime).
 */
function daysFromCivil(y: number, mo: number, d: number): number {
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400; // [0, 399]
  const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1; // [0, 365]
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy; // [0, 146096]
  return era * 146097 + doe - 719468;
}

/** The time of the fields (UTC) when each is in its calendar range (so no roll-over), else undefined. */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number): Date | undefined {
  // (A field that was not digits is NaN, and fails its comparison.)
  if (!(
    y >= 0 &&
    mo >= 1 &&
    mo <= 12 &&
    d >= 1 &&
    h >= 0 &&
    h <= 23 &&
    mi >= 0 &&
    mi <= 59 &&
    s >= 0 &&
    s <= 59
  ))
    return undefined;
  // Days in the month: February's 29th only in a Gregorian leap year.
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 ? (leap ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31))
    return undefined;
  return new Date(((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000);
}

/**
 * An attribute value (one TLV, `v[from, to)`: by default all of `v`) that should be a UTCTime or
 * GeneralizedTime (RFC 5652 §11.3 signingTime): the time, or undefined when it is neither. Only the forms
 * §11.3 allows, YYMMDDHHMMSSZ and YYYYMMDDHHMMSSZ, each field a valid calendar value; UTCTime years 50–99 are
 * 19xx (RFC 5280 §4.1.2.5.1).
 */
export function attributeTime(v: Uint8Array, from = 0, to = v.length): Date | undefined {
  const u = contentsAt(v, from, to, 0x17);
  if (u >= 0 && to - u === 13 && v[u + 12] === 0x5a) {
    const yy = digits(v, u, 2);
    const d = utc(
      yy < 50 ? 2000 + yy : 1900 + yy,
      digits(v, u + 2, 2),
      digits(v, u + 4, 2),
      digits(v, u + 6, 2),
      digits(v, u + 8, 2),
      digits(v, u + 10, 2),
    );
    if (d !== undefined) return d;
  }
  const g = contentsAt(v, from, to, 0x18);
  if (g >= 0 && to - g === 15 && v[g + 14] === 0x5a) {
    const d = utc(
      digits(v, g, 4),
      digits(v, g + 4, 2),
      digits(v, g + 6, 2),
      digits(v, g + 8, 2),
      digits(v, g + 10, 2),
      digits(v, g + 12, 2),
    );
    if (d !== undefined) return d;
  }
  // No other form: RFC 5652 §11.3 requires these two (seconds, Zulu, no fraction). asn1js, which read the
  // rest before, takes any character for a digit and gives 1899-11-30 for what it cannot read.
  return undefined;
}
