/**
 * The renderer's Vite settings, shared by electron.vite.config.ts (the desktop build) and the web shell's
 * on-demand build (src/server/build-renderer.ts), so both shells get the same bundle.
 */
import path from 'node:path';
import type { UserConfig } from 'vite';

export function rendererViteConfig(repoRoot: string): UserConfig & { build: { outDir: string } } {
  const root = path.join(repoRoot, 'src/renderer');
  return {
    root,
    // Relative asset URLs: the same files load from app:// (Electron) and http://127.0.0.1 (web shell).
    base: './',
    oxc: { jsx: { runtime: 'automatic', importSource: 'react', development: false } },
    // React's production build (its CommonJS entry picks the build from NODE_ENV).
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir: path.join(repoRoot, 'out/renderer'),
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      minify: true,
      chunkSizeWarningLimit: 2500,
      rollupOptions: {
        input: path.join(root, 'index.html'),
        // React Flow ships a "use client" directive, meaningless in a client-only bundle.
        onwarn(warning, warn) {
          if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
          warn(warning);
        },
      },
    },
  };
}
