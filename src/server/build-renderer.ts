/**
 * Make sure the renderer is built (out/renderer) before the web shell serves it: build when the bundle is missing
 * or older than the renderer's (or the shared contract's) sources.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rendererViteConfig } from '../renderer/build-config';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RENDERER_OUT = path.join(REPO_ROOT, 'out/renderer');

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, await newestMtime(p));
    else if (/\.(tsx?|css|html|json)$/.test(e.name)) newest = Math.max(newest, (await fsp.stat(p)).mtimeMs);
  }
  return newest;
}

/** Why the bundle must be (re)built, or null when it is up to date. */
export async function rendererBuildReason(root = REPO_ROOT): Promise<string | null> {
  const index = path.join(root, 'out/renderer/index.html');
  let built: number;
  try {
    built = (await fsp.stat(index)).mtimeMs;
  } catch {
    return 'the editor has not been built yet';
  }
  const src = Math.max(await newestMtime(path.join(root, 'src/renderer')), await newestMtime(path.join(root, 'src/shared')), await newestMtime(path.join(root, 'src/preload')));
  return src > built ? 'the editor sources changed since the last build' : null;
}

/** Build the renderer with Vite (the same settings as `electron-vite build`) into `outDir` (default out/renderer). */
export async function buildRenderer(root = REPO_ROOT, log: (s: string) => void = () => undefined, outDir?: string): Promise<void> {
  const vite = await import('vite');
  const cfg = rendererViteConfig(root);
  const dest = outDir ?? cfg.build.outDir;
  await vite.build({ ...cfg, build: { ...cfg.build, outDir: dest, emptyOutDir: true }, configFile: false, logLevel: 'warn', mode: 'production' });
  log(`built the editor into ${path.relative(process.cwd(), cfg.build.outDir) || cfg.build.outDir}`);
}

/**
 * Several shells may start at once (test suites, two terminals): one builds while the others wait on a lock, and the
 * bundle is built beside out/renderer and moved into place whole, so no shell ever serves a half-written bundle.
 */
export async function ensureRendererBuilt(opts: { root?: string; force?: boolean; log?: (s: string) => void } = {}): Promise<string> {
  const root = opts.root ?? REPO_ROOT;
  const out = path.join(root, 'out/renderer');
  if (!opts.force && (await rendererBuildReason(root)) === null) return out;
  const release = await buildLock(path.join(root, 'out/.renderer-build.lock'));
  try {
    const reason = opts.force ? 'a rebuild was asked for' : await rendererBuildReason(root);
    if (reason) {
      opts.log?.(`Building the editor (${reason})…`);
      const { atomicWriteDir } = await import('../loram/io/atomic');
      await atomicWriteDir(out, (tmp) => buildRenderer(root, opts.log, tmp));
    }
  } finally {
    await release();
  }
  return out;
}

/** A directory as a lock (mkdir is atomic); one left by a build that died is taken over after ten minutes. */
async function buildLock(dir: string): Promise<() => Promise<void>> {
  await fsp.mkdir(path.dirname(dir), { recursive: true });
  for (;;) {
    try {
      await fsp.mkdir(dir);
      return () => fsp.rm(dir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = Date.now() - (await fsp.stat(dir).then((st) => st.mtimeMs).catch(() => Date.now()));
      if (age > 10 * 60_000) await fsp.rm(dir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
}
