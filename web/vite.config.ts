// The web pages: React + TypeScript, built into web/dist and served by the Settle server
// (src/http/web.ts). `npm run dev:web` proxies /v1 to a server on :4000.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: true },
  server: { proxy: { '/v1': 'http://127.0.0.1:4000' } },
});
