/**
 * The evidence writer a history batch pushes through while the batch before it is still being committed: its
 * records are verified, hashed and built at once (CPU, overlapping the write before), but handed to the real
 * writer only once the gate (the commit of the batch before) has resolved. So at most one batch past the task's
 * committed cursor is ever stored — what a restart re-reads — exactly as when batches run one after another.
 */
import { GroupCommitWriter } from '../../evidence/group-commit.js';
import type { EvidenceWriter, PreparedEvidence, StoredEvidence } from '../../evidence/store.js';
import { MAX_BATCH } from '../evidence/schema.js';

/** Refused by a writer whose gate closed (the batch before failed): nothing of this batch is stored. */
export class GateClosed extends Error {}

/**
 * A writer that forwards to `writer` once `gate` resolves; when it rejects, every item is refused (the error
 * is `gate`'s — a {@link GateClosed}, which the ingest path does not take for a row's fault). An item is handed
 * on once, whatever the group-commit retries.
 */
export function gatedWriter(writer: EvidenceWriter, gate: Promise<void>): EvidenceWriter {
  const sent = new Map<PreparedEvidence, Promise<StoredEvidence>>();
  const forward = (item: PreparedEvidence): Promise<StoredEvidence> => {
    let p = sent.get(item);
    if (p === undefined) {
      p = writer.submit(item);
      sent.set(item, p);
    }
    return p;
  };
  return new GroupCommitWriter<PreparedEvidence, StoredEvidence>({
    maxItems: MAX_BATCH,
    maxQueued: MAX_BATCH,
    writeMany: async (items) => {
      await gate;
      return Promise.all(items.map(forward));
    },
    writeOne: async (item) => {
      await gate;
      return forward(item);
    },
  });
}
