import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import {
  children,
  decodeOid,
  decodeUnsignedInteger,
  integer,
  oid,
  readOnly,
  readTlv,
  sequence,
} from './der.js';
import { decodePem, encodePem } from './pem.js';
import { expectCode } from './testing/expect-code.js';

describe('DER', () => {
  it.each([
    ['1.2.156.10197.1.301', '06082a811ccf5501822d'],
    ['1.2.840.10045.2.1', '06072a8648ce3d0201'],
    ['2.999.3', '0603883703'],
  ])('encodes and decodes OID %s', (dotted, hex) => {
    expect(toHex(oid(dotted))).toBe(hex);
    expect(decodeOid(readOnly(fromHex(hex), 0x06))).toBe(dotted);
  });

  it.each([
    [0n, '020100'],
    [127n, '02017f'],
    [128n, '02020080'],
    [256n, '02020100'],
  ])('encodes INTEGER %s minimally', (v, hex) => {
    expect(toHex(integer(v))).toBe(hex);
    expect(decodeUnsignedInteger(readOnly(fromHex(hex), 0x02))).toBe(v);
  });

  it('reads long-form lengths and nested children', () => {
    const big = sequence(...Array.from({ length: 100 }, (_, i) => integer(i)));
    expect(toHex(big.subarray(0, 2))).toBe('3082');
    expect(children(readOnly(big, 0x30))).toHaveLength(100);
  });

  it.each([
    ['truncated', '3005020101'],
    ['indefinite length', '3080020101 0000'],
    ['non-minimal length', '30810302 0101'],
    ['length past end', '3084ffffffff'],
    ['high tag number', '1f8101'],
    ['trailing bytes', '02010100'],
  ])('rejects %s', (_what, hex) => {
    expectCode(
      () => readOnly(fromHex(hex.replace(/ /g, '')), readTlv(fromHex(hex.replace(/ /g, ''))).tag),
      'GM_INVALID_DER',
    );
  });

  it('rejects non-minimal and negative INTEGERs, bad OIDs', () => {
    expectCode(() => decodeUnsignedInteger(fromHex('0001')), 'GM_INVALID_DER');
    expectCode(() => decodeUnsignedInteger(fromHex('ff80')), 'GM_INVALID_DER');
    expectCode(() => decodeUnsignedInteger(fromHex('80')), 'GM_INVALID_DER');
    expectCode(() => decodeUnsignedInteger(new Uint8Array(0)), 'GM_INVALID_DER');
    expectCode(() => decodeOid(fromHex('2a8080')), 'GM_INVALID_DER'); // truncated arc
    expectCode(() => decodeOid(fromHex('2a8001')), 'GM_INVALID_DER'); // non-minimal arc
    expectCode(() => decodeOid(fromHex('2affffffffff7f')), 'GM_INVALID_DER'); // arc ≥ 2^32
  });
});

describe('PEM', () => {
  it('round-trips and wraps at 64 columns', () => {
    const der = new Uint8Array(200).map((_, i) => i);
    const pem = encodePem('PUBLIC KEY', der);
    expect(pem.split('\n')[1]).toHaveLength(64);
    expect(decodePem(pem)).toEqual({ label: 'PUBLIC KEY', der });
    expect(decodePem(pem.replace(/\n/g, '\r\n')).der).toEqual(der);
  });

  it('rejects a missing block and bad base64', () => {
    expectCode(() => decodePem('hello'), 'GM_INVALID_PEM');
    expectCode(() => decodePem('-----BEGIN X-----\nAB=C\n-----END X-----'), 'GM_INVALID_PEM');
  });
});
