// The cached CMS verifier must decide exactly as verifySignedData does: checked on openssl- and builder-made
// SignedData (RSA, P-256, SM2 under both OID conventions, BER, several signers) and on 1,500 mutations of them.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { buildCertificate } from './certificate-builder.js';
import { cachedSm2Provider, createCmsVerifier, type CmsVerifier } from './cms-verifier.js';
import { childrenOf, depthOf, scanDer, tlvBytes, toPem, type DerLimits, type Tlv } from './der.js';
import { makeCorpus } from './fuzz/corpus.js';
import { Prng, mutate } from './fuzz/mutate.js';
import { namesMatch } from './name-compare.js';
import { parseSignedData, verifySignedData, type SignedDataResult } from './signed-data.js';
import { buildSignedData } from './signed-data-builder.js';
import { signerFromKeyObject, signerFromPrivateKey } from './signer.js';
import { gmSm2Provider } from './sm2.js';
import { testKey } from './testing/keys.js';

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

  // The general path alone: `verify` takes PEM text through `parse` and verifySignedData, never the offsets.
  const general = (v: CmsVerifier, input: Uint8Array, call?: { content?: Uint8Array }): SignedDataResult =>
    v.verify(toPem(input, 'CMS'), call);
  /** Whether the result came from the offset path (it answers with the shared, frozen empty lists). */
  const viaOffsets = (r: SignedDataResult): boolean => Object.isFrozen(r.failures);
  /**
   * `cms` with every definite length of a constructed value in the 4-byte long form (BER, not DER), except
   * inside the carried certificates and the signer's issuer Name; the signed attributes re-signed as
   * re-encoded, so that the signature is over the exact bytes received.
   */
  const longForm = (input: Uint8Array): Uint8Array => {
    const header = (tag: number, n: number): Uint8Array =>
      Uint8Array.of(tag, 0x84, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    let signedAttrs: Uint8Array | undefined;
    const rebuild = (t: Tlv, path: readonly number[]): Uint8Array => {
      const parent = path[path.length - 1];
      if (parent === 0xa0 && t.tagByte === 0x30 && path.length === 4) return tlvBytes(input, t); // a certificate
      // The signer's issuer Name as in its certificate: the offsets are taken for a Name checked before.
      if (parent === 0x30 && t.tagByte === 0x30 && path.length === 6) return tlvBytes(input, t);
      if (t.tagByte === 0x04 && parent === 0x30 && path.length === 5 && signedAttrs) {
        const sig = signer.sign(Uint8Array.from([0x31, ...signedAttrs.subarray(1)]));
        return Uint8Array.from([0x04, sig.length, ...sig]);
      }
      if (!t.constructed) return tlvBytes(input, t);
      const inner = childrenOf(input, t).map((c) => rebuild(c, [...path, t.tagByte]));
      const n = inner.reduce((a, b) => a + b.length, 0);
      const out = Buffer.concat([header(t.tagByte, n), ...inner]);
      if (t.tagByte === 0xa0 && path.length === 5) signedAttrs = new Uint8Array(out);
      return new Uint8Array(out);
    };
    return rebuild(scanDer(input, { mode: 'ber' }), []);
  };

  it('answers exactly as the general path, valid and broken, and takes the offsets only where it may', () => {
    const verifier = createCmsVerifier({ policy });
    const withAnchors = createCmsVerifier({ policy, trustAnchors: [certificate] });
    const parsed = parseSignedData(cms);
    const si = parsed.signers[0];
    if (!si?.signedAttrs) throw new Error('no signed attributes');
    const attrs = si.signedAttrs;
    const ber = longForm(cms);
    expect(Buffer.from(ber).equals(Buffer.from(cms))).toBe(false);
    // Another SM2 key and certificate with the same issuer and serial number: the wrong certificate.
    const other = parseCertificate(
      buildCertificate({
        subject: certificate.subjectDer,
        issuer: certificate,
        subjectPublicKeyInfo: testKey('cms-verifier', 'other', 'sm2').signer.publicKeyInfo,
        serial: BigInt(`0x${certificate.serialHex}`),
        notBefore: certificate.notBefore,
        notAfter: certificate.notAfter,
        signer,
      }),
    );
    const wrongCert = buildSignedData({
      content,
      signers: [{ signer, certificate }],
      includeSignerCertificates: false,
      certificates: [other],
      oids: 'gmt0010',
    });
    // Certificates with the signer's serial number carried before the signer's own: the first with the serial
    // whose issuer Name matches the sid's decides (RFC 5280 comparison). `twin`'s issuer is the signer's with
    // C=CN as a UTF8String (matches, the wrong key: invalid, by the general path); `stranger`'s is C=US (no match:
    // skipped, valid, by the offsets).
    const withIssuer = (from: string, to: string, label: string): ParsedCertificate => {
      const name = Buffer.from(certificate.subjectDer);
      const at = name.indexOf(Buffer.from(from, 'hex'));
      expect(at).toBeGreaterThan(0);
      Buffer.from(to, 'hex').copy(name, at);
      const key = testKey('cms-verifier', label, 'sm2').signer;
      return parseCertificate(
        buildCertificate({
          subject: new Uint8Array(name),
          subjectPublicKeyInfo: key.publicKeyInfo,
          serial: BigInt(`0x${certificate.serialHex}`),
          notBefore: certificate.notBefore,
          notAfter: certificate.notAfter,
          signer: key,
        }),
      );
    };
    const twin = withIssuer('1302434e', '0c02434e', 'twin');
    const stranger = withIssuer('1302434e', '13025553', 'stranger');
    expect(namesMatch(twin.issuerDer, certificate.issuerDer)).toBe(true);
    expect(namesMatch(stranger.issuerDer, certificate.issuerDer)).toBe(false);
    /** A message carrying these two certificates in this order (the builder sorts its SET OF: put back). */
    const carrying = (first: ParsedCertificate, second: ParsedCertificate): Uint8Array => {
      const msg = Buffer.from(
        buildSignedData({
          content,
          signers: [{ signer, certificate }],
          includeSignerCertificates: false,
          certificates: [first, second],
          oids: 'gmt0010',
        }),
      );
      const a = msg.indexOf(Buffer.from(first.der));
      const b = msg.indexOf(Buffer.from(second.der));
      expect(a).toBeGreaterThan(0);
      expect(b).toBeGreaterThan(0);
      const at = Math.min(a, b);
      Buffer.concat([first.der, second.der]).copy(msg, at);
      return new Uint8Array(msg);
    };
    const twoSigners = buildSignedData({
      content,
      signers: [
        { signer, certificate },
        { signer, certificate },
      ],
      oids: 'gmt0010',
    });
    const detached = buildSignedData({
      content,
      detached: true,
      signers: [{ signer, certificate }],
      oids: 'gmt0010',
    });
    const cases: [string, Uint8Array, boolean, boolean][] = [
      // [what, input, taken by the offset path (once warm), valid]
      ['valid', cms, true, true],
      ['valid BER (long-form lengths, signed attributes re-signed as received)', ber, true, true],
      ['content', tampered(content.subarray(0, 16), 3), false, false],
      // Inside the messageDigest value: OID (11 bytes), SET and OCTET STRING headers, then the digest.
      ['messageDigest', tampered(Buffer.from('06092a864886f70d010904', 'hex'), 11 + 2 + 2 + 5), false, false],
      // The signingTime attribute's 'Z': OID (11 bytes), SET and UTCTime headers, then 12 digits.
      ['signingTime', tampered(Buffer.from('06092a864886f70d010905', 'hex'), 11 + 2 + 2 + 12), false, false],
      ['contentType attribute', tampered(attrs.subarray(2, 40), 30), false, false],
      ['signature', tampered(si.signature, 20), false, false],
      ['certificate key', tampered(certificate.spki, certificate.spki.length - 5), false, false],
      ['BER content', longForm(tampered(content.subarray(0, 16), 3)), false, false],
      ['wrong certificate', wrongCert, false, false],
      [
        'a same-serial certificate matching the issuer by RFC 5280 only, first',
        carrying(twin, certificate),
        false,
        false,
      ],
      ['the signer first, a same-serial twin after', carrying(certificate, twin), true, true],
      ['a same-serial certificate of another issuer, first', carrying(stranger, certificate), true, true],
      ['two signers', twoSigners, false, true],
      ['detached, no content', detached, false, false],
      ['truncated', cms.subarray(0, cms.length - 1), false, false],
      ['trailing byte', Uint8Array.from([...cms, 0]), false, false],
    ];
    for (const v of [verifier, withAnchors]) {
      general(v, cms); // the signer's issuer Name is checked once, by the general path
      for (const [what, input, offsets, valid] of cases) {
        const ours = v.verify(input);
        expect(ours, what).toEqual(general(v, input));
        // parseSignedData words some structural refusals differently (same codes).
        expect(summary(ours), what).toEqual(
          summary(
            verifySignedData(input, v === verifier ? { policy } : { policy, trustAnchors: [certificate] }),
          ),
        );
        expect(viaOffsets(ours), what).toBe(offsets);
        expect(ours.valid, what).toBe(valid);
      }
      const withContent = v.verify(detached, { content });
      expect(withContent).toEqual(general(v, detached, { content }));
      expect(withContent.valid).toBe(true);
    }
  });

  it('leaves a message beyond the limits to the general path, which refuses it with the same error', () => {
    const ber = longForm(cms);
    const depth = Math.max(depthOf(cms), 4 + depthOf(certificate.der));
    const cases: [DerLimits, Uint8Array, boolean][] = [
      // [limits, input, taken by the offset path]
      [{ maxDepth: 8 }, cms, false],
      [{ maxDepth: 9 }, cms, false],
      [{ maxDepth: depth - 1 }, cms, false],
      [{ maxDepth: depth }, cms, true],
      [{ maxDepth: depth }, ber, true],
      [{ maxSize: cms.length - 1 }, cms, false],
      [{ maxSize: cms.length }, cms, true],
      [{ mode: 'der' }, cms, true],
      [{ mode: 'der' }, ber, false],
      [{ mode: 'der', maxDepth: depth - 1 }, cms, false],
    ];
    for (const [limits, input, offsets] of cases) {
      const v = createCmsVerifier({ policy, limits });
      general(v, cms);
      const ours = v.verify(input);
      const what = `${JSON.stringify(limits)} ${input === ber ? 'BER' : 'DER'}`;
      expect(ours, what).toEqual(general(v, input));
      expect(viaOffsets(ours), what).toBe(offsets);
      expect(ours.valid, what).toBe(offsets);
    }
  });

  it('on 600 mutations of the common message: exactly the general path’s result', () => {
    const verifier = createCmsVerifier({ policy });
    general(verifier, cms);
    const rng = new Prng(20261202);
    const seeds = [cms, longForm(cms)];
    let valid = 0;
    for (let i = 0; i < 600; i++) {
      const input = mutate(rng.pick(seeds), rng, seeds);
      const ours = verifier.verify(input);
      expect(ours, `mutation ${i}`).toEqual(general(verifier, input));
      if (ours.valid) valid++;
    }
    expect(valid).toBeLessThan(600);
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
