/**
 * `@yizheng/gm` for Node: SM2 / SM3 / SM4 with the native engine when built. The browser entry
 * (`@yizheng/gm/browser`) exports the same API backed by pure TypeScript.
 */
export * from './api.js';
export * from './node/symmetric.js';
export {
  parseEngineChoice,
  selectEngine,
  type EngineChoice,
  type EngineSelection,
  type EngineStatus,
} from './sm2/select.js';
export { defaultEngineSelection, sm2 } from './default-sm2.js';
export { signedDataShape } from './node/signed-data-shape.js';
export {
  loadNativeEngine,
  type NativeEngineOptions,
  type NativeSm2Engine,
  type NonceMode,
} from './sm2/native-engine.js';
