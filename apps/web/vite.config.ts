import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// Served by the server at /console/ (apps/server/src/modules/admin/console-static.ts); no CDN, works offline.
export default defineConfig({
  base: '/console/',
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
