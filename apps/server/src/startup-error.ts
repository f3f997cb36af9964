/** Why the server refuses to start. The CLI prints `code: message` and exits 2; nothing is served. */
export type StartupErrorCode =
  /** A configuration value is malformed (port, URL, log level, config file). */
  | 'CONFIG_INVALID'
  /** The database cannot be reached or opened. */
  | 'DB_UNREACHABLE'
  /** The database would acknowledge writes it might lose (fsync=off, synchronous_commit=off, …). */
  | 'DB_DURABILITY_UNSAFE'
  /** The database has migrations this version does not know (a newer Yizheng wrote it). */
  | 'DB_SCHEMA_NEWER'
  /** Migrations are pending and the configuration says not to run them on start (`yizheng migrate` first). */
  | 'DB_MIGRATION_PENDING'
  /** A migration failed. */
  | 'DB_MIGRATION_FAILED'
  /** The key-encryption key file is unreadable, malformed or has unsafe permissions. */
  | 'KEK_INVALID'
  /** The configured log hash or origin differs from the one of the existing (non-empty) Merkle log. */
  | 'LOG_CONFIG_CHANGED'
  /** Redis is configured (YIZHENG_REDIS_URL) but cannot be reached. */
  | 'REDIS_UNREACHABLE';

export class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly code: StartupErrorCode;

  constructor(code: StartupErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isStartupError(e: unknown, code?: StartupErrorCode): e is StartupError {
  return e instanceof StartupError && (code === undefined || e.code === code);
}
