// The cached CMS verifier must decide exactly as verifySignedData does: checked on openssl- and builder-made
// SignedData (RSA, P-256, SM2 under both OID conventions, BER, several signers) and on 1,500 mutations of them.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from './certificate.js';
import { cachedSm2Provider, createCmsVerifier } from './cms-verifier.js';
import { makeCorpus } from './fuzz/corpus.js';
import { Prng, mutate } from './fuzz/mutate.js';
import { parseSignedData, verifySignedData, type SignedDataResult } from './signed-data.js';
import { buildSignedData } from './signed-data-builder.js';
import { signerFromKeyObject, signerFromPrivateKey } from './signer.js';
import { gmSm2Provider } from './sm2.js';

const corpus = makeCorpus();
const anchors = corpus.issuers.map((c) => parseCertificate(c));
const certificates = corpus.certificate.map((c) => parseCertificate(c));
const at = new Date(Date.now() + 60_000);

const summary = (r: SignedDataResult): { valid: boolean; codes: string[]; signers: number } => ({
  valid: r.valid,
  codes: r.failures.map((f) => `${f.signerIndex ?? '-'}:${f.code}:${f.check ?? ''}`),
  signers: r.signers.length,
});

describe('createCmsVerifier', () => {
  const reference = { trustAnchors: anchors, certificates, at, policy: { sm2: gmSm2Provider } };
  const fast = createCmsVerifier({
    trustAnchors: anchors,
    certificates,
    policy: { sm2: cachedSm2Provider() },
  });

  it('parses the seeds exactly as parseSignedData does', () => {
    for (const cms of corpus.cms) {
      const a = parseSignedData(cms);
      const b = fast.parse(cms);
      expect(b.contentType).toBe(a.contentType);
      expect(b.eContentType).toBe(a.eContentType);
      expect(b.content).toEqual(a.content);
      expect(b.certificates.map((c) => c.der)).toEqual(a.certificates.map((c) => c.der));
      expect(b.signers).toEqual(a.signers);
    }
  });

  it('gives the same result as verifySignedData on every seed, with and without the content', () => {
    for (const cms of corpus.cms) {
      expect(summary(fast.verify(cms, { at, content: corpus.content }))).toEqual(
        summary(verifySignedData(cms, { ...reference, content: corpus.content })),
      );
      const r = fast.verify(cms, { at });
      expect(summary(r)).toEqual(summary(verifySignedData(cms, reference)));
    }
    expect(corpus.cms.every((c) => fast.verify(c, { at, content: corpus.content }).valid)).toBe(true);
  });

  it('on 1,500 mutated inputs: the same result as verifySignedData whenever both parse; never valid where it is not', () => {
    const rng = new Prng(20261201);
    let rejected = 0;
    let stricter = 0;
    const disagreements: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const input = mutate(rng.pick(corpus.cms), rng, corpus.cms);
      const ref = verifySignedData(input, { ...reference, content: corpus.content });
      const ours = fast.verify(input, { at, content: corpus.content });
      const a = summary(ref);
      const b = summary(ours);
      if (!a.valid) rejected++;
      const parsedRef = ref.signers.length > 0;
      const parsedOurs = ours.signers.length > 0;
      if (parsedOurs && !parsedRef) {
        // Only the schema pass decodes values verification does not use; such input must still fail here.
        const schema = ref.failures[0]?.message === 'not a valid SignedData';
        if (!schema || b.valid) disagreements.push(`${i}: only ours parses: ${JSON.stringify(b)}`);
      } else if (parsedRef && !parsedOurs) {
        // The structural checks here are stricter (extra SEQUENCE elements, non-minimal OID arcs): allowed,
        // but only as a parse failure.
        stricter++;
        if (b.codes.join() !== '-:PKI_ASN1_INVALID:') disagreements.push(`${i}: ${JSON.stringify(b)}`);
      } else if (JSON.stringify(a) !== JSON.stringify(b) && (parsedRef || a.valid !== b.valid))
        disagreements.push(`${i}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    expect(disagreements).toEqual([]);
    expect(rejected).toBeGreaterThan(1000);
    expect(stricter).toBeLessThan(100);
  });

  it('caches certificates by their bytes and SM2 keys by SPKI, and still rejects a tampered one', () => {
    const sm2Cms = corpus.cms.find(
      (c) => parseSignedData(c).signers[0]?.digestAlgorithm === '1.2.156.10197.1.401',
    );
    expect(sm2Cms).toBeDefined();
    if (!sm2Cms) return;
    const a = fast.parse(sm2Cms);
    const b = fast.parse(Uint8Array.from(sm2Cms));
    expect(b.certificates[0]).toBe(a.certificates[0]); // the same parsed object
    expect(fast.verify(sm2Cms, { at, content: corpus.content }).valid).toBe(true);
    // Flip one bit inside the signature value.
    const t = Uint8Array.from(sm2Cms);
    const sig = a.signers[0]?.signature ?? new Uint8Array();
    const off = Buffer.from(t).lastIndexOf(Buffer.from(sig));
    expect(off).toBeGreaterThan(0);
    t[off + 10] = (t[off + 10] ?? 0) ^ 1;
    expect(fast.verify(t, { at }).failures.map((f) => f.code)).toContain('PKI_CMS_SIGNATURE_INVALID');
  });

  it('decodes OIDs with large arcs as openssl does, and as parseSignedData does beyond 2^53', () => {
    // A P-256 key and a certificate for it, made by openssl.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const dir = mkdtempSync(join(tmpdir(), 'pki-oid-'));
    writeFileSync(join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const certPem = execFileSync(
      'openssl',
      ['req', '-x509', '-key', join(dir, 'k.pem'), '-subj', '/CN=oid', '-days', '1'],
      { encoding: 'utf8' },
    );
    rmSync(dir, { recursive: true, force: true });
    const certificate = parseCertificate(certPem);
    const signer = signerFromKeyObject(privateKey);
    const cmsWith = (eContentType: string): Uint8Array =>
      buildSignedData({ content: corpus.content, eContentType, signers: [{ signer, certificate }] });
    const large = `1.2.840.${2 ** 40}.${2 ** 50}.1`;
    const cms = cmsWith(large);
    expect(fast.parse(cms).eContentType).toBe(large);
    const text = execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: cms, encoding: 'utf8' });
    expect(text).toContain(`:${large}`);
    const huge = cmsWith(`1.2.840.${2n ** 70n}.1`);
    expect(fast.parse(huge).eContentType).toBe(parseSignedData(huge).eContentType);
    const plain = createCmsVerifier({ policy: reference.policy });
    expect(summary(plain.verify(huge))).toEqual(
      summary(verifySignedData(huge, { policy: reference.policy })),
    );
    expect(plain.verify(cms).valid).toBe(true);
  });
});

describe('createCmsVerifier: the offset path for the common message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pki-fast-'));
  const f = (n: string): string => join(dir, n);
  execFileSync('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:SM2',
    '-out',
    f('k.pem'),
  ]);
  execFileSync('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    f('k.pem'),
    '-sm3',
    '-sigopt',
    'distid:1234567812345678',
    '-subj',
    '/C=CN/O=某某医院/CN=医生张三',
    '-utf8',
    '-days',
    '30',
    '-outform',
    'DER',
    '-out',
    f('c.der'),
  ]);
  const certificate = parseCertificate(new Uint8Array(readFileSync(f('c.der'))));
  const signer = signerFromPrivateKey(readFileSync(f('k.pem'), 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const content = new TextEncoder().encode('门诊病历'.repeat(86));
  const cms = buildSignedData({ content, signers: [{ signer, certificate }], oids: 'gmt0010' });
  const policy = { sm2: gmSm2Provider };
  /** One byte of `cms` changed at the first occurrence of `marker` (plus `delta`). */
  const tampered = (marker: Uint8Array, delta = 0): Uint8Array => {
    const t = Uint8Array.from(cms);
    const off = Buffer.from(t).indexOf(Buffer.from(marker)) + delta;
    expect(off).toBeGreaterThan(0);
    t[off] = (t[off] ?? 0) ^ 1;
    return t;
  };

  it('gives verifySignedData’s full result, with and without trust anchors, from the second message on', () => {
    for (const options of [{ policy }, { policy, trustAnchors: [certificate] }]) {
      const verifier = createCmsVerifier(options);
      const first = verifier.verify(cms);
      const again = verifier.verify(Uint8Array.from(cms));
      const reference = verifySignedData(cms, options);
      expect(reference.valid).toBe(true);
      expect(first).toEqual(reference);
      expect(again).toEqual(reference);
      // The offset path's answer: the shared, frozen empty failure lists (the general path builds new ones).
      expect(Object.isFrozen(first.failures)).toBe(false);
      expect(Object.isFrozen(again.failures)).toBe(true);
      expect(again.signers[0]?.signingTime).toBeInstanceOf(Date);
      expect(again.content).toEqual(content);
    }
  });

  it('leaves every failure to the general path, which reports it as verifySignedData does', () => {
    const verifier = createCmsVerifier({ policy });
    expect(verifier.verify(cms).valid).toBe(true);
    const parsed = parseSignedData(cms);
    const si = parsed.signers[0];
    if (!si?.signedAttrs) throw new Error('no signed attributes');
    const cases: [string, Uint8Array][] = [
      ['content', tampered(content.subarray(0, 16), 3)],
      ['signature', tampered(si.signature, 20)],
      ['signed attributes', tampered(si.signedAttrs.subarray(2, 40), 30)],
      ['certificate', tampered(certificate.spki, certificate.spki.length - 5)],
    ];
    for (const [what, input] of cases) {
      const r = verifier.verify(input);
      const reference = verifySignedData(input, { policy });
      expect(r.valid, what).toBe(false);
      expect(summary(r), what).toEqual(summary(reference));
    }
    // A detached message and a call-time content take the general path too.
    const detached = buildSignedData({
      content,
      detached: true,
      signers: [{ signer, certificate }],
      oids: 'gmt0010',
    });
    expect(summary(verifier.verify(detached, { content }))).toEqual(
      summary(verifySignedData(detached, { policy, content })),
    );
    expect(verifier.verify(detached).failures.map((x) => x.code)).toEqual(['PKI_CMS_CONTENT_MISSING']);
  });

  it('reads the time from `at` at call time and validates the path then', () => {
    const verifier = createCmsVerifier({ policy, trustAnchors: [certificate] });
    verifier.verify(cms);
    const later = new Date(certificate.notAfter.getTime() + 1000);
    const r = verifier.verify(cms, { at: later });
    expect(summary(r)).toEqual(
      summary(verifySignedData(cms, { policy, trustAnchors: [certificate], at: later })),
    );
    expect(r.failures.map((x) => x.code)).toContain('PKI_CERT_EXPIRED');
    const now = verifier.verify(cms, { at: new Date() });
    expect(now.valid).toBe(true);
    expect(now.signers[0]?.validatedAt).toBeInstanceOf(Date);
  });
});
