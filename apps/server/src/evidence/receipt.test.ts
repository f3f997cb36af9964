import { describe, expect, it } from 'vitest';
import { sm2 } from '@yizheng/gm';
import { canonicalJson, type CanonicalValue } from '../audit/canonical-json.js';
import { randomInteger, randomString, randomValue, seeded } from '../audit/canonical-random.test-support.js';
import {
  receiptBytes,
  receiptText,
  RECEIPT_TYPE,
  signReceipt,
  signReceipts,
  verifyReceipt,
  type ReceiptBody,
} from './receipt.js';
import type { RevocationSummary } from './revocation.js';
import { summaryJson, type TimestampSummary, type VerificationSummary } from './verify-signature.js';

function outcome(f: () => string): string {
  try {
    return `ok:${f()}`;
  } catch (e) {
    return `throws:${(e as Error).constructor.name}`;
  }
}

function randomBody(rnd: () => number): ReceiptBody {
  const t = (): string => randomString(rnd, 20);
  return {
    type: RECEIPT_TYPE,
    id: t(),
    kind: (['signature', 'digest', 'file'] as const)[Math.floor(rnd() * 3)]!,
    projectId: t(),
    appId: t(),
    serialNumber: t(),
    evidenceHash: t(),
    logIndex: Math.abs(randomInteger(rnd)),
    receivedAt: t(),
    verification: randomValue(rnd, 3),
  };
}

function randomSummary(rnd: () => number): VerificationSummary {
  const t = (): string => randomString(rnd, 20);
  const maybe = (): string | null => (rnd() < 0.3 ? null : t());
  const revocation = { status: t(), revokedAt: maybe(), source: maybe(), detail: t() } as RevocationSummary;
  const timestamp =
    rnd() < 0.5 ? null : ({ genTime: t(), tsa: maybe(), covers: t(), source: t() } as TimestampSummary);
  // Members in the order verifyCms writes them (not sorted), as the summary reaches the serialiser.
  return {
    format: t(),
    signatureAlgorithm: t(),
    digestAlgorithm: maybe(),
    signer: t(),
    signerIssuer: t(),
    signerSerial: t(),
    signerNotBefore: t(),
    signerNotAfter: t(),
    signingTime: t(),
    signingTimeSource: t(),
    chain: t(),
    timestamp,
    against: t(),
    revocation,
  } as unknown as VerificationSummary;
}

describe('receipt text', () => {
  it('equals canonicalJson of the body, byte for byte, over random bodies (unicode, escapes, lone surrogates)', () => {
    const rnd = seeded(4242);
    const differing: ReceiptBody[] = [];
    for (let n = 0; n < 2000; n++) {
      const body = randomBody(rnd);
      const reference = canonicalJson(body as unknown as CanonicalValue);
      const text = receiptText(body, canonicalJson(body.verification));
      if (text !== reference || Buffer.from(receiptBytes(body)).toString() !== Buffer.from(text).toString())
        differing.push(body);
    }
    expect(differing).toEqual([]);
  });

  it('on ill-typed members behaves as canonicalJson (same text or same error class)', () => {
    const rnd = seeded(7);
    const bad: unknown[] = [undefined, 1.5, Number.NaN, 2 ** 53, true, '12', 7, null, { a: 1 }];
    const fields = Object.keys(randomBody(rnd)).filter((k) => k !== 'verification');
    for (const field of fields)
      for (const v of bad) {
        const body = { ...randomBody(rnd), [field]: v } as ReceiptBody;
        expect(outcome(() => receiptText(body, canonicalJson(body.verification)))).toBe(
          outcome(() => canonicalJson(body as unknown as CanonicalValue)),
        );
      }
  });

  it('is what signReceipt signs, with or without the summary text given', () => {
    const key = sm2.generateKeyPair();
    const rnd = seeded(3);
    for (let n = 0; n < 20; n++) {
      const body = randomBody(rnd);
      expect(verifyReceipt(key, signReceipt(key, body))).toBe(true);
      expect(verifyReceipt(key, signReceipt(key, body, canonicalJson(body.verification)))).toBe(true);
    }
  });

  it('signReceipts gives, in order, the receipts signReceipt gives (each signature verifying for its own body)', async () => {
    const key = sm2.generateKeyPair();
    const rnd = seeded(4);
    const bodies = Array.from({ length: 300 }, () => randomBody(rnd));
    const receipts = await signReceipts(
      key,
      bodies.map((body, i) => ({
        body,
        verificationJson: i % 2 === 0 ? canonicalJson(body.verification) : undefined,
      })),
    );
    expect(receipts).toHaveLength(300);
    receipts.forEach((r, i) => {
      const { signature, ...rest } = r;
      const single = signReceipt(key, bodies[i]!);
      expect(rest).toEqual(bodies[i]);
      expect({ ...signature, value: '' }).toEqual({ ...single.signature, value: '' });
      expect(verifyReceipt(key, r)).toBe(true);
      // Another body under this signature does not verify: the signatures are not shuffled.
      expect(verifyReceipt(key, { ...receipts[(i + 1) % 300]!, signature })).toBe(false);
    });
    expect(await signReceipts(key, [])).toEqual([]);
  });
});

describe('verification summary text', () => {
  it('equals canonicalJson of the summary over random summaries', () => {
    const rnd = seeded(99);
    const differing: VerificationSummary[] = [];
    for (let n = 0; n < 2000; n++) {
      const s = randomSummary(rnd);
      if (summaryJson(s) !== canonicalJson(s as unknown as CanonicalValue)) differing.push(s);
    }
    expect(differing).toEqual([]);
  });

  it('with another shape or ill-typed members behaves as canonicalJson (same text or same error class)', () => {
    const rnd = seeded(5);
    const bad: unknown[] = [undefined, 1.5, Number.NaN, 7, true, null, { a: 1 }, ['x']];
    const base = randomSummary(rnd);
    for (const field of Object.keys(base))
      for (const v of bad) {
        const s = { ...randomSummary(rnd), [field]: v };
        expect(outcome(() => summaryJson(s))).toBe(
          outcome(() => canonicalJson(s as unknown as CanonicalValue)),
        );
      }
    const extra = { ...randomSummary(rnd), extra: 'x' } as unknown as VerificationSummary;
    expect(summaryJson(extra)).toBe(canonicalJson(extra as unknown as CanonicalValue));
    const s = randomSummary(rnd);
    const nested = {
      ...s,
      revocation: { ...s.revocation, extra: 1 },
      timestamp: { genTime: 'g', tsa: null, covers: 'c', source: 's', more: true },
    } as unknown as VerificationSummary;
    expect(summaryJson(nested)).toBe(canonicalJson(nested as unknown as CanonicalValue));
    const badNested = {
      ...s,
      revocation: { ...s.revocation, detail: 1.5 },
    } as unknown as VerificationSummary;
    expect(outcome(() => summaryJson(badNested))).toBe('throws:TypeError');
  });
});
