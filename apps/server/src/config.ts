/**
 * Server configuration, parsed ONCE from the environment (and an optional JSON file) with defaults. Nothing else
 * in the server reads `process.env`: the parsed {@link ServerConfig} is passed to `build(config)` and down.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { StartupError } from './startup-error.js';
import { parseTrustConfig, type TrustConfig } from './ca/trust-config.js';
import { REDIS_DEFAULTS, REDIS_PREFIX, type RedisConfig } from './buffer/redis.js';

export type DatabaseConfig =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; url: string; poolSize: number }
  | { dialect: 'mysql'; url: string; poolSize: number };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface ServerConfig {
  host: string;
  port: number;
  /** Absolute path of the data directory (SQLite file, KEK file, later the file store). */
  dataDir: string;
  database: DatabaseConfig;
  /** Cold storage for archived evidence (YIZHENG_COLD_DATABASE_URL; absent: no hot → cold migration). */
  coldDatabase?: DatabaseConfig | undefined;
  /** Key-encryption key file (32 hex digits = 16 bytes SM4 key); generated with mode 0600 on first start. */
  kekFile: string;
  logLevel: LogLevel;
  /** Largest accepted request body in bytes (413 above it). */
  bodyLimit: number;
  /** Requests per minute per client address; 0 disables the limiter. */
  rateLimitPerMinute: number;
  /** Signed application API: accepted clock skew and how long a nonce is remembered. */
  auth: { maxSkewMs: number; nonceTtlMs: number };
  /** Run pending migrations when the server starts (`yizheng migrate` runs them explicitly). */
  migrateOnStart: boolean;
  /** 第三方日志开关: write an API log entry for every signed application call. */
  apiLog: boolean;
  /** Console certificate login: PEM bundle of trusted CA certificates (absent: the bound certificate is pinned). */
  consoleTrustFile?: string | undefined;
  /** Console certificate login: PEM bundle of CRLs checked at each login (absent: no revocation check). */
  consoleCrlFile?: string | undefined;
  /** The Merkle log (absent: {@link DEFAULT_LOG_CONFIG}). */
  log?: LogConfig | undefined;
  /** The evidence API (defaults: {@link EVIDENCE_DEFAULTS}). */
  evidence?: EvidenceConfig | undefined;
  /** Reports, TSA, time source, download links (absent: defaults, see ca/trust-config.ts). */
  trust?: TrustConfig | undefined;
  /** The Redis write buffer (缓存数据落库, src/buffer); absent: API logs and statistics go to the database directly. */
  redis?: RedisConfig | undefined;
}

export interface EvidenceConfig {
  /** PEM file or directory of PEM files with the trusted root certificates; none → chains recorded as untrusted. */
  trustStore: string | undefined;
  /** Directory of CRL files (PEM or DER) the pushed signers are checked against, re-read when it changes. */
  crlDir?: string | undefined;
  /** Largest evidence file accepted by POST /api/v1/files, in bytes (413 EVIDENCE_FILE_TOO_LARGE above it). */
  fileSizeLimit: number;
  /** Directory of the local content-addressed file store. */
  fileDir: string;
}

export const EVIDENCE_DEFAULTS = { fileSizeLimit: 64 * 1024 * 1024 };

export type LogHashName = 'sm3' | 'sha256';

/** The Merkle log of a deployment. Hash and origin are fixed once the log has a leaf (refused start otherwise). */
export interface LogConfig {
  /** RFC 9162 tree hash: SM3 (default) or SHA-256. */
  hash: LogHashName;
  /** The log's identity in its checkpoints (C2SP origin, also the signing key's name): no spaces, no '+'. */
  origin: string;
  /** Shortest time between two signed checkpoints, in ms (one is published only when the tree grew). */
  checkpointIntervalMs: number;
  /** Pause between two integration runs, in ms (a run integrates everything sequenced, in batches). */
  integrateIntervalMs: number;
}

export const DEFAULT_LOG_CONFIG: LogConfig = {
  hash: 'sm3',
  origin: 'yizheng.local/log',
  checkpointIntervalMs: 2_000,
  integrateIntervalMs: 200,
};

/** The keys of the optional JSON config file (YIZHENG_CONFIG_FILE); environment variables win over it. */
export interface ConfigFile {
  host?: string;
  port?: number;
  dataDir?: string;
  databaseUrl?: string;
  coldDatabaseUrl?: string;
  kekFile?: string;
  logLevel?: LogLevel;
  bodyLimit?: number;
  rateLimitPerMinute?: number;
  apiLog?: boolean;
  consoleTrustFile?: string;
  consoleCrlFile?: string;
  logHash?: LogHashName;
  logOrigin?: string;
  logCheckpointIntervalMs?: number;
  /** ca/trust-config.ts: unitName, unitLogo, publicUrl, tsaKeys, tsaPolicy, ntpServer, downloadTtlMs, … */
  trust?: Record<string, unknown>;
  trustStore?: string;
  crlDir?: string;
  fileSizeLimit?: number;
}

/** Explicit overrides (CLI flags) win over the environment, which wins over the file, which wins over defaults. */
export interface ConfigOverrides {
  host?: string | undefined;
  port?: number | string | undefined;
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  logLevel: 'info' as LogLevel,
  bodyLimit: 16 * 1024 * 1024,
  rateLimitPerMinute: 60_000,
  maxSkewMs: 300_000,
  poolSize: 10,
};

type Env = Readonly<Record<string, string | undefined>>;

function invalid(message: string): StartupError {
  return new StartupError('CONFIG_INVALID', message);
}

function parsePort(v: number | string, what: string): number {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw invalid(`${what} must be a port number 0–65535, got ${String(v)}`);
  return n;
}

function parseNonNegativeInt(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw invalid(`${what} must be a non-negative integer, got ${v}`);
  return Number(v);
}

function parseBool(v: string, what: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw invalid(`${what} must be true or false, got ${v}`);
}

/** `postgres://…` / `postgresql://…` → PostgreSQL, `mysql://…` / `mariadb://…` → MySQL; absent → SQLite file. */
export function parseDatabaseUrl(
  url: string | undefined,
  dataDir: string,
  poolSize = DEFAULTS.poolSize,
): DatabaseConfig {
  if (url === undefined || url === '') return { dialect: 'sqlite', file: join(dataDir, 'yizheng.db') };
  const scheme = /^([a-z0-9+]+):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme ?? '') {
    case 'postgres':
    case 'postgresql':
      return { dialect: 'postgres', url, poolSize };
    case 'mysql':
    case 'mariadb':
      return { dialect: 'mysql', url: url.replace(/^mariadb:/i, 'mysql:'), poolSize };
    case 'sqlite':
    case 'file': {
      const p = url.replace(/^(sqlite|file):(\/\/)?/i, '');
      if (p === '') throw invalid('DATABASE_URL sqlite: needs a file path');
      return { dialect: 'sqlite', file: isAbsolute(p) ? p : resolve(p) };
    }
    default:
      throw invalid(
        `DATABASE_URL must start with postgres://, mysql:// or sqlite:, got ${scheme ?? 'no scheme'}`,
      );
  }
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw invalid(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v;
  } catch (e) {
    throw invalid(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Builds the configuration from (in increasing priority) defaults, the JSON file named by `YIZHENG_CONFIG_FILE`,
 * the environment, and explicit overrides. Relative paths resolve against `cwd`.
 */
export function loadConfig(options: { env: Env; overrides?: ConfigOverrides; cwd?: string }): ServerConfig {
  const { env, overrides = {} } = options;
  const cwd = options.cwd ?? process.cwd();
  const file: ConfigFile = env.YIZHENG_CONFIG_FILE
    ? readConfigFile(resolve(cwd, env.YIZHENG_CONFIG_FILE))
    : {};
  const pick = <T>(o: T | undefined, e: T | undefined, f: T | undefined, d: T): T => o ?? e ?? f ?? d;
  const nonEmpty = (v: string | undefined): string | undefined =>
    v === undefined || v === '' ? undefined : v;

  const host = pick(nonEmpty(overrides.host), nonEmpty(env.YIZHENG_HOST), file.host, DEFAULTS.host);
  const port = parsePort(pick(overrides.port, nonEmpty(env.YIZHENG_PORT), file.port, DEFAULTS.port), 'port');
  const dataDir = resolve(
    cwd,
    pick(nonEmpty(overrides.dataDir), nonEmpty(env.YIZHENG_DATA_DIR), file.dataDir, DEFAULTS.dataDir),
  );
  const poolSize = env.YIZHENG_DB_POOL_SIZE
    ? parseNonNegativeInt(env.YIZHENG_DB_POOL_SIZE, 'YIZHENG_DB_POOL_SIZE')
    : DEFAULTS.poolSize;
  const database = parseDatabaseUrl(
    pick(nonEmpty(overrides.databaseUrl), nonEmpty(env.DATABASE_URL), file.databaseUrl, undefined),
    dataDir,
    Math.max(1, poolSize),
  );
  const coldUrl = pick(undefined, nonEmpty(env.YIZHENG_COLD_DATABASE_URL), file.coldDatabaseUrl, undefined);
  const coldDatabase =
    coldUrl === undefined ? undefined : parseDatabaseUrl(coldUrl, dataDir, Math.max(1, poolSize));
  const kekFile = resolve(
    cwd,
    pick(undefined, nonEmpty(env.YIZHENG_KEK_FILE), file.kekFile, join(dataDir, 'kek.key')),
  );
  const logLevel = pick(
    undefined,
    nonEmpty(env.YIZHENG_LOG_LEVEL) as LogLevel | undefined,
    file.logLevel,
    DEFAULTS.logLevel,
  );
  if (!LOG_LEVELS.includes(logLevel))
    throw invalid(`log level must be one of ${LOG_LEVELS.join(', ')}, got ${logLevel}`);
  const bodyLimit = env.YIZHENG_BODY_LIMIT
    ? parseNonNegativeInt(env.YIZHENG_BODY_LIMIT, 'YIZHENG_BODY_LIMIT')
    : (file.bodyLimit ?? DEFAULTS.bodyLimit);
  const rateLimitPerMinute = env.YIZHENG_RATE_LIMIT
    ? parseNonNegativeInt(env.YIZHENG_RATE_LIMIT, 'YIZHENG_RATE_LIMIT')
    : (file.rateLimitPerMinute ?? DEFAULTS.rateLimitPerMinute);
  const apiLog = env.YIZHENG_API_LOG
    ? parseBool(env.YIZHENG_API_LOG, 'YIZHENG_API_LOG')
    : (file.apiLog ?? true);
  const trustStore = pick(undefined, nonEmpty(env.YIZHENG_TRUST_STORE), file.trustStore, undefined);
  const crlDir = pick(undefined, nonEmpty(env.YIZHENG_CRL_DIR), file.crlDir, undefined);
  const fileSizeLimit = env.YIZHENG_FILE_SIZE_LIMIT
    ? parseNonNegativeInt(env.YIZHENG_FILE_SIZE_LIMIT, 'YIZHENG_FILE_SIZE_LIMIT')
    : (file.fileSizeLimit ?? EVIDENCE_DEFAULTS.fileSizeLimit);
  const logHash = pick(undefined, nonEmpty(env.YIZHENG_LOG_HASH), file.logHash, DEFAULT_LOG_CONFIG.hash);
  if (logHash !== 'sm3' && logHash !== 'sha256') {
    throw invalid(`YIZHENG_LOG_HASH must be sm3 or sha256, got ${logHash}`);
  }
  const logOrigin = pick(
    undefined,
    nonEmpty(env.YIZHENG_LOG_ORIGIN),
    file.logOrigin,
    DEFAULT_LOG_CONFIG.origin,
  );
  // eslint-disable-next-line no-control-regex
  if (!/^[^\s+\u0000-\u001f]{1,255}$/u.test(logOrigin)) {
    throw invalid(`YIZHENG_LOG_ORIGIN must be 1–255 characters without spaces or '+', got ${logOrigin}`);
  }
  const checkpointIntervalMs = env.YIZHENG_LOG_CHECKPOINT_INTERVAL_MS
    ? parseNonNegativeInt(env.YIZHENG_LOG_CHECKPOINT_INTERVAL_MS, 'YIZHENG_LOG_CHECKPOINT_INTERVAL_MS')
    : (file.logCheckpointIntervalMs ?? DEFAULT_LOG_CONFIG.checkpointIntervalMs);
  return {
    host,
    port,
    dataDir,
    database,
    ...(coldDatabase === undefined ? {} : { coldDatabase }),
    kekFile,
    logLevel,
    bodyLimit,
    rateLimitPerMinute,
    auth: { maxSkewMs: DEFAULTS.maxSkewMs, nonceTtlMs: 2 * DEFAULTS.maxSkewMs + 60_000 },
    migrateOnStart: true,
    apiLog,
    ...consoleFiles(env, file, cwd),
    trust: parseTrustConfig({ env, file, host, port, cwd }),
    ...redisConfig(env),
    log: {
      hash: logHash,
      origin: logOrigin,
      checkpointIntervalMs,
      integrateIntervalMs: DEFAULT_LOG_CONFIG.integrateIntervalMs,
    },
    evidence: {
      trustStore: trustStore === undefined ? undefined : resolve(cwd, trustStore),
      ...(crlDir === undefined ? {} : { crlDir: resolve(cwd, crlDir) }),
      fileSizeLimit,
      fileDir: join(dataDir, 'files'),
    },
  };
}

/** The console's trust store files (YIZHENG_CONSOLE_TRUST_FILE, YIZHENG_CONSOLE_CRL_FILE), resolved against cwd. */
function consoleFiles(
  env: Env,
  file: ConfigFile,
  cwd: string,
): { consoleTrustFile?: string; consoleCrlFile?: string } {
  const trust = env.YIZHENG_CONSOLE_TRUST_FILE || file.consoleTrustFile;
  const crl = env.YIZHENG_CONSOLE_CRL_FILE || file.consoleCrlFile;
  return {
    ...(trust ? { consoleTrustFile: resolve(cwd, trust) } : {}),
    ...(crl ? { consoleCrlFile: resolve(cwd, crl) } : {}),
  };
}

/** YIZHENG_REDIS_URL (redis:// or rediss://), YIZHENG_REDIS_PREFIX, YIZHENG_BUFFER_FLUSH_MS. */
function redisConfig(env: Env): { redis?: RedisConfig } {
  const url = env.YIZHENG_REDIS_URL;
  if (url === undefined || url === '') return {};
  if (!/^rediss?:\/\/[^\s]+$/i.test(url) || url.length > 2048)
    throw invalid('YIZHENG_REDIS_URL must be a redis:// or rediss:// URL');
  const prefix = env.YIZHENG_REDIS_PREFIX || REDIS_DEFAULTS.prefix;
  if (!REDIS_PREFIX.test(prefix))
    throw invalid(`YIZHENG_REDIS_PREFIX must be 1–64 of A-Z a-z 0-9 : _ . -, got ${prefix}`);
  const flushIntervalMs = env.YIZHENG_BUFFER_FLUSH_MS
    ? parseNonNegativeInt(env.YIZHENG_BUFFER_FLUSH_MS, 'YIZHENG_BUFFER_FLUSH_MS')
    : REDIS_DEFAULTS.flushIntervalMs;
  if (flushIntervalMs < 100) throw invalid('YIZHENG_BUFFER_FLUSH_MS must be at least 100');
  return { redis: { url, prefix, flushIntervalMs } };
}

/** Database URL with the password masked, for logs. */
export function describeDatabase(db: DatabaseConfig): string {
  if (db.dialect === 'sqlite') return `sqlite ${db.file}`;
  return `${db.dialect} ${db.url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}`;
}
