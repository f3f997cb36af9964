/**
 * The process's default SM2 instance for Node: SM3 from node:crypto and the engine chosen by
 * `YIZHENG_GM_ENGINE` (native | openssl | js | auto, read once on first use). Applications that compose their own
 * (the server) call `createSm2` with `selectEngine(config.engine)` instead.
 */
import { createSm3, sm3 } from './node/sm3.js';
import { createSm2, type Sm2 } from './sm2/sm2.js';
import { createSm2BatchVerify, type Sm2BatchVerify } from './sm2/batch-verify.js';
import { parseEngineChoice, selectEngine, type EngineSelection } from './sm2/select.js';

let selection: EngineSelection | undefined;
let instance: Sm2 | undefined;
let batch: Sm2BatchVerify | undefined;

export function defaultEngineSelection(): EngineSelection {
  selection ??= selectEngine(parseEngineChoice(process.env.YIZHENG_GM_ENGINE));
  return selection;
}

function get(): Sm2 {
  instance ??= createSm2({ engine: defaultEngineSelection().engine, hash: createSm3, hashOneShot: sm3 });
  return instance;
}

function getBatch(): Sm2BatchVerify {
  batch ??= createSm2BatchVerify(get());
  return batch;
}

/** The default SM2 API (see module comment), with batch and asynchronous verification. */
export const sm2: Sm2 & Sm2BatchVerify = {
  get engine() {
    return get().engine;
  },
  generateKeyPair: () => get().generateKeyPair(),
  importPrivateKey: (input) => get().importPrivateKey(input),
  importPublicKey: (input) => get().importPublicKey(input),
  computeZ: (key, id) => get().computeZ(key, id),
  computeDigest: (key, message, id) => get().computeDigest(key, message, id),
  sign: (key, message, options) => get().sign(key, message, options),
  signMany: (key, messages, options) => get().signMany(key, messages, options),
  verify: (key, message, signature, options) => get().verify(key, message, signature, options),
  signDigest: (key, e, options) => get().signDigest(key, e, options),
  verifyDigest: (key, e, signature, options) => get().verifyDigest(key, e, signature, options),
  encrypt: (key, plaintext, options) => get().encrypt(key, plaintext, options),
  decrypt: (key, ciphertext, options) => get().decrypt(key, ciphertext, options),
  verifyBatch: (items) => getBatch().verifyBatch(items),
  verifyBatchAsync: (items) => getBatch().verifyBatchAsync(items),
  verifyAsync: (key, message, signature, options) => getBatch().verifyAsync(key, message, signature, options),
};
