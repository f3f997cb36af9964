/**
 * Pre-verification: only signatures the engine verified are remembered, a remembered signature answers for
 * exactly its key, message and default ID, and everything else goes to the fallback provider.
 */
import { sm2 } from '@yizheng/gm';
import { cachedSm2Provider, parseCertificate, type Sm2Provider } from '@yizheng/pki';
import { TestPki } from '@yizheng/pki/testing';
import { describe, expect, it } from 'vitest';
import type { SignaturePushBody } from '../evidence/schema.js';
import { preverifiedSm2Provider, preverifyBatch, VerifiedSignatures } from './preverify.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const pki = new TestPki({ seed: 'history-preverify', now: new Date('2026-06-01T00:00:00Z') });
const leaf = pki.root().leaf({ subject: { CN: '医生乙' } });
const key = sm2.importPrivateKey(leaf.privateKeyPem);
const spki = parseCertificate(leaf.der).spki;

function body(message: Uint8Array, signature: Uint8Array, extra: Partial<SignaturePushBody> = {}) {
  return {
    serialNumber: 'S',
    signature: { format: 'raw', value: b64(signature), certificate: leaf.pem },
    original: b64(message),
    ...extra,
  } as SignaturePushBody;
}

describe('history pre-verification', () => {
  it('remembers the signatures that verify, and only those', async () => {
    const m1 = utf8('病历 1');
    const m2 = utf8('病历 2');
    const s1 = sm2.sign(key, m1);
    const s2 = sm2.sign(key, m2);
    const verified = new VerifiedSignatures();
    const r = await preverifyBatch(
      [
        body(m1, s1),
        body(m1, s2), // signature of another message
        body(m2, s2, { signature: { format: 'cms', value: b64(s2) } }), // not raw: left to the ingest path
        body(m2, new Uint8Array([1, 2, 3])), // undecodable
      ],
      verified,
    );
    expect(r.verified).toBe(1);
    expect(verified.size).toBe(1);
    expect(verified.has(spki, m1, s1, undefined)).toBe(true);
    expect(verified.has(spki, m1, s2, undefined)).toBe(false);
    expect(verified.has(spki, m2, s2, undefined)).toBe(false);
    // The same signature over another message, under another key or another ID is not vouched for.
    expect(verified.has(spki, m2, s1, undefined)).toBe(false);
    const other = parseCertificate(pki.root().leaf({ subject: { CN: '医生丙' } }).der).spki;
    expect(verified.has(other, m1, s1, undefined)).toBe(false);
    expect(verified.has(spki, m1, s1, 'ALICE123@YAHOO.COM')).toBe(false);
    // A signature one byte off is not vouched for; the same bytes inside a larger buffer are.
    const flipped = Uint8Array.from(s1);
    flipped[flipped.length - 1]! ^= 1;
    expect(verified.has(spki, m1, flipped, undefined)).toBe(false);
    const padded = new Uint8Array(s1.length + 8);
    padded.set(s1, 4);
    expect(verified.has(spki, m1, padded.subarray(4, 4 + s1.length), undefined)).toBe(true);
    expect(verified.has(spki, m1, padded, undefined)).toBe(false);
    verified.delete(r.keys);
    expect(verified.size).toBe(0);
  });

  it('answers remembered triples itself and asks the fallback for anything else', async () => {
    const m = utf8('病历 3');
    const s = sm2.sign(key, m);
    const verified = new VerifiedSignatures();
    const asked: Uint8Array[] = [];
    const inner = cachedSm2Provider(16);
    const fallback: Sm2Provider = {
      verify(k, message, signature, id) {
        asked.push(message);
        return inner.verify(k, message, signature, id);
      },
      sm3: (d) => inner.sm3(d),
    };
    const provider = preverifiedSm2Provider(verified, fallback);
    expect(provider.verify(spki, m, s)).toBe(true);
    expect(asked).toHaveLength(1);
    await preverifyBatch([body(m, s)], verified);
    expect(provider.verify(spki, m, s)).toBe(true);
    expect(asked).toHaveLength(1);
    // A tampered message is checked (and refused) by the fallback.
    expect(provider.verify(spki, utf8('病历 4'), s)).toBe(false);
    expect(asked).toHaveLength(2);
  });
});
