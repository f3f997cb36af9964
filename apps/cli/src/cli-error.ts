/** Exit codes shared by every verifying command: 0 valid, 1 invalid (reason on stdout), 2 usage or input error. */
export const EXIT = { OK: 0, INVALID: 1, USAGE: 2 } as const;

/** A usage or input error: printed to stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Output sinks, injected so commands can run in-process in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Reads standard input fully (for FILE = '-'). */
  stdin(): Promise<Uint8Array>;
}
