/**
 * The artifact store under LORAM_HOME/artifacts: one directory per node signature, holding the files the node
 * wrote, `outputs.json` (its port values, metrics and provenance) and, written last, `manifest.json` (every
 * file's size and SHA-256, src/engine/manifest.ts). A directory appears only complete: the node writes into a
 * temporary sibling that is renamed into place when it succeeds and deleted when it fails or is cancelled
 * (src/loram/io/atomic.ts). Leftovers of a killed process are removed when the store opens.
 *
 * A damaged artifact (a file truncated, missing or changed since it was published) is never deleted silently:
 * `quarantine` moves it to LORAM_HOME/damaged/<signature>-<time>/ with a DAMAGE.txt saying what was wrong.
 *
 * Artifacts published before manifests existed ("legacy": outputs.json, no manifest) were complete when
 * published (the atomic rename predates manifests) but nothing recorded their content. They are kept and, the
 * first time a run uses them or `loram cache verify` sees them, manifested from their current content
 * (`adoptLegacy`): recomputing them could cost hours of training, and from then on any later damage is caught.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteDir, atomicWriteFile, TEMP_PREFIX } from '../loram/io/atomic';
import type { ArtifactContent, Location, NodeMetrics, NodeOutputs } from '../shared';
import { artifactDir, resolveLocation } from './location';
import { buildManifest, checkAgainstManifest, listFiles, MANIFEST_FILE, parseManifest, type CheckMode, type Manifest } from './manifest';
import { processAlive } from './process-alive';

export const OUTPUTS_FILE = 'outputs.json';
export const DAMAGED_DIR = 'damaged';
export const DAMAGE_NOTE = 'DAMAGE.txt';

/** What `check` found. */
export type ArtifactCheck =
  | { state: 'missing' }
  | { state: 'ok'; rec: ArtifactRecord; manifest: Manifest }
  | { state: 'legacy'; rec: ArtifactRecord }
  | { state: 'damaged'; problems: string[] };

/** The store's own writes (outputs.json, the manifest): a seam for tests that simulate a full disk. */
export interface StoreWriter {
  writeFile(file: string, data: string): Promise<void>;
}

export interface ArtifactRecord {
  signature: string;
  outputs: NodeOutputs;
  metrics: NodeMetrics;
  meta: { type: string; version: number; params: unknown; node: string; runId: string; createdAt: number; durationMs: number };
}

export class ArtifactStore {
  readonly dir: string;
  readonly damagedDir: string;
  /** Replaceable by tests (a full disk); the node's own files are written by the node. */
  writer: StoreWriter = { writeFile: (f, d) => fsp.writeFile(f, d) };
  constructor(home: string) {
    this.dir = path.join(home, 'artifacts');
    this.damagedDir = path.join(home, DAMAGED_DIR);
  }

  /** Create the folder and remove temporary directories left by processes that no longer run. */
  async open(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    for (const name of await fsp.readdir(this.dir)) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const m = /-(\d+)-[0-9a-f]+$/.exec(name);
      const pid = m ? Number(m[1]) : NaN;
      if (!Number.isFinite(pid) || !processAlive(pid)) await fsp.rm(path.join(this.dir, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }

  pathOf(signature: string): string {
    return artifactDir(this.dir, signature);
  }

  /** Whether a usable artifact is there (sizes checked). */
  async has(signature: string): Promise<boolean> {
    const c = await this.check(signature, 'sizes');
    return c.state === 'ok' || c.state === 'legacy';
  }

  /** Signatures of the artifacts in the store. */
  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => /^[0-9a-f]{16,128}$/.test(n)).sort();
  }

  /**
   * Check artifact `signature` against its manifest: file sizes (`sizes`, a stat per file) or every byte
   * (`full`). `legacy`: published before manifests (outputs.json readable, nothing to check against).
   */
  async check(signature: string, mode: CheckMode): Promise<ArtifactCheck> {
    const dir = this.pathOf(signature);
    let manifestText: string | null = null;
    try {
      manifestText = await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { state: 'damaged', problems: [`${MANIFEST_FILE} is unreadable: ${(e as Error).message}`] };
      try {
        await fsp.lstat(dir);
      } catch {
        return { state: 'missing' };
      }
    }
    if (manifestText === null) {
      const rec = await this.read(signature);
      return rec ? { state: 'legacy', rec } : { state: 'damaged', problems: [`neither ${MANIFEST_FILE} nor a readable ${OUTPUTS_FILE}`] };
    }
    let manifest: Manifest;
    try {
      manifest = parseManifest(manifestText, signature);
    } catch (e) {
      return { state: 'damaged', problems: [`${MANIFEST_FILE}: ${(e as Error).message}`] };
    }
    const problems = await checkAgainstManifest(dir, manifest, mode);
    if (!manifest.files[OUTPUTS_FILE]) problems.push(`the manifest does not list ${OUTPUTS_FILE}`);
    if (problems.length) return { state: 'damaged', problems };
    const rec = await this.read(signature);
    if (!rec) return { state: 'damaged', problems: [`${OUTPUTS_FILE} is not valid JSON`] };
    return { state: 'ok', rec, manifest };
  }

  /** The manifest of an artifact, or null (none, or unreadable). */
  async manifest(signature: string): Promise<Manifest | null> {
    try {
      return parseManifest(await fsp.readFile(path.join(this.pathOf(signature), MANIFEST_FILE), 'utf8'), signature);
    } catch {
      return null;
    }
  }

  /** Write the manifest of a legacy artifact from its current content (see the module comment). */
  async adoptLegacy(signature: string): Promise<Manifest> {
    const dir = this.pathOf(signature);
    const m = await buildManifest(dir, signature);
    await atomicWriteFile(path.join(dir, MANIFEST_FILE), JSON.stringify(m, null, 2) + '\n');
    return m;
  }

  /**
   * Move a damaged artifact out of the store, to LORAM_HOME/damaged/<signature>-<time>/, with DAMAGE.txt saying
   * what was wrong. Returns where it went (null when it was already gone).
   */
  async quarantine(signature: string, problems: string[], context = ''): Promise<string | null> {
    const src = this.pathOf(signature);
    await fsp.mkdir(this.damagedDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const dest = path.join(this.damagedDir, `${signature}-${stamp}-${randomBytes(2).toString('hex')}`);
    try {
      await fsp.rename(src, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const note = [
      `artifact ${signature} was moved here from ${src} on ${new Date().toISOString()}${context ? ` (${context})` : ''} because:`,
      ...problems.map((p) => `  - ${p}`),
      '',
      'It is kept for inspection only: LoRAM never reads it again. Delete this folder when done.',
      '',
    ].join('\n');
    await fsp.writeFile(path.join(dest, DAMAGE_NOTE), note).catch(() => undefined);
    return dest;
  }

  /** Delete an artifact (gc): renamed to a temp name first, so it disappears at once and never half-deleted. */
  async remove(signature: string): Promise<void> {
    const src = this.pathOf(signature);
    const tmp = path.join(this.dir, `${TEMP_PREFIX}gc-${signature.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await fsp.rename(src, tmp);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await fsp.rm(tmp, { recursive: true, force: true });
  }

  /** Bytes an artifact takes: its manifest's total, else what is on disk. */
  async sizeOf(signature: string): Promise<number> {
    const m = await this.manifest(signature);
    if (m) return m.bytes + Buffer.byteLength(JSON.stringify(m, null, 2) + '\n');
    return duBytes(this.pathOf(signature));
  }

  async read(signature: string): Promise<ArtifactRecord | null> {
    try {
      return JSON.parse(await fsp.readFile(path.join(this.pathOf(signature), OUTPUTS_FILE), 'utf8')) as ArtifactRecord;
    } catch {
      return null;
    }
  }

  /**
   * Produce artifact `signature`: `fill(tmpDir)` writes the files and returns the record, which is saved as
   * outputs.json; then the manifest of every file, last; then the directory is published atomically (replacing
   * an older one). If anything throws (the node, or a full disk), nothing is left behind.
   */
  async produce(signature: string, fill: (tmpDir: string) => Promise<Omit<ArtifactRecord, 'signature'>>): Promise<ArtifactRecord> {
    return atomicWriteDir(this.pathOf(signature), async (tmp) => {
      const rec: ArtifactRecord = { signature, ...(await fill(tmp)) };
      await this.writer.writeFile(path.join(tmp, OUTPUTS_FILE), JSON.stringify(rec, null, 2) + '\n');
      const manifest = await buildManifest(tmp, signature);
      await this.writer.writeFile(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
      return rec;
    });
  }

  /**
   * Publish an artifact made elsewhere (a download from a remote store, src/engine/remote/): `fill(tmpDir)` writes
   * every file, outputs.json and manifest.json. Before the rename every byte is checked against that manifest and
   * the directory may hold nothing else (no unlisted file, no symbolic link), so an imported artifact is exactly
   * what its manifest says, like one `produce` made. If anything fails, nothing is left behind.
   */
  async importVerified(signature: string, fill: (tmpDir: string) => Promise<void>): Promise<ArtifactRecord> {
    return atomicWriteDir(this.pathOf(signature), async (tmp) => {
      await fill(tmp);
      return verifyImport(tmp, signature);
    });
  }

  /** Absolute path of a location. Store paths may not escape their artifact. */
  resolve(loc: Location): string {
    return resolveLocation(this.dir, loc);
  }

  /** Read a small text or JSON file of an artifact. */
  async readFile(loc: Location, maxBytes = 32 * 1024 * 1024): Promise<ArtifactContent> {
    const p = this.resolve(loc);
    const st = await fsp.stat(p);
    if (!st.isFile()) throw new Error(`${p} is not a file`);
    if (st.size > maxBytes) throw new Error(`${p} is ${st.size} bytes; readArtifact reads files up to ${maxBytes} bytes`);
    const text = await fsp.readFile(p, 'utf8');
    if (p.endsWith('.json')) return { kind: 'json', value: JSON.parse(text) };
    return { kind: 'text', value: text };
  }
}

/** importVerified's check of a filled directory: the record, or one error naming every problem. */
async function verifyImport(dir: string, signature: string): Promise<ArtifactRecord> {
  const fail = (problems: string[]) => new Error(`cannot import artifact ${signature}: ${problems.join('; ')}`);
  let manifest: Manifest;
  try {
    manifest = parseManifest(await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8'), signature);
  } catch (e) {
    throw fail([`${MANIFEST_FILE}: ${(e as Error).message}`]);
  }
  const problems: string[] = [];
  if (!manifest.files[OUTPUTS_FILE]) problems.push(`the manifest does not list ${OUTPUTS_FILE}`);
  const total = Object.values(manifest.files).reduce((sum, e) => sum + e.size, 0);
  if (total !== manifest.bytes) problems.push(`the manifest says ${manifest.bytes} bytes in all, its files add up to ${total}`);
  for (const rel of await listFiles(dir)) {
    if (!Object.hasOwn(manifest.files, rel)) problems.push(`${rel} is not in the manifest`);
    else if ((await fsp.lstat(path.join(dir, ...rel.split('/')))).isSymbolicLink()) problems.push(`${rel} is a symbolic link`);
  }
  problems.push(...(await checkAgainstManifest(dir, manifest, 'full')));
  if (problems.length) throw fail(problems);
  let rec: ArtifactRecord;
  try {
    rec = JSON.parse(await fsp.readFile(path.join(dir, OUTPUTS_FILE), 'utf8')) as ArtifactRecord;
  } catch (e) {
    throw fail([`${OUTPUTS_FILE} is not valid JSON (${(e as Error).message})`]);
  }
  if (rec?.signature !== signature) throw fail([`${OUTPUTS_FILE} is the record of artifact ${String(rec?.signature)}`]);
  return rec;
}

/** Bytes of the regular files under `dir` (0 when it is gone). */
export async function duBytes(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let list;
    try {
      list = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of list) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) total += (await fsp.stat(p).catch(() => ({ size: 0 }))).size;
    }
  };
  await walk(dir);
  return total;
}
