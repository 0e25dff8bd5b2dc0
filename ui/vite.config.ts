import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The admin panel: Preact through oxc's automatic JSX runtime, built to ui/dist and served by the API.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { proxy: { '/v1': 'http://localhost:3000' } },
});
