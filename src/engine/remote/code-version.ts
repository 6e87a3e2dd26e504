/**
 * The code version a submitter and a worker compare before a job runs: a content hash of every source file that
 * decides a node's result (the engine, the nodes, the LoRAM library, the shared types) and of package-lock.json
 * (the ONNX Runtime and tfjs builds). Two machines with the same version compute the same bytes for the same
 * signature; a worker whose version differs refuses the job rather than publishing a result the submitter's own
 * code would not have produced.
 *
 * Content, not mtimes or a git commit: a worker may run from an unpacked tarball, and a checkout touched by a
 * `git checkout` has new mtimes but the same code.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root: this module is src/engine/remote/code-version.ts, or lib/engine/remote/code-version.js. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HASHED_DIRS = ['engine', 'nodes', 'loram', 'shared'];

let cached: string | undefined;

/** 16 hex digits; the same on every machine with the same sources and lock file. */
export function codeVersion(root = ROOT): string {
  if (root === ROOT && cached) return cached;
  const h = createHash('sha256');
  const add = (rel: string) => {
    h.update(`${rel}\0`);
    h.update(fs.readFileSync(path.join(root, rel)));
    h.update('\0');
  };
  for (const dir of HASHED_DIRS) for (const rel of filesUnder(root, path.join('src', dir))) add(rel);
  if (fs.existsSync(path.join(root, 'package-lock.json'))) add('package-lock.json');
  const v = h.digest('hex').slice(0, 16);
  if (root === ROOT) cached = v;
  return v;
}

/** Relative '/'-separated paths of the files under `rel`, sorted (the same order on every platform). */
function filesUnder(root: string, rel: string): string[] {
  const out: string[] = [];
  const walk = (r: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, r), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = `${r}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (e.isFile()) out.push(child.split(path.sep).join('/'));
    }
  };
  walk(rel);
  return out.sort();
}
