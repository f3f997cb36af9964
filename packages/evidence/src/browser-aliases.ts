/**
 * The module aliases a bundler needs for `@yizheng/evidence/browser` (vite `resolve.alias`): Node built-ins that
 * `@yizheng/pki` imports become the browser modules of `src/browser/`, and `@yizheng/gm` its browser entry. The
 * workspace packages are taken from source, so the bundle never depends on a stale dist/.
 */
import { fileURLToPath } from 'node:url';

export interface BundlerAlias {
  find: RegExp;
  replacement: string;
}

// From src/ or dist/ alike: paths are resolved from the package root.
const at = (p: string): string => fileURLToPath(new URL(`../${p}`, import.meta.url));

export function browserVerifierAliases(): BundlerAlias[] {
  return [
    { find: /^node:crypto$/, replacement: at('src/browser/node-crypto.ts') },
    { find: /^node:net$/, replacement: at('src/browser/node-net.ts') },
    { find: /^@yizheng\/gm(\/browser)?$/, replacement: at('../gm/src/browser.ts') },
    { find: /^@yizheng\/pki$/, replacement: at('../pki/src/index.ts') },
    { find: /^@yizheng\/ledger$/, replacement: at('../ledger/src/index.ts') },
    { find: /^@yizheng\/evidence\/browser$/, replacement: at('src/browser.ts') },
  ];
}
