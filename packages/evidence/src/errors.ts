/** Errors of `@yizheng/evidence`: only for input that is not an evidence package at all. */
export type EvidenceErrorCode =
  /** Not a zip, or a zip that cannot be read (corrupt, too large, too many entries). */
  | 'PACKAGE_UNREADABLE'
  /** A zip without a readable manifest of this format. */
  | 'PACKAGE_FORMAT';

export class EvidenceError extends Error {
  constructor(
    readonly code: EvidenceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EvidenceError';
  }
}

export function isEvidenceError(e: unknown, code?: EvidenceErrorCode): e is EvidenceError {
  return e instanceof EvidenceError && (code === undefined || e.code === code);
}
