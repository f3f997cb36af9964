// A short, deterministic fuzz run of every parser (fixed PRNG seeds, a fixed number of inputs), over seeds made
// here by openssl. The long, timed runs are `npm run fuzz -w packages/pki -- --seconds N` (and .ci/run).
import { SIGNED_DATA_SHAPE_LENGTH, signedDataShape } from '@yizheng/gm';
import { describe, expect, it } from 'vitest';
import { locateSignedData } from '../cms-verifier.js';
import { makeCorpus } from './corpus.js';
import { Prng, mutate, tlvSpans } from './mutate.js';
import { check, fuzz, targets, type Target } from './targets.js';

const corpus = makeCorpus();
const all = targets(corpus);

describe('mutation engine', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const seed = corpus.certificate[0] ?? new Uint8Array();
    const run = (s: number): string[] => {
      const rng = new Prng(s);
      return Array.from({ length: 20 }, () =>
        Buffer.from(mutate(seed, rng, corpus.certificate)).toString('hex'),
      );
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    expect(new Set(run(7)).size).toBeGreaterThan(15);
  });

  it('locates the TLVs of a certificate and produces structure-level changes', () => {
    const cert = corpus.certificate[0] ?? new Uint8Array();
    const spans = tlvSpans(cert);
    expect(spans[0]).toMatchObject({ start: 0, end: cert.length, constructed: true });
    expect(spans.length).toBeGreaterThan(30);
    const rng = new Prng(1);
    const sizes = Array.from({ length: 400 }, () => mutate(cert, rng, corpus.cms).length);
    expect(Math.max(...sizes)).toBeGreaterThan(cert.length + 1000); // deep nesting or splices
    expect(Math.min(...sizes)).toBeLessThan(cert.length / 2); // truncation
  });
});

describe('fuzz harness', () => {
  it('reports an untyped error as a finding, and a PkiError as an ordinary rejection', () => {
    const broken: Target = {
      name: 'certificate',
      seeds: [],
      run: (b) => {
        if (b.length === 0) throw new TypeError('boom');
        return b[0] === 1;
      },
    };
    expect(check(broken, new Uint8Array(), 1000).finding).toMatchObject({ kind: 'untyped error' });
    expect(check(broken, Uint8Array.of(2), 1000)).toMatchObject({ finding: undefined, rejected: true });
    const real = all.find((t) => t.name === 'certificate');
    expect(real && check(real, Uint8Array.of(0x30, 0x84, 0xff), 1000)).toMatchObject({
      finding: undefined,
      rejected: true,
    });
  });
});

describe.each(all.map((t) => [t.name, t] as const))('fuzz target %s', (name, target) => {
  it('its openssl seeds all verify', () => {
    expect(target.seeds.length).toBeGreaterThan(0);
    expect(target.seeds.map((s) => check(target, s, Infinity))).toEqual(
      target.seeds.map(() => ({ finding: undefined, rejected: false, millis: expect.any(Number) as number })),
    );
  });

  it('400 mutated inputs: each parses or fails with a PkiError', () => {
    const stats = fuzz(target, new Prng(0x5eed + name.length), (n) => n >= 400, { maxMillis: Infinity });
    expect(stats.findings.map((f) => `${f.kind}: ${f.detail}`)).toEqual([]);
    expect(stats.inputs).toBe(400);
    expect(stats.rejected).toBeGreaterThan(200); // the mutations do break things
  });
});

describe('native and TypeScript CMS locators', () => {
  const target = all.find((t) => t.name === 'cms-shape')!;

  it('agree on every seed and on 3,000 mutations of them (offsets and verification results)', () => {
    const stats = fuzz(target, new Prng(20261208), (n) => n >= 3000);
    expect(stats.findings).toEqual([]);
    expect(stats.inputs).toBe(3000);
  });

  it.skipIf(signedDataShape === undefined)(
    'the native locator takes the common seeds and mutations of them',
    () => {
      const o = new Int32Array(SIGNED_DATA_SHAPE_LENGTH);
      // openssl's RSA and P-256 messages with signed attributes and our SM2 ones with them, both conventions.
      const common = corpus.cms.filter((m) => locateSignedData(m) !== undefined);
      expect(common.length).toBeGreaterThanOrEqual(4);
      for (const m of common) expect(signedDataShape!(m, 64, o)).toBe(true);
      const rng = new Prng(5);
      let accepted = 0;
      for (let i = 0; i < 2000; i++)
        if (signedDataShape!(mutate(rng.pick(common), rng, common), 64, o)) accepted++;
      expect(accepted).toBeGreaterThan(100);
    },
  );

  it('a disagreement is a finding', () => {
    const seed = corpus.cms.find((m) => locateSignedData(m) !== undefined)!;
    const lying: Target = {
      ...target,
      run(input) {
        target.run(input);
        throw new Error('the native locator accepted what the TypeScript one locates otherwise');
      },
    };
    expect(check(lying, seed, 1000).finding?.kind).toBe('untyped error');
  });
});
