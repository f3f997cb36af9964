/**
 * cachedChainValidator: a kept valid result is reused only while nothing it depended on changed, and the
 * answers are those of verifyChain. Each reuse is observed through a counting signature provider (a cache hit
 * verifies no certificate signature).
 */
import { describe, expect, it } from 'vitest';
import type { AlgorithmPolicy } from './algorithms.js';
import { cachedChainValidator } from './chain-cache.js';
import { crlRevocationSource, verifyChain, type ChainOptions } from './chain.js';
import { createCmsVerifier, cachedSm2Provider } from './cms-verifier.js';
import { buildSignedData } from './signed-data-builder.js';
import { TestPki } from './testing/index.js';

const DAY = 86_400_000;
const pki = new TestPki({ seed: 'chain-cache', kind: 'sm2' });
const root = pki.root({ subject: { CN: '缓存测试根CA' } });
const inter = root.intermediate({ subject: { CN: '缓存测试中级CA' } });
const leaf = inter.leaf({
  subject: { CN: '医生缓存' },
  notBefore: new Date(pki.now.getTime() - DAY),
  notAfter: new Date(pki.now.getTime() + 10 * DAY),
});
const provider = cachedSm2Provider();
let signatures = 0;
const policy: AlgorithmPolicy = {
  sm2: {
    verify: (...args) => {
      signatures++;
      return provider.verify(...args);
    },
    sm3: (data) => provider.sm3(data),
  },
};
const anchors = [root.cert];
const base: ChainOptions = { trustAnchors: anchors, intermediates: [inter.cert], at: pki.now, policy };
const counted = <T>(f: () => T): { value: T; signatures: number } => {
  const before = signatures;
  const value = f();
  return { value, signatures: signatures - before };
};
const codes = (r: { failures: readonly { code: string }[] }): string[] => r.failures.map((f) => f.code);

describe('cachedChainValidator', () => {
  it('a valid path is reused for the same inputs, at another time inside every validity period', () => {
    const validate = cachedChainValidator();
    const first = counted(() => validate(leaf.cert, base));
    expect(first.value.valid).toBe(true);
    expect(first.signatures).toBe(2);
    const again = counted(() => validate(leaf.cert, { ...base, at: new Date(pki.now.getTime() + 5 * DAY) }));
    expect(again.signatures).toBe(0);
    expect(again.value).toBe(first.value);
    // Equal bytes, another parsed object: still the same end entity.
    const copy = verifyChain(leaf.cert, base);
    expect(counted(() => validate({ ...leaf.cert }, base)).signatures).toBe(0);
    expect(copy.chain.map((c) => c.subject)).toEqual(first.value.chain.map((c) => c.subject));
  });

  it('outside a validity period the path is validated again, and the expiry reported', () => {
    const validate = cachedChainValidator();
    validate(leaf.cert, base);
    const late = counted(() => validate(leaf.cert, { ...base, at: new Date(pki.now.getTime() + 11 * DAY) }));
    expect(late.signatures).toBe(2);
    expect(codes(late.value)).toContain('PKI_CERT_EXPIRED');
    // Failures are not kept: asked again, validated again.
    expect(
      counted(() => validate(leaf.cert, { ...base, at: new Date(pki.now.getTime() + 11 * DAY) })).signatures,
    ).toBe(2);
  });

  it('other inputs, a missing intermediate or a removed anchor are not answered from the cache', () => {
    const validate = cachedChainValidator();
    validate(leaf.cert, base);
    const withEku = counted(() => validate(leaf.cert, { ...base, extKeyUsage: '1.3.6.1.5.5.7.3.8' }));
    expect(withEku.signatures).toBe(2);
    expect(codes(withEku.value)).toEqual(['PKI_EKU']);
    const missing = counted(() => validate(leaf.cert, { ...base, intermediates: [] }));
    expect(codes(missing.value)).toEqual(['PKI_CHAIN_INCOMPLETE']);
    const otherRoot = pki.root({ subject: { CN: '另一个根CA' } });
    const mutable = [root.cert];
    validate(leaf.cert, { ...base, trustAnchors: mutable });
    mutable.splice(0, 1, otherRoot.cert);
    const removed = validate(leaf.cert, { ...base, trustAnchors: mutable });
    expect(removed.valid).toBe(false);
  });

  it('with revocation checking nothing is cached: a revoked certificate is found after a valid answer', () => {
    const validate = cachedChainValidator();
    const victim = inter.leaf({ subject: { CN: '医生吊销' } });
    expect(validate(victim.cert, base).valid).toBe(true);
    inter.revoke(victim, { at: new Date(pki.now.getTime() - 1000), reason: 'keyCompromise' });
    const revocation = {
      sources: [crlRevocationSource([inter.crl(), root.crl()], { policy })],
      mode: 'require',
    } as const;
    const r = counted(() => validate(victim.cert, { ...base, revocation }));
    expect(r.signatures).toBeGreaterThan(0);
    expect(codes(r.value)).toEqual(['PKI_REVOKED']);
  });

  it('createCmsVerifier validates repeated signers through the cache', () => {
    const cms = buildSignedData({
      content: new TextEncoder().encode('门诊病历'),
      signers: [{ signer: leaf.signer, certificate: leaf.cert }],
      certificates: [inter.cert],
      oids: 'gmt0010',
    });
    const verifier = createCmsVerifier({ policy, trustAnchors: anchors });
    const one = counted(() => verifier.verify(cms, { at: pki.now }));
    expect(one.value.failures).toEqual([]);
    expect(one.signatures).toBe(3); // the message, the leaf, the intermediate
    const two = counted(() => verifier.verify(cms, { at: new Date(pki.now.getTime() + DAY) }));
    expect(two.value.valid).toBe(true);
    expect(two.signatures).toBe(1); // the message only
  });
});
