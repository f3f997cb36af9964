/**
 * `@yizheng/gm/browser`: the same API as the Node entry, in pure TypeScript (no Node built-ins), for the web
 * console (certificate login signs challenges in the browser) and the offline verification page.
 */
import { createJsEngine } from './sm2/js-engine.js';
import { createSm2, type Sm2 } from './sm2/sm2.js';
import type { SignedDataShape } from './signed-data-shape.js';
import { createSm3 } from './symmetric.js';

export * from './api.js';
export * from './symmetric.js';

/** The browser's SM2 API: the TypeScript engine with pure-TypeScript SM3. */
export const sm2: Sm2 = createSm2({ engine: createJsEngine(), hash: createSm3 });

/** No native CMS locator in the browser: `@yizheng/pki` uses its TypeScript walk. */
export const signedDataShape: SignedDataShape | undefined = undefined;
