/**
 * Engine choice: `native` (the N-API addon), `js` (pure TypeScript), or `auto` (native when it loads, else js).
 * The choice is made once by whoever composes the application (the CLI, the server) and handed down.
 */
import { GmError } from '../errors.js';
import type { Sm2Engine } from './engine.js';
import { createJsEngine } from './js-engine.js';
import { loadNativeEngine } from './native-engine.js';

export type EngineChoice = 'native' | 'js' | 'auto';

export interface EngineStatus {
  name: 'native' | 'js';
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
  if (value === 'native' || value === 'js') return value;
  throw new GmError('GM_INVALID_ARGUMENT', `unknown SM2 engine "${value}" (expected native, js or auto)`);
}

export function selectEngine(
  choice: EngineChoice = 'auto',
  loaders: { native?: typeof loadNativeEngine } = {},
): EngineSelection {
  const js = createJsEngine();
  const native = (loaders.native ?? loadNativeEngine)();
  const engines: EngineStatus[] = [
    native.engine
      ? { name: 'native', available: true, detail: native.engine.description }
      : { name: 'native', available: false, detail: native.reason },
    { name: 'js', available: true, detail: js.description },
  ];
  switch (choice) {
    case 'js':
      return { engine: js, reason: 'requested (YIZHENG_GM_ENGINE=js)', engines };
    case 'native':
      if (!native.engine) {
        throw new GmError(
          'GM_ENGINE_UNAVAILABLE',
          `the native SM2 engine is not available: ${native.reason}`,
        );
      }
      return { engine: native.engine, reason: 'requested (YIZHENG_GM_ENGINE=native)', engines };
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
