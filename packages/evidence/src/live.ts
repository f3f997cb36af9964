/**
 * Checks against the live log, for the public verification page: a record's public proof material (QR link:
 * evidence hash, inclusion proof, signed and timestamped checkpoint), and the consistency of a package's (or
 * record's) checkpoint with the log's current one. The inputs are what `apps/server` modules/public-verify
 * answers; everything is verified here, trusting only the platform chain (pinned to a root when given).
 */
import { fromHex, toHex } from '@yizheng/gm/browser';
import {
  createLogHasher,
  createSm2NoteVerifier,
  openCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '@yizheng/ledger';
import { Checks, type PackageCheck } from './checks.js';
import type { EvidenceCrypto } from './crypto.js';
import { checkToken } from './timestamp-checks.js';
import { checkPlatform, type Platform } from './verify-core.js';

/** GET /api/v1/public/records/{id}. */
export interface PublicRecordProof {
  recordId: string;
  kind: string;
  evidenceHash: string;
  recordIntact: boolean;
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

/** GET /api/v1/public/log/checkpoint. */
export interface PublicCheckpoint {
  origin: string;
  hash: 'sm3' | 'sha256';
  size: number;
  rootHash: string;
  note: string;
  timestampToken?: string;
  platformChain: string;
}

/** GET /api/v1/public/log/consistency. */
export interface PublicConsistency {
  from: number;
  to: number;
  proof: string[];
}

export const LIVE_PART = 'live-log';
export const RECORD_PART = 'public-record';

const utf8 = new TextEncoder();

function base64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function opened(
  checks: Checks,
  part: string,
  note: string,
  origin: string,
  platform: Platform,
  crypto: EvidenceCrypto,
): { size: number; rootHash: Uint8Array } | undefined {
  if (platform.key === undefined) return undefined;
  try {
    const o = openCheckpoint(
      note,
      [
        createSm2NoteVerifier(
          { sm2: crypto.sm2 as never, sm3: crypto.sm3 },
          { name: origin, publicKey: platform.key },
        ),
      ],
      { origin },
    );
    checks.add(
      part,
      'checkpoint-signature',
      true,
      `checkpoint of size ${o.checkpoint.size} signed by the platform (SM2)`,
    );
    return { size: o.checkpoint.size, rootHash: o.checkpoint.rootHash };
  } catch (e) {
    checks.add(
      part,
      'checkpoint-signature',
      false,
      `not a checkpoint signed by the platform: ${(e as Error).message}`,
    );
    return undefined;
  }
}

/** The QR link's checks: platform chain, checkpoint signature and stamp, inclusion of the evidence hash. */
export function verifyRecordProof(
  p: PublicRecordProof,
  crypto: EvidenceCrypto,
  root?: Uint8Array | string,
): PackageCheck[] {
  const checks = new Checks();
  const platform = checkPlatform(checks, utf8.encode(p.platformChain), root, crypto);
  checks.add(
    RECORD_PART,
    'record-intact',
    p.recordIntact,
    p.recordIntact
      ? `the stored record still hashes to ${p.evidenceHash}`
      : 'the server reports that the stored record no longer hashes to its evidence hash (altered in the database)',
  );
  const log = p.log;
  if (log === undefined) {
    checks.add(RECORD_PART, 'inclusion', 'skip', 'the record is not yet under a signed checkpoint');
    return checks.list;
  }
  const cp = opened(checks, RECORD_PART, log.checkpoint, log.origin, platform, crypto);
  if (log.checkpointTimestamp === undefined)
    checks.add(RECORD_PART, 'checkpoint-timestamp', 'skip', 'the checkpoint is not yet timestamped');
  else
    checkToken(checks, {
      part: RECORD_PART,
      token: base64(log.checkpointTimestamp),
      targets: [{ data: utf8.encode(log.checkpoint) }],
      anchors: platform.anchors,
      intermediates: platform.intermediates,
      requireChain: true,
      crypto,
    });
  if (cp === undefined) return checks.list;
  try {
    if (log.treeSize !== cp.size)
      throw new Error(`proof for size ${log.treeSize}, checkpoint of size ${cp.size}`);
    const hasher = createLogHasher(log.hash, log.hash === 'sm3' ? crypto.sm3 : crypto.sha256);
    verifyInclusion(
      hasher,
      log.index,
      log.treeSize,
      hasher.hashLeaf(fromHex(p.evidenceHash)),
      log.proof.map((h) => fromHex(h)),
      cp.rootHash,
    );
    checks.add(
      RECORD_PART,
      'inclusion',
      true,
      `leaf ${log.index} of ${log.treeSize} under the checkpoint root`,
    );
  } catch (e) {
    checks.add(
      RECORD_PART,
      'inclusion',
      false,
      `the record is not proven in the log: ${(e as Error).message}`,
    );
  }
  return checks.list;
}

/** The live check: `checkpoint` (a package's) is a prefix of the log's current signed checkpoint. */
export function verifyLiveConsistency(o: {
  checkpoint: { origin: string; size: number; rootHash: string };
  logHash: 'sm3' | 'sha256';
  latest: PublicCheckpoint;
  consistency: PublicConsistency;
  /** The platform chain the package (or record) was verified with. */
  platformChain: string;
  root?: Uint8Array | string;
  crypto: EvidenceCrypto;
}): PackageCheck[] {
  const checks = new Checks();
  const platform = checkPlatform(checks, utf8.encode(o.platformChain), o.root, o.crypto);
  const live = opened(checks, LIVE_PART, o.latest.note, o.checkpoint.origin, platform, o.crypto);
  if (live === undefined) return checks.list;
  try {
    if (o.consistency.from !== o.checkpoint.size || o.consistency.to !== live.size)
      throw new Error(
        `a proof from ${o.consistency.from} to ${o.consistency.to}, wanted ${o.checkpoint.size} to ${live.size}`,
      );
    if (live.size < o.checkpoint.size)
      throw new Error(`the live log (${live.size}) is smaller than the checkpoint (${o.checkpoint.size})`);
    const hasher = createLogHasher(o.logHash, o.logHash === 'sm3' ? o.crypto.sm3 : o.crypto.sha256);
    verifyConsistency(
      hasher,
      o.checkpoint.size,
      live.size,
      o.consistency.proof.map((h) => fromHex(h)),
      fromHex(o.checkpoint.rootHash),
      live.rootHash,
    );
    checks.add(
      LIVE_PART,
      'consistency',
      true,
      `checkpoint ${o.checkpoint.size} is consistent with the live checkpoint ${live.size} (root ${toHex(live.rootHash).slice(0, 16)}…)`,
    );
  } catch (e) {
    checks.add(LIVE_PART, 'consistency', false, `not consistent with the live log: ${(e as Error).message}`);
  }
  return checks.list;
}
