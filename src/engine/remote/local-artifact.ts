/**
 * A local artifact directory about to be published: its manifest, and every file it lists, checked to be there
 * with the manifested size before anything is uploaded. A file's bytes are compared with the manifest's SHA-256
 * as they stream out (assertSameContent), so a file changed since it was manifested is never published.
 *
 * Symbolic links: the manifest records a link by its target's size and hash (buildManifest follows links), so the
 * target's bytes are what is published, and the copy that is downloaded holds a regular file. A link to a folder
 * or to nothing cannot be published (nor manifested in the first place): it is refused by name.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { listFiles, MANIFEST_FILE, parseManifest, type Manifest, type ManifestEntry } from '../manifest';
import { OUTPUTS_FILE } from '../store';
import { describeDigest, type Digest } from './hash-stream';

export interface LocalFile extends ManifestEntry {
  rel: string;
  abs: string;
}

export interface LocalArtifact {
  dir: string;
  manifest: Manifest;
  manifestText: string;
  files: LocalFile[];
}

export async function readLocalArtifact(sig: string, dir: string): Promise<LocalArtifact> {
  const fail = (problems: string[]) => new Error(`cannot publish ${dir} as artifact ${sig}: ${problems.join('; ')}`);
  let manifestText: string;
  let manifest: Manifest;
  try {
    manifestText = await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8');
    manifest = parseManifest(manifestText, sig);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw fail([missing ? `it has no ${MANIFEST_FILE} (only a complete artifact of the local store can be published)` : `${MANIFEST_FILE}: ${(e as Error).message}`]);
  }
  const problems: string[] = [];
  if (!Object.hasOwn(manifest.files, OUTPUTS_FILE)) problems.push(`the manifest does not list ${OUTPUTS_FILE}`);
  for (const rel of await listFiles(dir)) if (!Object.hasOwn(manifest.files, rel)) problems.push(`${rel} is not in the manifest`);
  const files: LocalFile[] = [];
  for (const [rel, entry] of Object.entries(manifest.files)) {
    const abs = path.join(dir, ...rel.split('/'));
    const problem = await fileProblem(rel, abs, entry);
    if (problem) problems.push(problem);
    else files.push({ rel, abs, ...entry });
  }
  if (problems.length) throw fail(problems);
  return { dir, manifest, manifestText, files };
}

/** Why `abs` cannot be published as the manifest's `rel` (null: it can). */
async function fileProblem(rel: string, abs: string, entry: ManifestEntry): Promise<string | null> {
  let link: string | null = null;
  try {
    if ((await fsp.lstat(abs)).isSymbolicLink()) link = await fsp.readlink(abs);
  } catch {
    return `${rel} is missing`;
  }
  const what = link === null ? rel : `${rel} (a symbolic link to ${link})`;
  let st;
  try {
    st = await fsp.stat(abs);
  } catch {
    return `${what}: the link's target is missing`;
  }
  if (!st.isFile()) return `${what} is not a regular file (an artifact holds files only)`;
  if (st.size !== entry.size) return `${what} is ${st.size} bytes, the manifest says ${entry.size}`;
  return null;
}

/** Throw when bytes read from a local file are not the ones its manifest lists (changed since manifested). */
export function assertSameContent(f: LocalFile, got: Digest | null): void {
  if (!got) throw new Error(`${f.abs}: read ended early`);
  if (got.sha256 === f.sha256 && got.bytes === f.size) return;
  throw new Error(`${f.abs} changed since its artifact's manifest was written: ${describeDigest(got)}, the manifest says ${describeDigest({ sha256: f.sha256, bytes: f.size })}; not published`);
}
