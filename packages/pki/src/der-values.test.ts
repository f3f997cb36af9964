/**
 * The direct decoders of der-values.ts against asn1js, the decoder they replace: the same answer for DER,
 * for BER forms they hand over, and for values of the wrong type; and BytesCache's exact-bytes behaviour.
 */
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { BytesCache } from './bytes-cache.js';
import { generalizedTime, octetString, oid, utcTime } from './der-writer.js';
import { scanDer } from './der.js';
import { attributeOctets, attributeOid, attributeTime, oidOf } from './der-values.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const tagged = (tag: number, body: Uint8Array): Uint8Array => new Uint8Array([tag, body.length, ...body]);

function asn1jsTime(v: Uint8Array): Date | undefined {
  const r = asn1js.fromBER(v).result;
  return r instanceof asn1js.UTCTime || r instanceof asn1js.GeneralizedTime ? r.toDate() : undefined;
}

describe('attributeTime', () => {
  it('reads DER UTCTime and GeneralizedTime as asn1js does (UTCTime 50–99 → 19xx)', () => {
    const cases = [
      utcTime(new Date('2024-02-29T23:59:59Z')),
      utcTime(new Date('1950-01-01T00:00:00Z')),
      utcTime(new Date('2049-12-31T12:00:00Z')),
      generalizedTime(new Date('2050-06-01T08:30:15Z')),
      generalizedTime(new Date('1999-12-31T23:59:59Z')),
      generalizedTime(new Date('2000-02-29T00:00:00Z')), // divisible by 400: a leap year
      utcTime(new Date('2030-11-30T10:00:00Z')),
    ];
    for (const v of cases) {
      expect(attributeTime(v)).toEqual(asn1jsTime(v));
      expect(attributeTime(v)).toBeInstanceOf(Date);
    }
    expect(attributeTime(tagged(0x17, ascii('991231235959Z')))?.toISOString()).toBe(
      '1999-12-31T23:59:59.000Z',
    );
  });

  it('gives no time for characters that are no time (before: an Invalid Date)', () => {
    // A signingTime seen in fuzzing: a control character among the digits of a UTCTime. asn1js reads it as a
    // time all the same (1899-11-30).
    const garbled = hex('170d0236313230383032313535315a');
    expect(asn1jsTime(garbled)).toBeInstanceOf(Date);
    expect(attributeTime(garbled)).toBeUndefined();
    expect(attributeTime(tagged(0x18, ascii('2026ab01000000Z')))).toBeUndefined();
    expect(attributeTime(tagged(0x17, ascii('26120801 000Z')))).toBeUndefined();
    // Forms RFC 5652 §11.3 does not allow (an offset, no seconds, a fraction): asn1js gives 1899-11-30 for the
    // first.
    expect(asn1jsTime(tagged(0x17, ascii('2612080115+0800')))?.toISOString()).toBe(
      '1899-11-30T00:00:00.000Z',
    );
    for (const form of ['2612080115+0800', '2612080115Z'])
      expect(attributeTime(tagged(0x17, ascii(form)))).toBeUndefined();
    expect(attributeTime(tagged(0x18, ascii('20261208011500.5Z')))).toBeUndefined();
    // Years before 1000 in a GeneralizedTime are read exactly.
    expect(attributeTime(tagged(0x18, ascii('09991231235959Z')))?.getTime()).toBe(
      Date.UTC(999, 11, 31, 23, 59, 59),
    );
  });

  it('gives the same instant as Date.UTC for every day of 1950–2049 and for days across years 1000–9999', () => {
    const two = (n: number): string => String(n).padStart(2, '0');
    const check = (y: number, mo: number, d: number, h: number, mi: number, s: number): void => {
      const want = Date.UTC(y, mo - 1, d, h, mi, s);
      const fields = `${two(mo)}${two(d)}${two(h)}${two(mi)}${two(s)}Z`;
      const g = attributeTime(tagged(0x18, ascii(`${String(y).padStart(4, '0')}${fields}`)));
      expect(g?.getTime(), `${y}-${fields}`).toBe(want);
      if (y >= 1950 && y <= 2049) {
        const u = attributeTime(tagged(0x17, ascii(`${two(y % 100)}${fields}`)));
        expect(u?.getTime(), `UTCTime ${y}-${fields}`).toBe(want);
      }
    };
    for (let t = Date.UTC(1950, 0, 1); t < Date.UTC(2050, 0, 1); t += 86_400_000 + 3_661_000) {
      const d = new Date(t);
      check(
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      );
    }
    for (let y = 1000; y <= 9999; y += 7)
      for (const [mo, d] of [
        [1, 1],
        [2, 28],
        [3, 1],
        [12, 31],
      ] as const)
        check(y, mo, d, 23, 59, 59);
    for (const y of [1600, 2000, 2400, 9996]) check(y, 2, 29, 0, 0, 0);
  });

  it('refuses the forms RFC 5652 §11.3 does not allow and impossible dates (asn1js read them, rolling over)', () => {
    const cases = [
      tagged(0x18, ascii('20240601083015.5Z')),
      tagged(0x17, ascii('2406010830Z')),
      tagged(0x17, ascii('240601083015+0800')),
      tagged(0x17, ascii('241301083015Z')), // month 13
      tagged(0x17, ascii('240231083015Z')), // 31 February
      tagged(0x17, ascii('230229083015Z')), // 29 February of a common year
      tagged(0x18, ascii('21000229000000Z')), // 2100 is not a leap year
      tagged(0x17, ascii('240431083015Z')), // 31 April
      tagged(0x17, ascii('240601246015Z')), // 24 h
    ];
    // What asn1js made of 31 February: 2 March.
    expect(asn1jsTime(cases[4]!)?.toISOString()).toBe('2024-03-02T08:30:15.000Z');
    for (const v of cases) expect(attributeTime(v)).toBeUndefined();
    // The year 24 of a GeneralizedTime is the year 24 (asn1js made it 1924).
    const y24 = new Date(Date.UTC(2000, 5, 1, 8, 30, 15));
    y24.setUTCFullYear(24);
    expect(attributeTime(tagged(0x18, ascii('00240601083015Z')))?.getTime()).toBe(y24.getTime());
  });

  it('returns undefined for a value that is not a time', () => {
    expect(attributeTime(octetString(new Uint8Array(3)))).toBeUndefined();
    expect(attributeTime(oid('1.2.3'))).toBeUndefined();
  });
});

describe('attributeOctets and attributeOid', () => {
  it('reads primitive OCTET STRINGs of short and long form, and constructed (BER) ones as asn1js does', () => {
    for (const n of [0, 1, 32, 127, 128, 255, 256, 1000]) {
      const body = new Uint8Array(n).map((_, i) => i & 0xff);
      expect(attributeOctets(octetString(body))).toEqual(body);
    }
    // BER: non-minimal length, and a constructed OCTET STRING of two segments.
    expect(attributeOctets(hex('04 81 03 01 02 03'))).toEqual(hex('010203'));
    const constructed = hex('24 80 04 02 0102 04 01 03 00 00');
    const viaAsn1js = asn1js.fromBER(constructed).result;
    expect(viaAsn1js).toBeInstanceOf(asn1js.OctetString);
    expect(attributeOctets(constructed)).toEqual(
      new Uint8Array((viaAsn1js as asn1js.OctetString).valueBlock.valueHexView),
    );
    expect(attributeOctets(oid('1.2.3'))).toBeUndefined();
  });

  it('reads OIDs, gives non-minimal arcs to asn1js, and refuses non-OIDs', () => {
    for (const s of ['1.2.840.113549.1.7.1', '1.2.156.10197.6.1.4.2.1', '2.999.1', '0.0'])
      expect(attributeOid(oid(s))).toBe(s);
    const nonMinimal = hex('06 03 2a 80 03');
    const r = asn1js.fromBER(nonMinimal).result;
    expect(attributeOid(nonMinimal)).toBe(r instanceof asn1js.ObjectIdentifier ? r.getValue() : undefined);
    expect(attributeOid(octetString(hex('2a03')))).toBeUndefined();
  });

  it('oidOf: strict and cached, with arcs beyond 2^53 left to asn1js', () => {
    const der = oid('1.2.840.113549.1.9.4');
    expect(oidOf(der, scanDer(der))).toBe('1.2.840.113549.1.9.4');
    expect(oidOf(der, scanDer(der))).toBe('1.2.840.113549.1.9.4'); // from the cache
    const big = hex('06 0a 2a ff ff ff ff ff ff ff ff 7f');
    expect(oidOf(big, scanDer(big, { mode: 'ber' }))).toBe(
      (asn1js.fromBER(big).result as asn1js.ObjectIdentifier).getValue(),
    );
    const bad = hex('06 02 2a 80');
    expect(() => oidOf(bad, scanDer(bad, { mode: 'ber' }))).toThrow(
      expect.objectContaining({ code: 'PKI_ASN1_INVALID' }),
    );
  });
});

describe('BytesCache', () => {
  it('finds values by exact bytes only; equal fingerprints take turns; bounded', () => {
    const c = new BytesCache<string>(2);
    const a = hex('0011223344');
    const b = hex('ff11223344'); // same length and last four bytes as `a`
    c.set(a, 'a');
    expect(c.get(new Uint8Array(a))).toBe('a');
    expect(c.get(b)).toBeUndefined();
    c.set(b, 'b');
    expect(c.get(b)).toBe('b');
    expect(c.get(a)).toBeUndefined();
    // A kept copy: rewriting the caller's array does not change what matches.
    const m = hex('0102030405');
    c.set(m, 'm');
    m[0] = 9;
    expect(c.get(m)).toBeUndefined();
    expect(c.get(hex('0102030405'))).toBe('m');
    c.set(hex('aa'), 'x');
    c.set(hex('bbbb'), 'y');
    expect(c.get(hex('0102030405'))).toBeUndefined(); // evicted: two entries at most
    expect(c.get(hex('bbbb'))).toBe('y');
    const none = new BytesCache<string>(0);
    none.set(a, 'a');
    expect(none.get(a)).toBeUndefined();
  });
});
