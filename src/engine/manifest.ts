/**
 * An artifact's manifest (manifest.json at the root of its directory): the size and SHA-256 of every file the
 * node and the store wrote (outputs.json included). It is written last, inside the temporary directory the store
 * publishes with one rename, so an artifact with a manifest is complete by construction and one without is
 * either a leftover of an older LoRAM (see ArtifactStore.check: "legacy") or damaged.
 *
 * Two checks: `sizes` (a stat per file, cheap enough for every cache hit: it catches truncated, missing and
 * replaced files) and `full` (every byte hashed again: it also catches a flipped bit; run when a node reads the
 * artifact as an input and by `loram cache verify`).
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { TEMP_PREFIX } from '../loram/io/atomic';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'loram-artifact-manifest';

export interface ManifestEntry {
  size: number;
  sha256: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  signature: string;
  createdAt: number;
  /** Total bytes of the files below. */
  bytes: number;
  /** By path relative to the artifact directory, '/'-separated, sorted. */
  files: Record<string, ManifestEntry>;
}

export type CheckMode = 'sizes' | 'full';

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Relative paths of the regular files under `dir` (the manifest itself and our temp files skipped), sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith(TEMP_PREFIX)) continue;
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p).split(path.sep).join('/');
      if (rel === MANIFEST_FILE) continue;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() || e.isSymbolicLink()) out.push(rel);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Hash every file of `dir` into a manifest. */
export async function buildManifest(dir: string, signature: string): Promise<Manifest> {
  const files: Record<string, ManifestEntry> = {};
  let bytes = 0;
  for (const rel of await listFiles(dir)) {
    const p = path.join(dir, ...rel.split('/'));
    const st = await fsp.stat(p);
    files[rel] = { size: st.size, sha256: await sha256File(p) };
    bytes += st.size;
  }
  return { format: MANIFEST_FORMAT, version: 1, signature, createdAt: Date.now(), bytes, files };
}

export function parseManifest(text: string, signature: string): Manifest {
  const m = JSON.parse(text) as Manifest;
  if (m?.format !== MANIFEST_FORMAT || typeof m.files !== 'object' || m.files === null) throw new Error('not an artifact manifest');
  if (m.signature !== signature) throw new Error(`the manifest is for artifact ${String(m.signature).slice(0, 12)}, not this one`);
  for (const [rel, e] of Object.entries(m.files)) {
    if (rel.split('/').some((s) => s === '..' || s === '') || path.isAbsolute(rel)) throw new Error(`the manifest lists a path outside the artifact: ${rel}`);
    if (typeof e?.size !== 'number' || typeof e.sha256 !== 'string') throw new Error(`the manifest entry for ${rel} is malformed`);
  }
  return m;
}

/** What is wrong with `dir` against its manifest: one line per problem (empty: intact). */
export async function checkAgainstManifest(dir: string, m: Manifest, mode: CheckMode): Promise<string[]> {
  const problems: string[] = [];
  for (const [rel, e] of Object.entries(m.files)) {
    const p = path.join(dir, ...rel.split('/'));
    let size: number;
    try {
      const st = await fsp.stat(p);
      if (!st.isFile()) {
        problems.push(`${rel} is not a file`);
        continue;
      }
      size = st.size;
    } catch {
      problems.push(`${rel} is missing`);
      continue;
    }
    if (size !== e.size) {
      problems.push(`${rel} is ${size} bytes, the manifest says ${e.size}`);
      continue;
    }
    if (mode === 'full') {
      const h = await sha256File(p).catch((err: Error) => `unreadable (${err.message})`);
      if (h !== e.sha256) problems.push(`${rel} has the right size but not the content it was published with (SHA-256 ${h.slice(0, 12)}…, the manifest says ${e.sha256.slice(0, 12)}…)`);
    }
  }
  return problems;
}
