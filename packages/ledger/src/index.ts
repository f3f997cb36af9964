/**
 * `@yizheng/ledger`: the RFC 9162 Merkle transparency log — tree math, integration, proof serving, proof
 * verification and signed checkpoints. No HTTP, no database, no Node built-ins: the verifier half runs in a
 * browser. Node hashers live in `@yizheng/ledger/node`.
 */
export { LedgerError, isLedgerError, type LedgerErrorCode } from './errors.js';
export { createLogHasher, type LogHasher, type LogHashName } from './hash.js';
export type { TreeNumber } from './numbers.js';
export * as treeMath from './tree-math.js';
export type { LeafRange, NodeId, ProofEntryPlan } from './tree-math.js';
export { CompactRange, type NodeVisitor } from './compact-range.js';
export { InMemoryNodeStore, type NodeStore, type StoredNode } from './node-store.js';
export { integrate, type IntegrationResult } from './integrator.js';
export { consistencyProof, inclusionProof, rootAt } from './proofs.js';
export { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './verify.js';
export { verifySubtreeConsistency, verifySubtreeInclusion } from './subtree-verify.js';
export {
  CHECKPOINT_LIMITS,
  formatCheckpoint,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseSignedNote,
  signCheckpoint,
  type Checkpoint,
  type CheckpointOptions,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedCheckpoint,
  type SignedNote,
} from './checkpoint.js';
export {
  SM2_NOTE_SIGNATURE_TYPE,
  createSm2NoteSigner,
  createSm2NoteVerifier,
  sm2NoteKeyId,
  type Sm2NoteApi,
  type Sm2NoteDeps,
  type SpkiKey,
} from './sm2-note.js';
