/**
 * The native CMS SignedData locator (`native/signed_data_shape.c`):
 * - the C target `native/test/fuzz_signed_data_shape.c` built with AddressSanitizer and
 *   UndefinedBehaviorSanitizer: random messages of the common shape are accepted with exactly the offsets
 *   their builder recorded, and their mutations and truncations never read outside the input and, when
 *   accepted, give offsets inside it in order;
 * - through N-API: a hand-made message, refusals, the depth limit, and bad arguments.
 * (That its offsets are those of `@yizheng/pki`'s TypeScript walk, on real and mutated messages, is tested in
 * packages/pki/src/fuzz/fuzz.test.ts, "native and TypeScript CMS locators".)
 */
import { describe, expect, it } from 'vitest';
import { signedDataShape } from './index.js';
import { SIGNED_DATA_SHAPE as S, SIGNED_DATA_SHAPE_LENGTH } from './signed-data-shape.js';
import { SANITIZE_FLAGS, cHarness, nativeSource } from './testing/c-harness.js';
import { skipNative } from './testing/engines.js';

const harness = cHarness('yz-sds-');

/** A DER TLV (minimal length, up to 65,535). */
function tlv(tag: number, ...parts: (number[] | Uint8Array)[]): number[] {
  const body = parts.flatMap((p) => Array.from(p));
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return [tag, ...len, ...body];
}
const SIGNED_DATA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const SM3 = [0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11];
const SM3_WITH_SM2 = [0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75];
const DATA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const pkcs9 = (arc: number): number[] => tlv(0x06, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, arc]);

/** A minimal message of the common shape: one SM3 digest algorithm, 200 bytes of content, one certificate. */
function message(opts: { otherValue?: number[]; unsigned?: boolean } = {}): Uint8Array {
  const alg = tlv(0x30, tlv(0x06, SM3));
  const attrs = tlv(
    0xa0,
    tlv(0x30, pkcs9(3), tlv(0x31, tlv(0x06, DATA))),
    tlv(0x30, pkcs9(4), tlv(0x31, tlv(0x04, new Uint8Array(32).fill(7)))),
    ...(opts.otherValue ? [tlv(0x30, tlv(0x06, [0x2b, 0x06, 0x01]), tlv(0x31, opts.otherValue))] : []),
  );
  const signerInfo = tlv(
    0x30,
    tlv(0x02, [1]),
    tlv(0x30, tlv(0x30, tlv(0x31, [1, 2, 3])), tlv(0x02, [0x42])),
    alg,
    attrs,
    tlv(0x30, tlv(0x06, SM3_WITH_SM2)),
    tlv(0x04, new Uint8Array(70).fill(9)),
    ...(opts.unsigned ? [tlv(0xa1, tlv(0x30, tlv(0x06, [0x2b, 1])))] : []),
  );
  const sd = tlv(
    0x30,
    tlv(0x02, [1]),
    tlv(0x31, alg),
    tlv(0x30, tlv(0x06, DATA), tlv(0xa0, tlv(0x04, new Uint8Array(200).fill(5)))),
    tlv(0xa0, tlv(0x30, tlv(0x30, [0x05, 0x00]))),
    tlv(0x31, signerInfo),
  );
  return Uint8Array.from(tlv(0x30, tlv(0x06, SIGNED_DATA), tlv(0xa0, sd)));
}

describe.skipIf(skipNative)('native SignedData locator', () => {
  it('C target under ASan/UBSan: built, mutated and truncated messages for 3 s', () => {
    harness({
      name: 'fuzz_signed_data_shape',
      sources: ['test/fuzz_signed_data_shape.c', 'signed_data_shape.c'].map(nativeSource),
      flags: [...SANITIZE_FLAGS, '-g', '-D_POSIX_C_SOURCE=200809L'],
      args: ['3', '20261208'],
      success: /messages built, \d+ mutations \(\d+ accepted\): no property violated/,
    });
  });

  it('locates the fields of a hand-made message', () => {
    const locate = signedDataShape!;
    const der = message();
    const o = new Int32Array(SIGNED_DATA_SHAPE_LENGTH);
    expect(locate(der, 64, o)).toBe(true);
    const at = (i: number): number[] => Array.from(der.subarray(o[i], o[i + 1]));
    expect(at(S.content)).toEqual(Array(200).fill(5));
    expect(at(S.eContentType)).toEqual(DATA);
    expect(at(S.digestAlgorithm)).toEqual(SM3);
    expect(at(S.signatureAlgorithm)).toEqual(SM3_WITH_SM2);
    expect(at(S.signature)).toEqual(Array(70).fill(9));
    expect(at(S.messageDigest)).toEqual([0x04, 32, ...Array(32).fill(7)]);
    expect(at(S.contentType)).toEqual(tlv(0x06, DATA));
    expect([o[S.signingTime], o[S.signingTime + 1]]).toEqual([-1, -1]);
    expect(o[S.sidTag]).toBe(0x30);
    expect(at(S.issuer)).toEqual(tlv(0x30, tlv(0x31, [1, 2, 3])));
    expect(at(S.serial)).toEqual([0x42]);
    expect(o[S.digestAlgorithms]).toBe(1);
    expect(Array.from(der.subarray(o[S.digestAlgorithms + 1], o[S.digestAlgorithms + 2]))).toEqual(SM3);
    expect(o[S.certificates]).toBe(1);
    expect(o[S.otherAttributes]).toBe(0);
    expect(der[o[S.signedAttrs]!]).toBe(0xa0);
  });

  it('refuses other shapes: unsigned attributes, trailing bytes, a non-minimal length, truncation', () => {
    const locate = signedDataShape!;
    const o = new Int32Array(SIGNED_DATA_SHAPE_LENGTH);
    expect(locate(message({ unsigned: true }), 64, o)).toBe(false);
    expect(locate(Uint8Array.from([...message(), 0]), 64, o)).toBe(false);
    const der = message();
    expect(der[1]).toBe(0x82);
    const nonMinimal = Uint8Array.from([0x30, 0x83, 0, der[2]!, der[3]!, ...der.subarray(4)]);
    expect(locate(nonMinimal, 64, o)).toBe(false);
    for (let n = 0; n < der.length; n += 7) expect(locate(der.subarray(0, n), 64, o)).toBe(false);
    expect(locate(new Uint8Array(0), 64, o)).toBe(false);
  });

  it('walks other attributes’ values within the depth limit', () => {
    const locate = signedDataShape!;
    const o = new Int32Array(SIGNED_DATA_SHAPE_LENGTH);
    // The value SET is at depth 8, its SEQUENCE at 9, the innermost OCTET STRING at 11.
    const deep = message({ otherValue: tlv(0x30, tlv(0x30, tlv(0x04, [1]))) });
    expect(locate(deep, 11, o)).toBe(true);
    expect(o[S.otherAttributes]).toBe(1);
    expect(locate(deep, 10, o)).toBe(false);
    // Nested far deeper than the C walk recurses: refused (left to the caller's walk), not a crash.
    let v = tlv(0x04, [1]);
    for (let i = 0; i < 400; i++) v = tlv(0x30, v);
    expect(locate(message({ otherValue: v }), 100_000, o)).toBe(false);
  });

  it('refuses bad arguments with GM_INVALID_ARGUMENT', () => {
    const locate = signedDataShape! as unknown as (...a: unknown[]) => boolean;
    const der = message();
    const cases: unknown[][] = [
      [],
      [der, 64],
      ['x', 64, new Int32Array(SIGNED_DATA_SHAPE_LENGTH)],
      [der, 'deep', new Int32Array(SIGNED_DATA_SHAPE_LENGTH)],
      [der, 64, new Int32Array(SIGNED_DATA_SHAPE_LENGTH - 1)],
      [der, 64, new Uint32Array(SIGNED_DATA_SHAPE_LENGTH)],
      [new Uint16Array(8), 64, new Int32Array(SIGNED_DATA_SHAPE_LENGTH)],
    ];
    for (const args of cases)
      expect(() => locate(...args)).toThrow(expect.objectContaining({ code: 'GM_INVALID_ARGUMENT' }));
  });
});
