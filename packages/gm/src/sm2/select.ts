/**
 * Engine choice: `native` (Yizheng's own C engine, N-API), `openssl` (the N-API addon over Node's OpenSSL,
 * for comparison), `js` (pure TypeScript), or `auto` (native when it loads, else js).
 * The choice is made once by whoever composes the application (the CLI, the server) and handed down.
 */
import { GmError } from '../errors.js';
import type { Sm2Engine } from './engine.js';
import { createJsEngine } from './js-engine.js';
import { loadNativeEngine } from './native-engine.js';
import { loadOpensslEngine } from './openssl-engine.js';

export type EngineChoice = 'native' | 'openssl' | 'js' | 'auto';

export interface EngineStatus {
  name: 'native' | 'openssl' | 'js';
  available: boolean;
  /** Description when available, the reason when not. */
  detail: string;
}

export interface EngineSelection {
  engine: Sm2Engine;
  /** Why this engine was chosen. */
  reason: string;
  engines: EngineStatus[];
}

export function parseEngineChoice(value: string | undefined): EngineChoice {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'native' || value === 'openssl' || value === 'js') return value;
  throw new GmError(
    'GM_INVALID_ARGUMENT',
    `unknown SM2 engine "${value}" (expected native, openssl, js or auto)`,
  );
}

type Load = () => { engine: Sm2Engine } | { engine: undefined; reason: string };

export function selectEngine(
  choice: EngineChoice = 'auto',
  loaders: { native?: Load; openssl?: Load } = {},
): EngineSelection {
  const js = createJsEngine();
  const native = (loaders.native ?? (() => loadNativeEngine()))();
  const openssl = (loaders.openssl ?? (() => loadOpensslEngine()))();
  const status = (name: 'native' | 'openssl', l: ReturnType<Load>): EngineStatus =>
    l.engine
      ? { name, available: true, detail: l.engine.description }
      : { name, available: false, detail: l.reason };
  const engines: EngineStatus[] = [
    status('native', native),
    status('openssl', openssl),
    { name: 'js', available: true, detail: js.description },
  ];
  switch (choice) {
    case 'js':
      return { engine: js, reason: 'requested (YIZHENG_GM_ENGINE=js)', engines };
    case 'native':
    case 'openssl': {
      const l = choice === 'native' ? native : openssl;
      if (!l.engine) {
        throw new GmError('GM_ENGINE_UNAVAILABLE', `the ${choice} SM2 engine is not available: ${l.reason}`);
      }
      return { engine: l.engine, reason: `requested (YIZHENG_GM_ENGINE=${choice})`, engines };
    }
    case 'auto':
      return native.engine
        ? { engine: native.engine, reason: 'automatic: the native addon is built and loaded', engines }
        : {
            engine: js,
            reason: `automatic: native addon unavailable (${native.reason}), using TypeScript`,
            engines,
          };
  }
}
