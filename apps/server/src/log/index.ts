/**
 * The server's Merkle log (RFC 9162, SM3 by default or SHA-256 per deployment), the Tessera way: three separate
 * pieces over the database, with the tree math, proofs and verification in `@yizheng/ledger`.
 *
 * 1. Sequencing — {@link appendLeaves}`(trx, entries)`: inside the CALLER's transaction, reserves a contiguous run
 *    of indices (one `UPDATE log_state SET next_index = next_index + N`, which row-locks until commit) and stores
 *    each entry with its leaf hash HASH(0x00 || entry) in `log_leaves`. Returns the first index; entry i is at
 *    first + i. The record and its leaf commit (or roll back) together, so the index is durable before the write
 *    returns; indices stay contiguous with any number of server processes; a rollback leaves no gap. Call it
 *    last in the transaction (the counter row is held until commit) and once per transaction (batch your
 *    entries). Entries are opaque bytes up to 64 KiB: the evidence API logs the SM3 hash of its canonical record.
 *
 *        await db.transaction().execute(async (trx) => {
 *          await insertRecords(trx, records);
 *          const first = await appendLeaves(trx, records.map((r) => r.entry));
 *          await setLogIndices(trx, records, first);
 *        });
 *
 * 2. Integration — {@link integrateBatch} / {@link integratorJob}: asynchronously folds sequenced leaves into the
 *    stored perfect-subtree nodes (`log_nodes`, write-once) and the tree row (`log_tree`), in batches of 4,096,
 *    one transaction each under a row lock (safe with two servers, resumes after a crash).
 *
 * 3. Checkpoints and proofs — {@link publishCheckpoint} / {@link checkpointJob} sign a C2SP checkpoint with the
 *    platform SM2 key (key name = origin) at most every `checkpointIntervalMs` when the tree grew; every one is
 *    kept in `log_checkpoints`. {@link latestCheckpoint}`(db)`, {@link checkpointAt}`(db, size)`,
 *    {@link proveInclusion}`({ db, index, treeSize? })` (default size: the latest checkpoint's) and
 *    {@link proveConsistency}`({ db, from, to })` read O(log n) nodes; bad input throws `YzError` with the
 *    LOG_* codes (4xx).
 *
 * For the evidence `verify` use case: {@link verifyLogEntry}`({ db, index, entry, publicKey })` checks that the
 *    stored leaf at `index` holds exactly `entry`, that its leaf hash and tree node match, and that it is included
 *    under the latest signed checkpoint (signature checked with the platform public key, inclusion checked with
 *    `@yizheng/ledger`'s verifier). Verdict: `included` (with proof and checkpoint), `pending` (not yet under a
 *    checkpoint) or `tampered` with the failed check.
 *
 * In the app: `initLog` at start (refuses a changed hash/origin: LOG_CONFIG_CHANGED), the two jobs, and the
 * routes in `modules/log` (`GET /api/v1/log/checkpoint`, `/api/v1/log/proofs/inclusion`,
 * `/api/v1/log/proofs/consistency`).
 */
export { appendLeaves, MAX_ENTRY_BYTES } from './sequencer.js';
export {
  integrateAll,
  integrateBatch,
  integratorJob,
  INTEGRATION_BATCH,
  type IntegrationStep,
} from './integrator.js';
export {
  checkpointJob,
  checkpointSigner,
  checkpointVerifier,
  openStoredCheckpoint,
  publishCheckpoint,
} from './checkpoints.js';
export {
  checkpointAt,
  latestCheckpoint,
  proveConsistency,
  proveInclusion,
  verifyLogEntry,
  type ConsistencyProof,
  type InclusionProof,
  type LogCheckpoint,
  type LogEntryFailure,
  type LogEntryVerdict,
  type LogNumber,
} from './proofs.js';
export { initLog } from './setup.js';
export { KyselyNodeStore, logHasher } from './repo.js';
