/**
 * What the digest jobs add to a digest record (摘要数据), in `digest_artifacts` (migration 0011): the stored PDF
 * evidence report (digest-report.ts) and the platform TSA's reinforcement timestamp (digest-timestamp.ts). One
 * row per record, each part written once (a conditional update: a part already present is never replaced).
 */
import type { Kysely, Selectable, Updateable } from 'kysely';
import { isUniqueViolation } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { bufferDb, type DigestArtifactsTable } from '../buffer/tables.js';

export type DigestPart = 'report' | 'timestamp';

const EMPTY = {
  report_sm3: null,
  report_storage: null,
  report_size: null,
  report_at: null,
  timestamp_token: null,
  timestamp_sm3: null,
  timestamp_gen_time: null,
  timestamp_at: null,
} as const;

/** Digest records without this part yet, in id order after `after` (keyset). */
export async function pendingDigests(
  db: Kysely<Database>,
  part: DigestPart,
  after: string,
  limit: number,
): Promise<{ id: string; project_id: string; app_id: string; evidence_hash: string }[]> {
  let q = bufferDb(db)
    .selectFrom('evidence as e')
    .leftJoin('digest_artifacts as a', 'a.evidence_id', 'e.id')
    .select(['e.id', 'e.project_id', 'e.app_id', 'e.evidence_hash'])
    .where('e.kind', '=', 'digest')
    .where('e.id', '>', after);
  // A record pushed with its own RFC 3161 token needs no reinforcement.
  q =
    part === 'report'
      ? q.where('a.report_sm3', 'is', null)
      : q.where('a.timestamp_token', 'is', null).where('e.timestamp_sm3', 'is', null);
  return q.orderBy('e.id').limit(limit).execute();
}

/** Writes one part of a record's artifacts unless it is there already; true when this call wrote it. */
export async function saveDigestPart(
  db: Kysely<Database>,
  evidenceId: string,
  part: DigestPart,
  values: Omit<Updateable<DigestArtifactsTable>, 'evidence_id'>,
): Promise<boolean> {
  const b = bufferDb(db);
  try {
    await b
      .insertInto('digest_artifacts')
      .values({ ...EMPTY, ...values, evidence_id: evidenceId })
      .execute();
    return true;
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
  const r = await b
    .updateTable('digest_artifacts')
    .set(values)
    .where('evidence_id', '=', evidenceId)
    .where(part === 'report' ? 'report_sm3' : 'timestamp_token', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function digestArtifacts(
  db: Kysely<Database>,
  evidenceId: string,
): Promise<Selectable<DigestArtifactsTable> | undefined> {
  return bufferDb(db)
    .selectFrom('digest_artifacts')
    .selectAll()
    .where('evidence_id', '=', evidenceId)
    .executeTakeFirst();
}
