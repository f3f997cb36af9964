import { resolve } from 'node:path';
import { StartupError } from '../startup-error.js';
import { parseNtpServer } from '../modules/tsa/clock.js';
import { TSA_ALGORITHMS, type TsaAlgorithm } from './algorithms.js';

/**
 * Configuration of the trust outputs: the unit shown on reports and certificates, the TSA, its time source,
 * and download links. From the environment (which wins) or the config file's `trust` object.
 *
 * | env                      | file (`trust.…`)     | default                                  |
 * |--------------------------|----------------------|------------------------------------------|
 * | YIZHENG_UNIT_NAME        | unitName             | 医证电子数据存证平台                        |
 * | YIZHENG_UNIT_LOGO        | unitLogo             | none (PNG or JPEG file)                  |
 * | YIZHENG_PUBLIC_URL       | publicUrl            | http://HOST:PORT (QR codes, download URLs) |
 * | YIZHENG_TSA_KEYS         | tsaKeys              | sm2,rsa,p256                             |
 * | YIZHENG_TSA_DEFAULT      | tsaDefault           | sm2                                      |
 * | YIZHENG_TSA_POLICY       | tsaPolicy            | 2.999.1.1 (an example OID: set your own)  |
 * | YIZHENG_TSA_ACCURACY_MS  | tsaAccuracyMs        | 1000                                     |
 * | YIZHENG_NTP_SERVER       | ntpServer            | none (system clock unmonitored)          |
 * | YIZHENG_NTP_MAX_DRIFT_MS | ntpMaxDriftMs        | 1000                                     |
 * | YIZHENG_NTP_INTERVAL_MS  | ntpIntervalMs        | 60000                                    |
 * | YIZHENG_DOWNLOAD_TTL_MS  | downloadTtlMs        | 600000 (10 minutes)                      |
 * | YIZHENG_DOWNLOAD_PURGE_GRACE_MS | downloadPurgeGraceMs | 86400000 (a day after a link expired) |
 */
export interface TrustConfig {
  unitName: string;
  unitLogoFile: string | undefined;
  publicUrl: string;
  tsa: {
    algorithms: TsaAlgorithm[];
    defaultAlgorithm: TsaAlgorithm;
    policy: string;
    accuracyMs: number;
    ntpServer: string | undefined;
    maxDriftMs: number;
    ntpIntervalMs: number;
  };
  downloadTtlMs: number;
  /** Used one-time links are forgotten this long after they expired (the download-link purge job). */
  downloadPurgeGraceMs: number;
}

export const TRUST_DEFAULTS = {
  unitName: '医证电子数据存证平台',
  tsaPolicy: '2.999.1.1',
  tsaAccuracyMs: 1000,
  maxDriftMs: 1000,
  ntpIntervalMs: 60_000,
  downloadTtlMs: 10 * 60_000,
  downloadPurgeGraceMs: 24 * 3600_000,
} as const;

type Env = Readonly<Record<string, string | undefined>>;

const invalid = (m: string): StartupError => new StartupError('CONFIG_INVALID', m);

function str(env: string | undefined, file: unknown, what: string): string | undefined {
  if (env !== undefined && env !== '') return env;
  if (file === undefined || file === null) return undefined;
  if (typeof file !== 'string') throw invalid(`trust.${what} must be a string`);
  return file;
}

function int(env: string | undefined, file: unknown, what: string, dflt: number): number {
  const v = env !== undefined && env !== '' ? env : file;
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw invalid(`${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

function algorithm(v: string, what: string): TsaAlgorithm {
  if (!(TSA_ALGORITHMS as readonly string[]).includes(v))
    throw invalid(`${what}: unknown TSA key ${v} (sm2, rsa, p256)`);
  return v as TsaAlgorithm;
}

export function parseTrustConfig(options: {
  env: Env;
  /** The parsed config file; only its `trust` member is read. */
  file: { readonly trust?: unknown };
  host: string;
  port: number;
  cwd: string;
}): TrustConfig {
  const { env, cwd } = options;
  const raw = options.file.trust;
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw invalid('trust must be an object');
  }
  const f = (raw ?? {}) as Readonly<Record<string, unknown>>;
  const keysSpec = str(
    env.YIZHENG_TSA_KEYS,
    Array.isArray(f.tsaKeys) ? f.tsaKeys.join(',') : f.tsaKeys,
    'tsaKeys',
  );
  const algorithms = [
    ...new Set((keysSpec ?? 'sm2,rsa,p256').split(',').map((s) => algorithm(s.trim(), 'YIZHENG_TSA_KEYS'))),
  ];
  if (algorithms.length === 0) throw invalid('YIZHENG_TSA_KEYS names no key');
  const defaultAlgorithm = algorithm(
    str(env.YIZHENG_TSA_DEFAULT, f.tsaDefault, 'tsaDefault') ?? algorithms[0]!,
    'YIZHENG_TSA_DEFAULT',
  );
  if (!algorithms.includes(defaultAlgorithm))
    throw invalid(`the default TSA key ${defaultAlgorithm} is not in YIZHENG_TSA_KEYS`);
  const policy = str(env.YIZHENG_TSA_POLICY, f.tsaPolicy, 'tsaPolicy') ?? TRUST_DEFAULTS.tsaPolicy;
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(policy)) throw invalid(`YIZHENG_TSA_POLICY is not an OID: ${policy}`);
  const ntpServer = str(env.YIZHENG_NTP_SERVER, f.ntpServer, 'ntpServer');
  if (ntpServer !== undefined) {
    try {
      parseNtpServer(ntpServer);
    } catch (e) {
      throw invalid(`YIZHENG_NTP_SERVER: ${(e as Error).message}`);
    }
  }
  const publicUrl = (
    str(env.YIZHENG_PUBLIC_URL, f.publicUrl, 'publicUrl') ??
    `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`
  ).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(publicUrl))
    throw invalid(`YIZHENG_PUBLIC_URL is not an http(s) URL: ${publicUrl}`);
  const logo = str(env.YIZHENG_UNIT_LOGO, f.unitLogo, 'unitLogo');
  return {
    unitName: str(env.YIZHENG_UNIT_NAME, f.unitName, 'unitName') ?? TRUST_DEFAULTS.unitName,
    unitLogoFile: logo === undefined ? undefined : resolve(cwd, logo),
    publicUrl,
    tsa: {
      algorithms,
      defaultAlgorithm,
      policy,
      accuracyMs: int(
        env.YIZHENG_TSA_ACCURACY_MS,
        f.tsaAccuracyMs,
        'YIZHENG_TSA_ACCURACY_MS',
        TRUST_DEFAULTS.tsaAccuracyMs,
      ),
      ntpServer,
      maxDriftMs: int(
        env.YIZHENG_NTP_MAX_DRIFT_MS,
        f.ntpMaxDriftMs,
        'YIZHENG_NTP_MAX_DRIFT_MS',
        TRUST_DEFAULTS.maxDriftMs,
      ),
      ntpIntervalMs: Math.max(
        1000,
        int(
          env.YIZHENG_NTP_INTERVAL_MS,
          f.ntpIntervalMs,
          'YIZHENG_NTP_INTERVAL_MS',
          TRUST_DEFAULTS.ntpIntervalMs,
        ),
      ),
    },
    downloadTtlMs: int(
      env.YIZHENG_DOWNLOAD_TTL_MS,
      f.downloadTtlMs,
      'YIZHENG_DOWNLOAD_TTL_MS',
      TRUST_DEFAULTS.downloadTtlMs,
    ),
    downloadPurgeGraceMs: int(
      env.YIZHENG_DOWNLOAD_PURGE_GRACE_MS,
      f.downloadPurgeGraceMs,
      'YIZHENG_DOWNLOAD_PURGE_GRACE_MS',
      TRUST_DEFAULTS.downloadPurgeGraceMs,
    ),
  };
}

/** The configuration used when ServerConfig carries none (tests, programmatic builds). */
export function defaultTrustConfig(host: string, port: number): TrustConfig {
  return parseTrustConfig({ env: {}, file: {}, host, port, cwd: process.cwd() });
}
