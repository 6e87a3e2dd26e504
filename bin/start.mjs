#!/usr/bin/env node
/**
 * `npm start`: open LoRAM Studio on the quickstart recipe.
 *
 * Electron when its binary is installed (and there is a display); otherwise the web shell (`loram serve`) with the
 * reason said plainly. Electron's binary is looked for WITHOUT loading the `electron` package: its index.js
 * downloads the binary on first use, which fails (slowly) offline.
 *
 *   npm start [-- [--web] [--port N] [--no-browser] [RECIPE]]
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTree, superviseTree } from './process-tree.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const o = { web: false, port: null, browser: true, recipe: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--web') o.web = true;
    else if (a === '--no-browser') o.browser = false;
    else if (a === '--port') o.port = argv[++i];
    else if (a.startsWith('--port=')) o.port = a.slice(7);
    else if (a === '--help' || a === '-h') o.help = true;
    else if (!a.startsWith('-')) o.recipe = a;
    else {
      console.error(`npm start: unknown option ${a}`);
      process.exit(2);
    }
  }
  return o;
}

/** Where Electron's binary is, or why it is not usable. Reads path.txt and dist/ only; never runs electron's index.js. */
export function findElectron(dir = path.join(root, 'node_modules', 'electron')) {
  if (!fs.existsSync(path.join(dir, 'package.json'))) return { ok: false, reason: 'the electron package is not installed (run npm ci)' };
  const pathTxt = path.join(dir, 'path.txt');
  if (!fs.existsSync(pathTxt)) return { ok: false, reason: "Electron's binary has not been downloaded (node_modules/electron/path.txt is missing)" };
  const rel = fs.readFileSync(pathTxt, 'utf8').trim();
  const bin = path.join(dir, 'dist', rel);
  if (!rel || !fs.existsSync(bin)) return { ok: false, reason: `Electron's binary is missing (${path.relative(root, bin) || bin} does not exist)` };
  return { ok: true, bin };
}

function hasDisplay() {
  if (process.platform !== 'linux') return true;
  return !!(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

function newer(a, b) {
  try {
    return fs.statSync(a).mtimeMs > fs.statSync(b).mtimeMs;
  } catch {
    return true;
  }
}

function newestIn(dir) {
  let t = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestIn(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

function desktopBuildIsStale() {
  const outs = ['out/main/index.js', 'out/main/engine-process.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((p) => path.join(root, p));
  if (outs.some((p) => !fs.existsSync(p))) return true;
  const built = Math.min(...outs.map((p) => fs.statSync(p).mtimeMs));
  const src = Math.max(...['src/main', 'src/preload', 'src/renderer', 'src/shared', 'src/server'].map((d) => newestIn(path.join(root, d))));
  return src > built || newer(path.join(root, 'electron.vite.config.ts'), path.join(root, 'out/main/index.js'));
}

function openBrowser(url) {
  if (!hasDisplay()) return false;
  const cmd = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const p = spawn(cmd[0], cmd[1], { stdio: 'ignore', detached: true });
    p.on('error', () => undefined);
    p.unref();
    return true;
  } catch {
    return false;
  }
}

function startElectron(bin, recipe) {
  if (desktopBuildIsStale()) {
    console.log('Building LoRAM Studio (electron-vite build)…');
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error('The build failed; see above.');
      process.exit(r.status ?? 1);
    }
  }
  superviseTree(spawnTree(bin, [root, '--open', recipe], { cwd: root, stdio: 'inherit' }));
}

function startWeb(opts, recipe) {
  const args = ['--import', 'tsx', path.join(root, 'src/server/main.ts'), '--open', recipe];
  if (opts.port) args.push('--port', String(opts.port));
  const child = spawnTree(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let opened = !opts.browser;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(chunk);
    if (m && !opened) {
      opened = true;
      if (openBrowser(m[0])) console.log('(opening it in your browser)');
    }
  });
  superviseTree(child);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    console.log('npm start [-- [--web] [--port N] [--no-browser] [RECIPE]]\n\nOpens LoRAM Studio (Electron, or the web editor when Electron cannot run) on RECIPE (default graphs/quickstart.json).');
    process.exit(0);
  }
  const recipe = path.resolve(opts.recipe ?? path.join(root, 'graphs', 'quickstart.json'));
  if (!fs.existsSync(recipe)) console.warn(`Note: ${recipe} does not exist; the editor starts with an empty recipe.`);
  const electron = opts.web ? { ok: false, reason: 'the web shell was asked for (--web)' } : findElectron();
  if (electron.ok && hasDisplay()) {
    startElectron(electron.bin, recipe);
  } else {
    if (!electron.ok && !opts.web) {
      console.log(`The desktop app cannot start: ${electron.reason}.`);
      // npm never runs Electron's installer (package.json "allowScripts" denies it, so offline installs work).
      console.log('To get Electron (downloads its binary, needs network access):  node node_modules/electron/install.js');
      console.log('Starting the web editor instead (the same editor, in your browser).\n');
    } else if (electron.ok) {
      console.log('No display found (DISPLAY / WAYLAND_DISPLAY unset): starting the web editor instead.\n');
    }
    startWeb(opts, recipe);
  }
}
