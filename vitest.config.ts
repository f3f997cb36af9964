import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run from source: workspace packages resolve to their src/, no build needed between edits.
    alias: [
      { find: /^@yizheng\/gm$/, replacement: src('./packages/gm/src/index.ts') },
      { find: /^@yizheng\/gm\/browser$/, replacement: src('./packages/gm/src/browser.ts') },
      { find: /^@yizheng\/pki$/, replacement: src('./packages/pki/src/index.ts') },
      { find: /^@yizheng\/pki\/testing$/, replacement: src('./packages/pki/src/testing/index.ts') },
      { find: /^@yizheng\/server$/, replacement: src('./apps/server/src/index.ts') },
      { find: /^@yizheng\/ledger$/, replacement: src('./packages/ledger/src/index.ts') },
      { find: /^@yizheng\/ledger\/node$/, replacement: src('./packages/ledger/src/node.ts') },
      { find: /^@yizheng\/evidence$/, replacement: src('./packages/evidence/src/index.ts') },
    ],
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'apps/*/bench/**/*.test.ts',
      'apps/web/e2e/**/*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
