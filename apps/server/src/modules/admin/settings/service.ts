/**
 * System configuration (系统配置, seed §1.1), stored in `system_settings`: service address, storage path,
 * retention years, unit name and logo (used by reports), the API-log and job-log switches, and the login
 * policy (等保 level 3: password login on/off, complexity, lockout, idle timeout). Query, modify, reset to
 * defaults; every change is written to the operation log. Log retention can never go below 180 days.
 */
import type { Kysely } from 'kysely';
import { appendToChain } from '../../../audit/hash-chain.js';
import { isoTime, type ServiceContext } from '../../../context.js';
import type { Database } from '../../../db/schema.js';
import { YzError } from '../../../errors.js';

/** The minimum log retention (days) whatever the configuration says (GB/T 22239: at least six months). */
export const MIN_LOG_RETENTION_DAYS = 180;
/** Largest logo accepted (a data: URL of a PNG/JPEG/SVG). */
export const MAX_LOGO_LENGTH = 256 * 1024;

export interface Settings {
  serviceAddress: string;
  storagePath: string;
  retentionYears: number;
  unitName: string;
  /** `data:image/png;base64,…` (or jpeg/svg+xml), or empty. */
  unitLogo: string;
  apiLog: boolean;
  jobLog: boolean;
  logRetentionDays: number;
  passwordLogin: boolean;
  passwordMinLength: number;
  passwordMinClasses: number;
  maxLoginFailures: number;
  lockoutMinutes: number;
  idleTimeoutMinutes: number;
  challengeTtlSeconds: number;
}

export type SettingKey = keyof Settings;

type Rule =
  | { kind: 'string'; max: number; pattern?: RegExp }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'bool' };

const RULES: Readonly<Record<SettingKey, Rule>> = {
  serviceAddress: { kind: 'string', max: 500, pattern: /^(https?:\/\/[^\s]+)?$/ },
  storagePath: { kind: 'string', max: 1000 },
  retentionYears: { kind: 'int', min: 1, max: 100 },
  unitName: { kind: 'string', max: 200 },
  unitLogo: {
    kind: 'string',
    max: MAX_LOGO_LENGTH,
    pattern: /^(data:image\/(png|jpeg|svg\+xml);base64,[A-Za-z0-9+/]+={0,2})?$/,
  },
  apiLog: { kind: 'bool' },
  jobLog: { kind: 'bool' },
  logRetentionDays: { kind: 'int', min: MIN_LOG_RETENTION_DAYS, max: 36500 },
  passwordLogin: { kind: 'bool' },
  passwordMinLength: { kind: 'int', min: 8, max: 64 },
  passwordMinClasses: { kind: 'int', min: 1, max: 4 },
  maxLoginFailures: { kind: 'int', min: 1, max: 100 },
  lockoutMinutes: { kind: 'int', min: 1, max: 1440 },
  idleTimeoutMinutes: { kind: 'int', min: 1, max: 120 },
  challengeTtlSeconds: { kind: 'int', min: 10, max: 600 },
};

export const SETTING_KEYS = Object.keys(RULES) as SettingKey[];

export function defaultSettings(base: {
  serviceAddress: string;
  storagePath: string;
  apiLog: boolean;
}): Settings {
  return {
    serviceAddress: base.serviceAddress,
    storagePath: base.storagePath,
    retentionYears: 30,
    unitName: '',
    unitLogo: '',
    apiLog: base.apiLog,
    jobLog: true,
    logRetentionDays: MIN_LOG_RETENTION_DAYS,
    passwordLogin: true,
    passwordMinLength: 12,
    passwordMinClasses: 3,
    maxLoginFailures: 5,
    lockoutMinutes: 30,
    idleTimeoutMinutes: 15,
    challengeTtlSeconds: 120,
  };
}

function isSettingKey(k: string): k is SettingKey {
  return Object.hasOwn(RULES, k);
}

function checkValue(key: SettingKey, value: unknown): string | number | boolean {
  const rule = RULES[key];
  switch (rule.kind) {
    case 'bool':
      if (typeof value === 'boolean') return value;
      break;
    case 'int':
      if (typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max)
        return value;
      break;
    case 'string':
      if (typeof value === 'string' && value.length <= rule.max && (rule.pattern?.test(value) ?? true))
        return value;
      break;
  }
  throw new YzError('SETTING_INVALID', key);
}

/** The effective settings: stored values over defaults (a stored value that no longer validates is ignored). */
export async function getSettings(options: { db: Kysely<Database>; defaults: Settings }): Promise<Settings> {
  const rows = await options.db.selectFrom('system_settings').selectAll().execute();
  const out: Record<string, unknown> = { ...options.defaults };
  for (const r of rows) {
    if (!isSettingKey(r.key)) continue;
    try {
      out[r.key] = checkValue(r.key, JSON.parse(r.value));
    } catch {
      // keep the default
    }
  }
  const s = out as unknown as Settings;
  return { ...s, logRetentionDays: Math.max(MIN_LOG_RETENTION_DAYS, s.logRetentionDays) };
}

async function logChange(
  ctx: ServiceContext,
  action: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await appendToChain({
    db: ctx.db,
    table: 'operation_logs',
    entry: {
      at: isoTime(ctx.now()),
      actor: ctx.actor,
      action,
      target_type: 'settings',
      target_id: 'system',
      project_id: null,
      detail: JSON.stringify(detail),
    },
  });
}

/** Validates every given key first; stores all or nothing. */
export async function updateSettings(options: {
  ctx: ServiceContext;
  defaults: Settings;
  changes: Readonly<Record<string, unknown>>;
}): Promise<Settings> {
  const { ctx } = options;
  const checked: [SettingKey, string | number | boolean][] = [];
  for (const [k, v] of Object.entries(options.changes)) {
    if (!isSettingKey(k)) throw new YzError('SETTING_UNKNOWN', k);
    checked.push([k, checkValue(k, v)]);
  }
  const at = isoTime(ctx.now());
  await ctx.db.transaction().execute(async (db) => {
    for (const [key, value] of checked) {
      const json = JSON.stringify(value);
      const r = await db
        .updateTable('system_settings')
        .set({ value: json, updated_at: at })
        .where('key', '=', key)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0)
        await db.insertInto('system_settings').values({ key, value: json, updated_at: at }).execute();
    }
    // The logo is large: log that it changed, not its bytes.
    await logChange({ ...ctx, db }, 'settings.update', {
      changes: Object.fromEntries(
        checked.map(([k, v]) => [k, k === 'unitLogo' ? `(${String(v).length} chars)` : v]),
      ),
    });
  });
  return getSettings({ db: ctx.db, defaults: options.defaults });
}

/** Resets the given keys (or all) to their defaults. */
export async function resetSettings(options: {
  ctx: ServiceContext;
  defaults: Settings;
  keys?: readonly string[] | undefined;
}): Promise<Settings> {
  const { ctx } = options;
  const keys = options.keys ?? SETTING_KEYS;
  for (const k of keys) if (!isSettingKey(k)) throw new YzError('SETTING_UNKNOWN', k);
  await ctx.db.transaction().execute(async (db) => {
    if (keys.length > 0)
      await db
        .deleteFrom('system_settings')
        .where('key', 'in', [...keys])
        .execute();
    await logChange({ ...ctx, db }, 'settings.reset', { keys });
  });
  return getSettings({ db: ctx.db, defaults: options.defaults });
}

/**
 * A cached reader of the effective settings (read on every console request and, for the API-log switch, on
 * every signed call): refreshed after `ttlMs` by the injected clock, or at once after a change through
 * {@link SettingsReader.invalidate} (the console's update and reset do so).
 */
export interface SettingsReader {
  (): Promise<Settings>;
  invalidate(): void;
}

export function createSettingsReader(options: {
  db: Kysely<Database>;
  defaults: Settings;
  now: () => number;
  ttlMs?: number;
}): SettingsReader {
  const ttl = options.ttlMs ?? 5_000;
  let cached: { at: number; value: Promise<Settings> } | undefined;
  const read = (): Promise<Settings> => {
    const t = options.now();
    if (cached === undefined || t - cached.at >= ttl || t < cached.at) {
      const value = getSettings({ db: options.db, defaults: options.defaults });
      cached = { at: t, value };
      value.catch(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
  return Object.assign(read, {
    invalidate: () => {
      cached = undefined;
    },
  });
}
