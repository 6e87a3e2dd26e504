/**
 * `electron-vite build` → out/main (main process + the engine's utility-process entry), out/preload (the sandboxed
 * bridge, CommonJS), out/renderer (the React app; the web shell serves the same bundle).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import { rendererViteConfig } from './src/renderer/build-config';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: path.join(root, 'out/main'),
      rolldownOptions: {
        input: {
          index: path.join(root, 'src/main/index.ts'),
          'engine-process': path.join(root, 'src/main/engine-process.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: path.join(root, 'out/preload'),
      // Sandboxed preloads must be CommonJS and self-contained.
      rolldownOptions: { output: { format: 'cjs' } },
      lib: { entry: path.join(root, 'src/preload/index.ts'), formats: ['cjs'], fileName: () => 'index.cjs' },
      externalizeDeps: false,
    },
  },
  renderer: rendererViteConfig(root),
});
