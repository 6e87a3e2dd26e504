/**
 * A remote store in a folder every worker mounts at the same path (NFS, SMB, a cluster file system). Its layout is
 * the local store's: <root>/<signature>/ holds the files, outputs.json and manifest.json. A publish copies into a
 * temporary sibling (<root>/.loram-tmp-remote-*), fsyncs it, checks every byte against the manifest, and renames it
 * into place: one atomic rename, so readers see nothing or the whole artifact. A rename onto an existing artifact
 * fails (POSIX will not replace a non-empty folder), which is how a second publisher learns it lost the race.
 *
 * The temporary folders of a killed worker cannot be matched to a live process (it may run on another machine),
 * so `sweepStaging` removes them by age: the newest file inside, so an upload in progress is never taken.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fsyncDir, fsyncTree, TEMP_PREFIX } from '../../loram/io/atomic';
import { artifactDir } from '../location';
import { checkAgainstManifest, MANIFEST_FILE } from '../manifest';
import { publishedManifest, type PublishedArtifact, type StoreBackend, type TransferOptions } from './backend';
import { HashingStream } from './hash-stream';
import { assertSameContent, type LocalArtifact } from './local-artifact';

const STAGING_PREFIX = `${TEMP_PREFIX}remote-`;

export async function openFolderBackend(dir: string): Promise<StoreBackend> {
  let isDir = false;
  try {
    isDir = (await fsp.stat(dir)).isDirectory();
  } catch {
    // Not created here: an unmounted share would otherwise silently become a folder on this machine's disk.
    throw new Error(`the artifact store folder ${dir} does not exist (is the shared folder mounted on this machine? create it once by hand)`);
  }
  if (!isDir) throw new Error(`the artifact store ${dir} is not a folder`);
  return new FolderBackend(dir);
}

class FolderBackend implements StoreBackend {
  readonly display: string;
  constructor(private readonly root: string) {
    this.display = root;
  }

  async lookup(sig: string): Promise<PublishedArtifact | null> {
    const dir = artifactDir(this.root, sig);
    let text: string;
    try {
      text = await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw e;
    }
    const manifest = publishedManifest(text, sig, this.display);
    return { manifest, manifestText: text, open: async (rel) => createReadStream(path.join(dir, ...rel.split('/'))) };
  }

  async publish(sig: string, art: LocalArtifact, opts: TransferOptions): Promise<'published' | 'existed'> {
    const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '_');
    const tmp = path.join(this.root, `${STAGING_PREFIX}${sig.slice(0, 16)}-${host}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fsp.mkdir(tmp);
    try {
      await this.copyIn(art, tmp, opts);
      await fsyncTree(tmp);
      // Read back from the share: what a reader will get, not what this process meant to write.
      const problems = await checkAgainstManifest(tmp, art.manifest, 'full');
      if (problems.length) throw new Error(`${this.display}: the copy of artifact ${sig} does not match its manifest: ${problems.join('; ')}`);
      opts.signal?.throwIfAborted();
      return await this.renameIn(sig, tmp);
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Copy every file (hashed on the way), then the manifest, last. */
  private async copyIn(art: LocalArtifact, tmp: string, opts: TransferOptions): Promise<void> {
    for (const [i, f] of art.files.entries()) {
      opts.signal?.throwIfAborted();
      const dest = path.join(tmp, ...f.rel.split('/'));
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      const hasher = new HashingStream();
      await pipeline(createReadStream(f.abs), hasher, createWriteStream(dest, { flags: 'wx' }), { signal: opts.signal });
      assertSameContent(f, hasher.digest());
      await opts.onFile?.(f.rel, i + 1, art.files.length);
    }
    await fsp.writeFile(path.join(tmp, MANIFEST_FILE), art.manifestText, { flag: 'wx' });
  }

  private async renameIn(sig: string, tmp: string): Promise<'published' | 'existed'> {
    const final = artifactDir(this.root, sig);
    try {
      await fsp.rename(tmp, final);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
      if (await this.lookup(sig)) return 'existed';
      throw new Error(`${final} exists but is not a published artifact (it has no ${MANIFEST_FILE}); remove it by hand`);
    }
    await fsyncDir(this.root);
    return 'published';
  }

  async sweepStaging(olderThanMs: number): Promise<number> {
    let removed = 0;
    for (const name of await fsp.readdir(this.root)) {
      if (!name.startsWith(STAGING_PREFIX)) continue;
      const p = path.join(this.root, name);
      const newest = await newestMtime(p);
      if (newest === null || Date.now() - newest < olderThanMs) continue;
      await fsp.rm(p, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {}
}

/** The newest modification time of anything under `p` (null: gone meanwhile, e.g. published). */
async function newestMtime(p: string): Promise<number | null> {
  let st;
  try {
    st = await fsp.lstat(p);
  } catch {
    return null;
  }
  let newest = st.mtimeMs;
  if (st.isDirectory()) {
    for (const name of await fsp.readdir(p).catch(() => [])) newest = Math.max(newest, (await newestMtime(path.join(p, name))) ?? 0);
  }
  return newest;
}
