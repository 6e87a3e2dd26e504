/**
 * Content hashes of the files nodes read (models, datasets), for cache signatures and model identity. A hash is
 * remembered per (path, size, mtime, inode) so a multi-GB model is read once, not on every run.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { canonicalJson } from '../shared';
import type { ContentHash } from '../shared/ids';

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

export function hashJson(value: unknown): string {
  return sha256(canonicalJson(value));
}

async function hashStream(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** File-content hasher with a stat-keyed memo, optionally persisted as JSON. */
export class FileHasher {
  private memo = new Map<string, ContentHash>();
  private dirty = false;
  constructor(private readonly memoFile?: string) {}

  async load(): Promise<void> {
    if (!this.memoFile) return;
    try {
      const obj = JSON.parse(await fsp.readFile(this.memoFile, 'utf8')) as Record<string, ContentHash>;
      for (const [k, v] of Object.entries(obj)) this.memo.set(k, v);
    } catch {
      // no memo yet, or unreadable: start empty
    }
  }

  async save(): Promise<void> {
    if (!this.memoFile || !this.dirty) return;
    const { atomicWriteFile } = await import('../loram/io/atomic');
    await fsp.mkdir(path.dirname(this.memoFile), { recursive: true });
    // Keep the memo bounded.
    const entries = [...this.memo.entries()].slice(-20000);
    await atomicWriteFile(this.memoFile, JSON.stringify(Object.fromEntries(entries)));
    this.dirty = false;
  }

  async hashFile(file: string): Promise<ContentHash> {
    const st = await fsp.stat(file);
    const key = `${path.resolve(file)}|${st.size}|${st.mtimeMs}|${st.ino}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const h = (await hashStream(file)) as ContentHash;
    this.memo.set(key, h);
    this.dirty = true;
    return h;
  }

  /** Hash of a directory: its files' relative paths and content hashes (dot-files and temp files skipped). */
  async hashDir(dir: string): Promise<ContentHash> {
    const entries: [string, string][] = [];
    const walk = async (d: string): Promise<void> => {
      const list = await fsp.readdir(d, { withFileTypes: true });
      list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of list) {
        if (e.name.startsWith('.')) continue;
        const p = path.join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() || e.isSymbolicLink()) entries.push([path.relative(dir, p).split(path.sep).join('/'), await this.hashFile(p)]);
      }
    };
    await walk(dir);
    return hashJson(entries) as ContentHash;
  }

  async hash(p: string, kind: 'file' | 'dir'): Promise<ContentHash> {
    return kind === 'dir' ? this.hashDir(p) : this.hashFile(p);
  }
}
