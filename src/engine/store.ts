/**
 * The artifact store under LORAM_HOME/artifacts: one directory per node signature, holding the files the node
 * wrote and `outputs.json` (its port values, metrics and provenance). A directory appears only complete: the
 * node writes into a temporary sibling that is renamed into place when it succeeds and deleted when it fails or
 * is cancelled (src/loram/io/atomic.ts). Leftovers of a killed process are removed when the store opens.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteDir, TEMP_PREFIX } from '../loram/io/atomic';
import type { ArtifactContent, Location, NodeMetrics, NodeOutputs } from '../shared';
import { artifactDir, resolveLocation } from './location';
import { processAlive } from './process-alive';

export const OUTPUTS_FILE = 'outputs.json';

export interface ArtifactRecord {
  signature: string;
  outputs: NodeOutputs;
  metrics: NodeMetrics;
  meta: { type: string; version: number; params: unknown; node: string; runId: string; createdAt: number; durationMs: number };
}

export class ArtifactStore {
  readonly dir: string;
  constructor(home: string) {
    this.dir = path.join(home, 'artifacts');
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

  async has(signature: string): Promise<boolean> {
    try {
      await fsp.access(path.join(this.pathOf(signature), OUTPUTS_FILE));
      return true;
    } catch {
      return false;
    }
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
   * outputs.json; then the directory is published atomically (replacing an older one). If `fill` throws,
   * nothing is left behind.
   */
  async produce(signature: string, fill: (tmpDir: string) => Promise<Omit<ArtifactRecord, 'signature'>>): Promise<ArtifactRecord> {
    return atomicWriteDir(this.pathOf(signature), async (tmp) => {
      const rec: ArtifactRecord = { signature, ...(await fill(tmp)) };
      await fsp.writeFile(path.join(tmp, OUTPUTS_FILE), JSON.stringify(rec, null, 2) + '\n');
      return rec;
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

