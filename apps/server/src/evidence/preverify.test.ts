/**
 * Pre-verification: only signatures the engine verified are remembered — raw signatures and the SM2 signers of
 * CMS SignedData, each with the exact message the check will hand the provider — a remembered signature answers
 * for exactly its key, message and default ID, and everything else goes to the fallback provider.
 */
import { sm2 } from '@yizheng/gm';
import {
  buildSignedData,
  cachedSm2Provider,
  parseCertificate,
  parseSignedData,
  signerFromPrivateKey,
  type Sm2Provider,
} from '@yizheng/pki';
import { TestPki } from '@yizheng/pki/testing';
import { describe, expect, it } from 'vitest';
import {
  preverifiedSm2Provider,
  preverifySignatures,
  VerifiedSignatures,
  type PreverifyInput,
} from './preverify.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const pki = new TestPki({ seed: 'evidence-preverify', now: new Date('2026-06-01T00:00:00Z') });
const leaf = pki.root().leaf({ subject: { CN: '医生乙' } });
const key = sm2.importPrivateKey(leaf.privateKeyPem);
const spki = parseCertificate(leaf.der).spki;

function raw(
  message: Uint8Array,
  signature: Uint8Array,
  extra: Partial<PreverifyInput> = {},
): PreverifyInput {
  return {
    format: 'raw',
    signature,
    certificates: [leaf.der],
    original: message,
    ...extra,
  } as PreverifyInput;
}

function cms(der: Uint8Array, extra: Partial<PreverifyInput> = {}): PreverifyInput {
  return { format: 'cms', signature: der, certificates: [], original: undefined, ...extra } as PreverifyInput;
}

describe('pre-verification of raw signatures', () => {
  it('remembers the signatures that verify, and only those', async () => {
    const m1 = utf8('病历 1');
    const m2 = utf8('病历 2');
    const s1 = sm2.sign(key, m1);
    const s2 = sm2.sign(key, m2);
    const verified = new VerifiedSignatures();
    const r = await preverifySignatures(
      [
        raw(m1, s1),
        raw(m1, s2), // signature of another message
        raw(m2, s2, { algorithm: 'SM3withSM2' }), // an explicit algorithm: left to the synchronous check
        raw(m2, s2, { certificates: [] }), // no signer certificate
        raw(m2, s2, { certificates: [utf8('not a certificate')] }),
        raw(m2, new Uint8Array([1, 2, 3])), // undecodable
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

  it('an item the engine refuses remembers nothing and rejects nothing: the synchronous check decides', async () => {
    const m = utf8('病历 5');
    const s = sm2.sign(key, m);
    const verified = new VerifiedSignatures();
    const broken = raw(m, [...s] as unknown as Uint8Array); // not bytes: verifyBatchAsync rejects the batch
    const r = await preverifySignatures([raw(m, s), broken], verified);
    expect(r.verified).toBe(0);
    expect(verified.size).toBe(0);
    expect((await preverifySignatures([raw(m, s)], verified)).verified).toBe(1);
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
    await preverifySignatures([raw(m, s)], verified);
    expect(provider.verify(spki, m, s)).toBe(true);
    expect(asked).toHaveLength(1);
    // A tampered message is checked (and refused) by the fallback.
    expect(provider.verify(spki, utf8('病历 4'), s)).toBe(false);
    expect(asked).toHaveLength(2);
  });
});

describe('pre-verification of CMS SignedData', () => {
  const signer = signerFromPrivateKey(leaf.privateKeyPem);
  const certificate = parseCertificate(leaf.der);
  const content = utf8('知情同意书：同意手术。');

  it('remembers an SM2 signer over its signed attributes (SET-tagged DER), under both OID conventions', async () => {
    for (const oids of ['gmt0010', 'rfc5652'] as const) {
      const der = buildSignedData({ content, signers: [{ signer, certificate }], oids });
      const s = parseSignedData(der).signers[0]!;
      expect(s.signedAttrs?.[0]).toBe(0x31);
      const verified = new VerifiedSignatures();
      const r = await preverifySignatures([cms(der), raw(content, s.signature)], verified);
      expect(r.verified).toBe(1);
      expect(r.parsed[0]?.content).toEqual(content);
      expect(r.parsed[1]).toBeUndefined();
      expect(verified.has(spki, s.signedAttrs!, s.signature, undefined)).toBe(true);
      // Not for the content: the signature covers the attributes.
      expect(verified.has(spki, content, s.signature, undefined)).toBe(false);
    }
  });

  it('without signed attributes the message is the content: attached, or the pushed original when detached', async () => {
    const attached = buildSignedData({
      content,
      signers: [{ signer, certificate, signedAttributes: false }],
    });
    const detached = buildSignedData({
      content,
      detached: true,
      signers: [{ signer, certificate, signedAttributes: false }],
    });
    const verified = new VerifiedSignatures();
    const r = await preverifySignatures(
      [cms(attached), cms(detached, { original: content }), cms(detached)],
      verified,
    );
    expect(r.verified).toBe(2); // the detached one without its original has no message to check
    for (const der of [attached, detached]) {
      const s = parseSignedData(der).signers[0]!;
      expect(verified.has(spki, content, s.signature, undefined)).toBe(true);
    }
  });

  it('finds the signer certificate among the certificates pushed beside the message', async () => {
    const der = buildSignedData({
      content,
      signers: [{ signer, certificate }],
      includeSignerCertificates: false,
    });
    const verified = new VerifiedSignatures();
    expect((await preverifySignatures([cms(der)], verified)).verified).toBe(0);
    expect((await preverifySignatures([cms(der, { certificates: [leaf.der] })], verified)).verified).toBe(1);
  });

  it('remembers nothing for a signature that does not verify, a non-SM2 signer or unreadable input', async () => {
    const der = buildSignedData({ content, signers: [{ signer, certificate }] });
    const s = parseSignedData(der).signers[0]!;
    // Flip a byte of the signature value inside the message (the last byte of the SignerInfo's signature).
    const at = Buffer.from(der).lastIndexOf(Buffer.from(s.signature));
    const bad = Uint8Array.from(der);
    bad[at + s.signature.length - 1]! ^= 1;
    const rsaLeaf = pki.root().leaf({ subject: { CN: '医生丁' }, kind: 'rsa' });
    const rsa = buildSignedData({
      content,
      signers: [
        { signer: signerFromPrivateKey(rsaLeaf.privateKeyPem), certificate: parseCertificate(rsaLeaf.der) },
      ],
    });
    const verified = new VerifiedSignatures();
    const r = await preverifySignatures(
      [cms(bad), cms(rsa), cms(utf8('not a CMS')), cms(der.subarray(0, 40))],
      verified,
    );
    expect(r.verified).toBe(0);
    expect(verified.size).toBe(0);
    // What parses is handed back for the check to reuse (it fails there, by name); what does not, is not.
    expect(r.parsed.map((p) => p?.signers.length)).toEqual([1, 1, undefined, undefined]);
  });
});
