/**
 * Fuzz targets, one per parser: each feeds attacker-controlled bytes to the parser and to the verifier behind
 * it (which also reads attacker-controlled fields: keys, algorithms, attributes). The contract under test:
 * every input either parses/verifies or fails with a {@link PkiError}; nothing else escapes, nothing hangs.
 */
import { SIGNED_DATA_SHAPE_LENGTH, signedDataShape } from '@yizheng/gm';
import { cachedSm2Provider, createCmsVerifier, locateSignedData, type CmsVerifier } from '../cms-verifier.js';
import { checkValidity, isSignedBy, parseCertificate, type ParsedCertificate } from '../certificate.js';
import { verifyChain } from '../chain.js';
import { parseCrl, verifyCrl } from '../crl.js';
import { PkiError } from '../errors.js';
import { parseOcspResponse } from '../ocsp-response.js';
import { verifyOcspResponse } from '../ocsp-verify.js';
import { verifySignedData } from '../signed-data.js';
import { gmSm2Provider } from '../sm2.js';
import { parseTimeStampResp } from '../time-stamp-resp.js';
import { verifyTimeStampToken } from '../tsp-verify.js';
import type { Corpus } from './corpus.js';
import { mutate, type Prng } from './mutate.js';

const POLICY = { sm2: gmSm2Provider } as const;

export type TargetName = 'certificate' | 'cms' | 'cms-cached' | 'cms-shape' | 'tsp' | 'crl' | 'ocsp';

export interface Target {
  readonly name: TargetName;
  readonly seeds: readonly Uint8Array[];
  /** Runs one input: true when it parses and verifies, false when verification reports failures; throws what the parser throws. */
  run(input: Uint8Array): boolean;
}

/** A verifier's result as one comparable string: validity, each failure's code and place, each signer. */
function outcome(v: CmsVerifier, input: Uint8Array, content: Uint8Array, at: Date): string {
  const r = v.verify(input, { content, at });
  return JSON.stringify([
    r.valid ? 'valid' : 'invalid',
    r.failures.map((f) => [f.code, f.message]),
    r.signers.map((s) => [
      s.index,
      s.certificate?.serialHex,
      s.signingTime?.getTime(),
      s.validatedAt?.getTime(),
      s.failures.map((f) => f.code),
    ]),
    r.content === undefined ? null : Buffer.from(r.content).toString('base64'),
  ]);
}

export function targets(corpus: Corpus): Target[] {
  const issuers: ParsedCertificate[] = corpus.issuers.map((c) => parseCertificate(c));
  const certificates: ParsedCertificate[] = corpus.certificate.map((c) => parseCertificate(c));
  const [firstIssuer] = issuers;
  if (firstIssuer === undefined) throw new Error('the corpus has no issuer certificates');
  const cached = createCmsVerifier({
    trustAnchors: issuers,
    certificates,
    policy: { sm2: cachedSm2Provider() },
  });
  // The same verifier locating every message with the TypeScript walk (the cached one uses the native locator
  // where it is built): the 'cms-shape' target holds the two to the same offsets and the same results.
  const walked = createCmsVerifier({
    trustAnchors: issuers,
    certificates,
    policy: { sm2: cachedSm2Provider() },
    nativeShape: false,
  });
  const shape = new Int32Array(SIGNED_DATA_SHAPE_LENGTH);
  const ocspPairs = corpus.ocspSubjects.map((x) => ({
    certificate: parseCertificate(x.certificate),
    issuer: parseCertificate(x.issuer),
  }));
  const issuerOf = (name: Uint8Array): ParsedCertificate =>
    issuers.find((c) => Buffer.from(c.subjectDer).equals(Buffer.from(name))) ?? firstIssuer;
  // Validation time: a minute after the seeds were made (their validity starts when they are made).
  const AT = new Date(Date.now() + 60_000);
  return [
    {
      name: 'certificate',
      seeds: corpus.certificate,
      run(input) {
        const cert = parseCertificate(input);
        try {
          checkValidity(cert, AT);
        } catch (e) {
          if (!(e instanceof PkiError)) throw e;
        }
        const self = isSignedBy(cert, cert, POLICY);
        return verifyChain(cert, { trustAnchors: issuers, at: AT, policy: POLICY }).valid || self;
      },
    },
    {
      name: 'cms',
      seeds: corpus.cms,
      run(input) {
        const signatures = verifySignedData(input, { content: corpus.content, policy: POLICY });
        verifySignedData(input, { trustAnchors: issuers, certificates, at: AT, policy: POLICY });
        return signatures.valid;
      },
    },
    {
      // The cached verifier's own parser, on the same seeds.
      name: 'cms-cached',
      seeds: corpus.cms,
      run(input) {
        return cached.verify(input, { content: corpus.content, at: AT }).valid;
      },
    },
    {
      // Differential: the native locator (when built) against the TypeScript one, and verification with
      // either. A disagreement is a finding (a plain Error).
      name: 'cms-shape',
      seeds: corpus.cms,
      run(input) {
        if (signedDataShape?.(input, 64, shape) === true) {
          let js: Int32Array | undefined;
          try {
            js = locateSignedData(input);
          } catch (e) {
            if (!(e instanceof PkiError)) throw e;
          }
          if (js === undefined || js.some((v, i) => v !== shape[i]))
            throw new Error('the native locator accepted what the TypeScript one locates otherwise');
        }
        const a = outcome(cached, input, corpus.content, AT);
        const b = outcome(walked, input, corpus.content, AT);
        if (a !== b) throw new Error(`the verifiers disagree: ${a} against ${b}`);
        return a.startsWith('["valid"');
      },
    },
    {
      name: 'tsp',
      seeds: corpus.tsp,
      run(input) {
        const resp = parseTimeStampResp(input);
        if (resp.token === undefined) return false;
        return verifyTimeStampToken({
          token: input,
          data: corpus.content,
          trustAnchors: issuers,
          intermediates: certificates,
          policy: POLICY,
        }).valid;
      },
    },
    {
      name: 'crl',
      seeds: corpus.crl,
      run(input) {
        const crl = parseCrl(input);
        verifyCrl(crl, issuerOf(crl.issuerDer), { at: AT, policy: POLICY });
        return true;
      },
    },
    {
      name: 'ocsp',
      seeds: corpus.ocsp,
      run(input) {
        const response = parseOcspResponse(input);
        // Each seed answers for one of these; a verification that fails for the others is not an error.
        return ocspPairs
          .map((pair) => verifyOcspResponse({ response, ...pair, at: AT, policy: POLICY }).valid)
          .some(Boolean);
      },
    },
  ];
}

/** One finding: an input whose failure was not a PkiError, or that took too long. */
export interface Finding {
  readonly target: TargetName;
  readonly kind: 'untyped error' | 'slow';
  readonly detail: string;
  readonly input: Uint8Array;
}

/** The outcome of one input: a finding, or whether the parser rejected it with a PkiError. */
export interface CheckResult {
  readonly finding: Finding | undefined;
  readonly rejected: boolean;
  readonly millis: number;
}

/** Runs `target` on `input`. PkiErrors are the expected failures; anything else, or > maxMillis, is a finding. */
export function check(target: Target, input: Uint8Array, maxMillis: number): CheckResult {
  const start = performance.now();
  let rejected: boolean;
  let finding: Finding | undefined;
  try {
    rejected = !target.run(input);
  } catch (e) {
    rejected = true;
    if (!(e instanceof PkiError)) {
      const detail = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
      finding = { target: target.name, kind: 'untyped error', detail, input };
    }
  }
  const millis = performance.now() - start;
  if (!finding && millis > maxMillis)
    finding = { target: target.name, kind: 'slow', detail: `${millis.toFixed(0)} ms`, input };
  return { finding, rejected, millis };
}

export interface FuzzStats {
  readonly target: TargetName;
  readonly inputs: number;
  /** Inputs rejected: a PkiError thrown or verification failures reported. */
  readonly rejected: number;
  readonly slowestMillis: number;
  readonly findings: readonly Finding[];
}

/**
 * Fuzzes `target` with mutations of its seeds (and splices across them) until `until()` says stop. Seeds are
 * run unmutated first. Stops early after `maxFindings` findings.
 */
export function fuzz(
  target: Target,
  rng: Prng,
  until: (inputs: number) => boolean,
  options: { maxMillis?: number; maxFindings?: number } = {},
): FuzzStats {
  const maxMillis = options.maxMillis ?? 1000;
  const maxFindings = options.maxFindings ?? 10;
  const findings: Finding[] = [];
  let inputs = 0;
  let rejected = 0;
  let slowest = 0;
  const one = (input: Uint8Array): void => {
    const r = check(target, input, maxMillis);
    slowest = Math.max(slowest, r.millis);
    inputs++;
    if (r.finding) findings.push(r.finding);
    else if (r.rejected) rejected++;
  };
  for (const seed of target.seeds) one(seed);
  while (!until(inputs) && findings.length < maxFindings)
    one(mutate(rng.pick(target.seeds), rng, target.seeds));
  return { target: target.name, inputs, rejected, slowestMillis: slowest, findings };
}
