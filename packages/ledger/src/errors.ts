/**
 * Typed errors of `@yizheng/ledger`. Every failure caused by input — a proof, a tree size or index from the
 * network, a checkpoint, a store that returned the wrong thing — surfaces as a {@link LedgerError} with a stable
 * code; callers switch on `code`, never on the message.
 */
export type LedgerErrorCode =
  /** A proof is structurally wrong: a hash of the wrong length, or a proof where none may be. */
  | 'LEDGER_PROOF_INVALID'
  /** A proof has the wrong number of hashes for the index and sizes it claims to cover. */
  | 'LEDGER_PROOF_SIZE'
  /** A proof is well formed but the root it yields is not the expected one. */
  | 'LEDGER_ROOT_MISMATCH'
  /** An index or size is outside the tree (index ≥ size, m > n, a proof from the empty tree). */
  | 'LEDGER_INDEX_OUT_OF_RANGE'
  /** A checkpoint (signed note) is malformed: line structure, size, number, base64, limits. */
  | 'LEDGER_CHECKPOINT_INVALID'
  /** No signature on a checkpoint verifies with a trusted key, or a trusted key's signature is bad. */
  | 'LEDGER_CHECKPOINT_SIGNATURE'
  /** A node the tree needs is not in the node store (or the store answered with the wrong shape). */
  | 'LEDGER_NODE_MISSING'
  /** An argument has the wrong type or form: not a safe non-negative integer, a hash of the wrong size. */
  | 'LEDGER_BAD_ARGUMENT';

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  readonly code: LedgerErrorCode;
  /** What was being checked (index, sizes, key name…), for logs and reports. */
  readonly context: Readonly<Record<string, string | number>> | undefined;

  constructor(
    code: LedgerErrorCode,
    message: string,
    options?: { cause?: unknown; context?: Record<string, string | number> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.context = options?.context;
  }
}

export function isLedgerError(e: unknown, code?: LedgerErrorCode): e is LedgerError {
  return e instanceof LedgerError && (code === undefined || e.code === code);
}
