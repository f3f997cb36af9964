/**
 * What the two N-API SM2 engines (`native-engine.ts`, `openssl-engine.ts`) share: finding and loading an
 * addon under `build/`, the load-time known-answer check 1·G = G, and turning the addon's coded errors into
 * {@link GmError}s. Each engine module keeps only its own addon's surface and description.
 */
import { createRequire } from 'node:module';
import { GmError, type GmErrorCode } from '../errors.js';

export type AddonLoad<T> = { addon: T } | { addon: undefined; reason: string };

/** Generator G of GB/T 32918.5 (uncompressed), for the load-time known-answer check 1·G = G. */
const G_HEX =
  '0432c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7' +
  'bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0';

const ADDON_CODES: ReadonlySet<string> = new Set<GmErrorCode>(['GM_INVALID_ARGUMENT', 'GM_INVALID_KEY']);

/**
 * Addon errors carry a `code`: GM_INVALID_ARGUMENT and GM_INVALID_KEY become {@link GmError}s with that code;
 * anything else (GM_NATIVE_FAILURE: allocation or the OS random source failed) is an internal fault and is
 * rethrown as is.
 */
export function wrapAddonError(err: unknown): unknown {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && ADDON_CODES.has(code)) {
      return new GmError(code as GmErrorCode, err.message, { cause: err });
    }
  }
  return err;
}

/** `fn` with the addon's coded errors turned into {@link GmError}s (see {@link wrapAddonError}). */
export function guarded<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return fn(...args);
    } catch (err) {
      throw wrapAddonError(err);
    }
  };
}

/** The asynchronous form of {@link guarded}: a rejection is converted the same way. */
export function guardedAsync<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw wrapAddonError(err);
    }
  };
}

const loaded = new Map<string, AddonLoad<unknown>>();

/**
 * Loads `build/Release/<file>` (else `build/Debug/<file>`, from `node-gyp rebuild --debug`) once per
 * process. Paths are relative to this module: `src/sm2/` (vitest, tsx) and `dist/sm2/` (compiled) both sit
 * two levels below the package root, where node-gyp writes `build/`. Never throws; `label` names the addon
 * in the reason given when it is missing or fails to load.
 */
export function loadAddon<T>(file: string, label: string): AddonLoad<T> {
  const done = loaded.get(file);
  if (done) return done as AddonLoad<T>;
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  let result: AddonLoad<T> | undefined;
  for (const rel of [`../../build/Release/${file}`, `../../build/Debug/${file}`]) {
    let path: string;
    try {
      path = require.resolve(rel);
    } catch {
      continue; // not built there
    }
    try {
      result = { addon: require(path) as T };
      break;
    } catch (err) {
      failures.push(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  result ??=
    failures.length > 0
      ? { addon: undefined, reason: `the ${label} failed to load (${failures.join('; ')})` }
      : {
          addon: undefined,
          reason:
            `the ${label} is not built (no build/Release/${file}; ` +
            'run `npm run build:native -w packages/gm`, which needs python3, make and a C compiler)',
        };
  loaded.set(file, result);
  return result;
}

/**
 * Creates an addon context and checks 1·G = G with it: the context, or why the addon cannot be used.
 * Never throws.
 */
export function startContext<C extends { publicKeyFromPrivate: (d: Uint8Array) => Uint8Array }>(
  create: () => C,
  label: string,
): { cx: C } | { cx: undefined; reason: string } {
  try {
    const cx = create();
    const one = new Uint8Array(32);
    one[31] = 1;
    const g = cx.publicKeyFromPrivate(one);
    if (Buffer.from(g.buffer, g.byteOffset, g.byteLength).toString('hex') !== G_HEX) {
      return { cx: undefined, reason: `the ${label} failed its self-test (1·G ≠ G)` };
    }
    return { cx };
  } catch (err) {
    return {
      cx: undefined,
      reason: `the ${label} could not start: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
