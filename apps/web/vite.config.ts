import vue from '@vitejs/plugin-vue';
import { browserVerifierAliases } from '@yizheng/evidence/browser-aliases';
import { defineConfig } from 'vite';

// Served by the server at /console/ (apps/server/src/modules/admin/console-static.ts); no CDN, works offline.
// A second entry, verify.html, is the public verification page (served at /verify/ by modules/public-verify);
// its verifier needs the browser aliases of @yizheng/evidence (node:crypto → WebCrypto shim, gm → TS engine).
export default defineConfig({
  base: '/console/',
  plugins: [vue()],
  resolve: { alias: browserVerifierAliases() },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: { console: 'index.html', verify: 'verify.html' } },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
