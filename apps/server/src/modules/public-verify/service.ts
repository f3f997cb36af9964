/**
 * What the public verification page may learn about the log and one record: proof material only — the
 * record's evidence hash, its leaf index and inclusion proof under the latest signed checkpoint (with the
 * checkpoint's RFC 3161 token), whether the stored record still hashes to its evidence hash, and the platform
 * chain. Never the original, patient data, names or anything else of the record.
 */
import { toHex } from '@yizheng/gm';
import type { Kysely } from 'kysely';
import { platformChainPem, type InternalCa } from '../../ca/internal-ca.js';
import type { PlatformKey } from '../../crypto/platform-key.js';
import type { Database } from '../../db/schema.js';
import { YzError } from '../../errors.js';
import { evidenceHash } from '../../evidence/canonical.js';
import { readThrough } from '../../lifecycle/read-through.js';
import { latestCheckpoint, proveConsistency, proveInclusion } from '../../log/index.js';
import { checkpointStamp } from '../../log/stamper.js';
import { recordColumns } from '../evidence/service.js';
import { isVerificationCode } from './code.js';

export interface PublicDeps {
  db: Kysely<Database>;
  platformKey: PlatformKey;
  ca: InternalCa;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

export interface PublicCheckpoint {
  origin: string;
  hash: 'sm3' | 'sha256';
  size: number;
  rootHash: string;
  note: string;
  createdAt: string;
  timestampToken?: string;
  platformChain: string;
}

export async function publicCheckpoint(deps: PublicDeps): Promise<PublicCheckpoint> {
  const c = await latestCheckpoint(deps.db);
  if (c === undefined) throw new YzError('LOG_NOT_READY');
  const token = await checkpointStamp(deps.db, c.size);
  return {
    origin: c.origin,
    hash: c.hash,
    size: c.size,
    rootHash: toHex(c.rootHash),
    note: c.note,
    createdAt: c.createdAt,
    ...(token === undefined ? {} : { timestampToken: b64(token) }),
    platformChain: platformChainPem(deps.ca),
  };
}

export async function publicConsistency(
  deps: PublicDeps,
  from: string,
  to: string,
): Promise<{ from: number; to: number; proof: string[] }> {
  const p = await proveConsistency({ db: deps.db, from, to });
  return { from: p.from, to: p.to, proof: p.proof.map((h) => toHex(h)) };
}

export interface PublicRecordProof {
  recordId: string;
  kind: string;
  evidenceHash: string;
  /** The stored record still hashes to its evidence hash (a database tamper shows here). */
  recordIntact: boolean;
  /** Absent while the record is not yet under a signed checkpoint. */
  log?: {
    hash: 'sm3' | 'sha256';
    origin: string;
    index: number;
    treeSize: number;
    proof: string[];
    checkpoint: string;
    checkpointTimestamp?: string;
  };
  platformChain: string;
}

/** PUBLIC_VERIFY_NOT_FOUND alike for an unknown id and a wrong code: a guessed id reveals nothing. */
export async function publicRecordProof(
  deps: PublicDeps,
  id: string,
  code: string,
): Promise<PublicRecordProof> {
  // Hot first, then the cold database of archived records when one is attached (lifecycle/read-through.ts).
  const row = await readThrough(deps.db, (d) =>
    d.selectFrom('evidence').selectAll().where('id', '=', id).executeTakeFirst(),
  );
  const codeOk = isVerificationCode(deps.platformKey, id, code);
  if (row === undefined || !codeOk) throw new YzError('PUBLIC_VERIFY_NOT_FOUND');
  const out: PublicRecordProof = {
    recordId: row.id,
    kind: row.kind,
    evidenceHash: row.evidence_hash,
    recordIntact: toHex(evidenceHash(recordColumns(row))) === row.evidence_hash,
    platformChain: platformChainPem(deps.ca),
  };
  const latest = await latestCheckpoint(deps.db);
  const index = Number(row.log_index);
  if (latest !== undefined && index < latest.size) {
    const p = await proveInclusion({ db: deps.db, index, treeSize: latest.size });
    const token = await checkpointStamp(deps.db, latest.size);
    out.log = {
      hash: latest.hash,
      origin: latest.origin,
      index,
      treeSize: latest.size,
      proof: p.proof.map((h) => toHex(h)),
      checkpoint: latest.note,
      ...(token === undefined ? {} : { checkpointTimestamp: b64(token) }),
    };
  }
  return out;
}
