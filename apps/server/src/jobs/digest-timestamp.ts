/**
 * 摘要数据加固时间戳 (seed §1.6): stamps digest records that have no timestamp yet with the platform TSA, in
 * process (modules/tsa's `Tsa.stamp`, the same path as POST /tsa): an SM3 TimeStampReq whose imprint is the
 * record's evidence hash (the SM3 of its canonical record, the log leaf). The token is kept with the record
 * (`digest_artifacts.timestamp_token`). Batched (keyset over ids), idempotent (a record stamped once is never
 * stamped again, also by two servers at once), resumable (a stopped run leaves the rest for the next one).
 * Records pushed with their own RFC 3161 token are left alone.
 */
import { fromHex, toHex, sm3 } from '@yizheng/gm';
import { buildTimeStampReq, parseTimeStampToken } from '@yizheng/pki';
import type { Kysely } from 'kysely';
import { isoTime } from '../context.js';
import type { Database } from '../db/schema.js';
import type { Tsa } from '../modules/tsa/service.js';
import { pendingDigests, saveDigestPart } from './digest-artifacts.js';
import type { Job } from './job.js';

export interface DigestTimestampCounts {
  stamped: number;
  failed: number;
  batches: number;
}

export async function stampDigests(options: {
  db: Kysely<Database>;
  tsa: Pick<Tsa, 'stamp' | 'identities'>;
  now(): number;
  batchSize?: number;
  signal?: AbortSignal;
}): Promise<DigestTimestampCounts> {
  const batchSize = options.batchSize ?? 200;
  const key = options.tsa.identities.has('sm2') ? 'sm2' : undefined;
  const counts: DigestTimestampCounts = { stamped: 0, failed: 0, batches: 0 };
  let after = '';
  const stopped = (): boolean => options.signal?.aborted === true;
  while (!stopped()) {
    const rows = await pendingDigests(options.db, 'timestamp', after, batchSize);
    if (rows.length === 0) break;
    counts.batches++;
    for (const row of rows) {
      if (stopped()) break;
      after = row.id;
      try {
        const req = buildTimeStampReq({
          digest: fromHex(row.evidence_hash),
          hash: 'sm3',
          certReq: true,
          nonce: true,
        });
        const token = parseTimeStampToken(await options.tsa.stamp(req.der, key));
        const wrote = await saveDigestPart(options.db, row.id, 'timestamp', {
          timestamp_token: token.der,
          timestamp_sm3: toHex(sm3(token.der)),
          timestamp_gen_time: token.tstInfo.genTime.toISOString(),
          timestamp_at: isoTime(options.now()),
        });
        if (wrote) counts.stamped++;
      } catch {
        // A refusal (the clock monitor's drift refusal, say) leaves the record for the next run.
        counts.failed++;
      }
    }
    if (rows.length < batchSize) break;
  }
  return counts;
}

export function digestTimestampJob(deps: {
  db: Kysely<Database>;
  tsa: Pick<Tsa, 'stamp' | 'identities'>;
  now(): number;
}): Job {
  return {
    id: 'digest-timestamp',
    description: '摘要数据加固时间戳 — stamp digest records without a timestamp with the platform TSA',
    defaultSchedule: '*/10 * * * *',
    handler: ({ signal }) => stampDigests({ ...deps, signal }),
  };
}
