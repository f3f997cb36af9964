/**
 * The digest-timestamp job's reinforcement token (摘要数据加固时间戳, `digest_artifacts.timestamp_token`) checked
 * again, for `POST /api/v1/digests/{id}/verify` and the evidence report: the stored token against its stored
 * SM3, its imprint against the record's (recomputed) evidence hash, the TSA's signature, ESSCertID binding,
 * timeStamping EKU and validity at genTime, and genTime against the stored one. The TSA's chain to the internal
 * root is checked offline, in the evidence package (`evidence-timestamp.tsr`, pinned to the root).
 */
import { sm3, toHex } from '@yizheng/gm';
import { gmSm2Provider, verifyTimeStampToken } from '@yizheng/pki';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { digestArtifacts } from './digest-artifacts.js';

export interface DigestTimestamp {
  /** The DER TimeStampToken. */
  token: Uint8Array;
  ok: boolean;
  detail: string;
  genTime: Date | undefined;
  tsa: string;
  serialNumber: string;
  policy: string;
}

/** The record's reinforcement token, checked; undefined when the job has not stamped it. */
export async function checkDigestTimestamp(
  db: Kysely<Database>,
  evidenceId: string,
  evidenceHash: Uint8Array,
): Promise<DigestTimestamp | undefined> {
  const a = await digestArtifacts(db, evidenceId);
  if (a?.timestamp_token === null || a?.timestamp_token === undefined) return undefined;
  const token = new Uint8Array(a.timestamp_token);
  const v = verifyTimeStampToken({ token, digest: evidenceHash, policy: { sm2: gmSm2Provider } });
  const problems = v.failures.map((f) => `${f.code}: ${f.message}`);
  if (toHex(sm3(token)) !== a.timestamp_sm3) problems.unshift('the stored token differs from its SM3');
  if (v.genTime !== undefined && v.genTime.toISOString() !== a.timestamp_gen_time)
    problems.push(
      `genTime ${v.genTime.toISOString()} differs from the stored ${a.timestamp_gen_time ?? '?'}`,
    );
  const ok = problems.length === 0 && v.valid;
  return {
    token,
    ok,
    detail: ok
      ? `the platform TSA's reinforcement timestamp over the evidence hash verifies (genTime ${v.genTime?.toISOString() ?? '?'})`
      : `reinforcement timestamp: ${problems.join('; ') || 'does not verify'}`,
    genTime: v.genTime,
    tsa: v.tsa ?? v.tsaCertificate?.subject ?? '',
    serialNumber: v.serialNumber?.toString() ?? '',
    policy: v.policy ?? '',
  };
}
