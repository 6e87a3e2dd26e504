#!/usr/bin/env node
/**
 * Compiles the TypeScript the `loram` command runs (src/cli/main.ts, the compute worker and the node registry, and
 * every module they reach) to plain JavaScript in lib/, one .js file per .ts file, so `loram` starts without
 * transpiling anything. Run by `npm install` (the `prepare` script) and, when the sources changed since, by
 * bin/loram.mjs before it starts: lib/ is never stale.
 *
 * Why one file per module rather than one bundle: several modules find their neighbours through import.meta.url
 * (the built-in models at ../../models, kernels/bmm.wasm, ../nodes/index, the worker); lib/ mirrors src/ at the
 * same depth below the checkout, so those relative paths hold unchanged.
 *
 * Why a fingerprint of every path, mtime and size under src/ (and not "newest mtime"): a deleted or renamed file,
 * or a checkout that restores older mtimes, changes the list too.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
export const LIB = path.join(ROOT, 'lib');
const STAMP = 'fingerprint.txt';
/** The entry points; everything they import (statically or by a literal dynamic import) is compiled too. */
const ENTRIES = ['cli/main.ts', 'engine/worker.ts', 'nodes/index.ts', 'engine/index.ts', 'loram/memory/probe-child.ts'];
/** Files the compiled code reads next to itself (by import.meta.url) rather than imports. */
const ASSETS = /\.(wasm|mjs|cjs|json)$/;

/** A digest of every file and folder under src/ (path, mtime, size), and of this script. */
export function sourceFingerprint() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      const st = fs.statSync(p);
      h.update(`${path.relative(SRC, p)}:${st.mtimeMs}:${e.isDirectory() ? 'd' : st.size}\n`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(SRC);
  const self = fs.statSync(fileURLToPath(import.meta.url));
  h.update(`build-cli:${self.mtimeMs}:${self.size}`);
  return h.digest('hex');
}

export function isCompiledFresh(fingerprint = sourceFingerprint()) {
  try {
    return fs.readFileSync(path.join(LIB, STAMP), 'utf8') === fingerprint;
  } catch {
    return false;
  }
}

/** `./x` → `./x.js` or `./x/index.js`, whichever exists as TypeScript next to the importer. */
function rewriteRelative(spec, importer) {
  if (/\.(m?js|cjs|json|wasm)$/.test(spec)) return spec;
  const base = path.resolve(path.dirname(importer), spec);
  if (fs.existsSync(`${base}.ts`)) return `${spec}.js`;
  if (fs.existsSync(`${base}.tsx`)) return `${spec}.js`;
  if (fs.existsSync(path.join(base, 'index.ts'))) return `${spec}/index.js`;
  throw new Error(`${path.relative(ROOT, importer)}: cannot resolve "${spec}"`);
}

/** The source files the entries reach, by following relative imports (one esbuild pass per import depth). */
async function reachable(esbuild) {
  const seen = new Set(ENTRIES.map((e) => path.join(SRC, e)));
  let frontier = [...seen];
  while (frontier.length) {
    const found = [];
    await esbuild.build({
      entryPoints: frontier,
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      outdir: '/nonexistent',
      plugins: [
        {
          name: 'collect',
          setup(b) {
            b.onResolve({ filter: /^\.\.?(\/|$)/ }, (a) => {
              const spec = rewriteRelative(a.path, a.importer);
              const src = path.resolve(path.dirname(a.importer), spec.replace(/\.js$/, ''));
              for (const cand of [`${src}.ts`, `${src}.tsx`]) if (fs.existsSync(cand) && !seen.has(cand)) (seen.add(cand), found.push(cand));
              return { path: spec, external: true };
            });
            b.onResolve({ filter: /^[^./]/ }, (a) => ({ path: a.path, external: true }));
          },
        },
      ],
    });
    frontier = found;
  }
  return [...seen];
}

/**
 * Compile unless lib/ is already fresh. Several `loram` processes may start at once (tests do): one compiles under
 * a lock file while the others wait for it, then find lib/ fresh.
 */
export async function ensureCompiled() {
  if (isCompiledFresh()) return;
  const lock = `${LIB}.lock`;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx'));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      // A lock left by a killed process is stale after a minute (a compile takes about a second).
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 60_000) fs.rmSync(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    if (!isCompiledFresh()) await compileCli();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Compile into a temporary folder, then swap it in, so lib/ is never half written. */
export async function compileCli({ quiet = false } = {}) {
  const t0 = Date.now();
  const fingerprint = sourceFingerprint();
  const esbuild = await import('esbuild');
  const files = await reachable(esbuild);
  const tmp = `${LIB}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: files,
    outbase: SRC,
    outdir: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
    jsx: 'automatic',
    plugins: [
      {
        name: 'one-file-per-module',
        setup(b) {
          b.onResolve({ filter: /^\.\.?(\/|$)/ }, (a) => ({ path: rewriteRelative(a.path, a.importer), external: true }));
          b.onResolve({ filter: /^[^./]/ }, (a) => ({ path: a.path, external: true }));
        },
      },
    ],
  });
  copyAssets(SRC, tmp);
  fs.writeFileSync(path.join(tmp, STAMP), fingerprint);
  const old = `${LIB}.old-${process.pid}`;
  if (fs.existsSync(LIB)) fs.renameSync(LIB, old);
  fs.renameSync(tmp, LIB);
  fs.rmSync(old, { recursive: true, force: true });
  if (!quiet) process.stderr.write(`loram: compiled ${files.length} modules to lib/ in ${Date.now() - t0} ms\n`);
}

function copyAssets(from, to) {
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    if (e.isDirectory()) copyAssets(src, path.join(to, e.name));
    else if (ASSETS.test(e.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, path.join(to, e.name));
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await ensureCompiled();
