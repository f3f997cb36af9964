import {
  buildTimeStampResp,
  isPkiError,
  parseTimeStampReq,
  replyTimeStamp,
  type ParsedTimeStampReq,
  type PkiFailureName,
  type TstAccuracy,
} from '@yizheng/pki';
import type { TsaAlgorithm, TsaIdentity } from '../../ca/internal-ca.js';
import type { ClockMonitor } from './clock.js';
import { fastReply, fastReplyAsync, stampTemplate, takes, type StampTemplate } from './fast-reply.js';
import { readTimeStampReq } from './fast-req.js';
import type { SerialAllocator } from './serials.js';

/**
 * The timestamp authority (RFC 3161, RFC 5816 ESSCertIDv2): one function from a TimeStampReq's bytes to a
 * TimeStampResp's bytes, which never throws. Several keys may be active; the request chooses by
 *   1. an explicit algorithm (`POST /tsa/sm2|rsa|p256`), else
 *   2. its policy, when it asks for one of the per-key policies (`<policy>.1` SM2, `.2` RSA, `.3` P-256), else
 *   3. its imprint hash: SM3 → the SM2 key when active; anything else → the default key.
 * The base policy OID (config) names the default key's policy and is accepted by every key.
 */
export interface TsaConfig {
  /** TSA policy OID (TSTInfo.policy when the request names none). */
  policy: string;
  /** Accuracy written into TSTInfo, in milliseconds (0: omitted). */
  accuracyMs: number;
  /** The key used when the request does not choose (must be active). */
  defaultAlgorithm: TsaAlgorithm;
}

export interface Tsa {
  /** Answers a TimeStampReq (DER as received, possibly garbage) with a DER TimeStampResp. */
  stamp(request: Uint8Array, algorithm?: TsaAlgorithm): Promise<Uint8Array>;
  /** The policy OID a given key stamps under when asked explicitly. */
  policyOf(algorithm: TsaAlgorithm): string;
  identities: ReadonlyMap<TsaAlgorithm, TsaIdentity>;
}

const POLICY_SUFFIX: Readonly<Record<TsaAlgorithm, string>> = { sm2: '1', rsa: '2', p256: '3' };

export function rejectionResp(
  failInfo: PkiFailureName,
  text: string,
  status: 'rejection' | 'waiting' = 'rejection',
): Uint8Array {
  return buildTimeStampResp({ status, failInfo: [failInfo], statusString: [text] });
}

function accuracyOf(ms: number): Partial<TstAccuracy> | undefined {
  if (ms <= 0) return undefined;
  const seconds = Math.floor(ms / 1000);
  const millis = ms % 1000;
  return { ...(seconds > 0 ? { seconds } : {}), ...(millis > 0 ? { millis } : {}) };
}

export function createTsa(options: {
  identities: ReadonlyMap<TsaAlgorithm, TsaIdentity>;
  config: TsaConfig;
  clock: ClockMonitor;
  serials: SerialAllocator;
  now: () => number;
}): Tsa {
  const { identities, config, clock, serials, now } = options;
  if (!identities.has(config.defaultAlgorithm)) {
    throw new Error(`the default TSA key ${config.defaultAlgorithm} is not active`);
  }
  const policyOf = (a: TsaAlgorithm): string => `${config.policy}.${POLICY_SUFFIX[a]}`;
  const accuracy = accuracyOf(config.accuracyMs);

  // Pre-encoded parts of each key's tokens (fast-reply.ts), made once.
  const templates = new Map<TsaAlgorithm, StampTemplate>();
  for (const [a, id] of identities)
    templates.set(a, stampTemplate({ signer: id.signer, certificate: id.certificate, chain: id.chain }));

  /** The parsed request, or undefined when it is malformed (replyTimeStamp answers it). */
  const parse = (request: Uint8Array): ParsedTimeStampReq | undefined => {
    try {
      return readTimeStampReq(request) ?? parseTimeStampReq(request);
    } catch {
      return undefined;
    }
  };
  const choose = (req: ParsedTimeStampReq | undefined, explicit: TsaAlgorithm | undefined): TsaAlgorithm => {
    if (explicit !== undefined) return explicit;
    if (req === undefined) return config.defaultAlgorithm;
    for (const a of identities.keys()) if (req.policy === policyOf(a)) return a;
    if (req.hashAlgorithm === '1.2.156.10197.1.401' && identities.has('sm2')) return 'sm2';
    return config.defaultAlgorithm;
  };

  return {
    identities,
    policyOf,
    async stamp(request, explicit) {
      const refusal = clock.refusal();
      if (refusal !== undefined) return rejectionResp('timeNotAvailable', refusal);
      const parsed = parse(request);
      const algorithm = choose(parsed, explicit);
      const tsa = identities.get(algorithm);
      if (tsa === undefined)
        return rejectionResp('unacceptedPolicy', `the ${algorithm} TSA key is not active`);
      try {
        const serialNumber = await serials.next();
        const policy = algorithm === config.defaultAlgorithm ? config.policy : policyOf(algorithm);
        const acceptedPolicies = [config.policy, policyOf(algorithm)];
        const genTime = new Date(now());
        if (parsed !== undefined && takes(parsed, acceptedPolicies)) {
          const fields = {
            request: parsed,
            serialNumber,
            genTime,
            policy,
            ...(accuracy === undefined ? {} : { accuracy }),
          };
          const template = templates.get(algorithm)!;
          return tsa.signAsync === undefined
            ? fastReply(template, fields)
            : await fastReplyAsync(template, fields, tsa.signAsync);
        }
        return replyTimeStamp({
          request,
          ...(parsed === undefined ? {} : { parsedRequest: parsed }),
          tsa: { signer: tsa.signer, certificate: tsa.certificate, chain: tsa.chain },
          serialNumber,
          genTime,
          policy,
          acceptedPolicies,
          ...(accuracy === undefined ? {} : { accuracy }),
        });
      } catch (e) {
        // The TSA's own failure (database, key): never a 500, a systemFailure the client can read.
        const why = isPkiError(e) ? e.code : 'internal error';
        return rejectionResp('systemFailure', `the TSA cannot stamp now (${why})`);
      }
    },
  };
}
