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

/** Build the renderer with Vite (the same settings as `electron-vite build`). */
export async function buildRenderer(root = REPO_ROOT, log: (s: string) => void = () => undefined): Promise<void> {
  const vite = await import('vite');
  const cfg = rendererViteConfig(root);
  await vite.build({ ...cfg, configFile: false, logLevel: 'warn', mode: 'production' });
  log(`built the editor into ${path.relative(process.cwd(), cfg.build.outDir) || cfg.build.outDir}`);
}

export async function ensureRendererBuilt(opts: { root?: string; force?: boolean; log?: (s: string) => void } = {}): Promise<string> {
  const root = opts.root ?? REPO_ROOT;
  const reason = opts.force ? 'a rebuild was asked for' : await rendererBuildReason(root);
  if (reason) {
    opts.log?.(`Building the editor (${reason})…`);
    await buildRenderer(root, opts.log);
  }
  return path.join(root, 'out/renderer');
}
