import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The Rust server serves dist/ at "/" with assets under /assets/ and answers index.html for
// every non-API path. During `vite dev` the API (and NGSI-LD) is proxied to a locally running
// server.
const apiTarget = process.env.HAIDANG_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    // Inline nothing: every asset (Leaflet's images included) is a file under /assets/.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
      '/ngsi-ld': { target: apiTarget, changeOrigin: false },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
