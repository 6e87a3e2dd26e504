/**
 * Crash-safe writes. A reader (or the next run after a crash) sees either the old content or the new
 * content, never a half-written file or directory: everything is written under a temporary name in the
 * same directory (so the final rename stays on one filesystem and is atomic), flushed to disk, then renamed.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Prefix of every temporary sibling we create; lets tests and cleanup tools recognise our leftovers. */
export const TEMP_PREFIX = '.loram-tmp-';

function tempSibling(finalPath: string, kind: string): string {
  const dir = path.dirname(finalPath);
  const base = path.basename(finalPath);
  // pid + random: two processes (or two saves in one process) never pick the same temp name.
  return path.join(dir, `${TEMP_PREFIX}${kind}-${base}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** fsync a directory so a rename inside it is durable. Not possible on Windows (EPERM/EISDIR): best effort. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Directory fsync is unsupported on some platforms/filesystems; the rename itself is still atomic.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Write `data` to a file handle completely (fs writes may be partial, and one call is capped near 2 GB). */
export async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  const CHUNK = 64 * 1024 * 1024;
  let off = 0;
  while (off < data.byteLength) {
    const len = Math.min(CHUNK, data.byteLength - off);
    const { bytesWritten } = await fh.write(data, off, len);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    off += bytesWritten;
  }
}

/**
 * Create `finalPath` by streaming into a temp file through `write`, then fsync + rename over the target.
 * If `write` throws, the temp file is removed and `finalPath` is untouched.
 */
export async function atomicWriteFileWith(finalPath: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
  const tmp = tempSibling(finalPath, 'file');
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx');
    await write(fh);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, finalPath);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await fsyncDir(path.dirname(finalPath));
}

/** Atomically replace (or create) the file at `finalPath` with `data` (strings are written as UTF-8). */
export async function atomicWriteFile(finalPath: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  await atomicWriteFileWith(finalPath, (fh) => writeAll(fh, bytes));
}

/** fsync every regular file under `dir` and the directories themselves, so the final rename publishes durable data. */
export async function fsyncTree(dir: string): Promise<void> {
  for (const ent of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) await fsyncTree(p);
    else if (ent.isFile()) {
      // Read-only open: copied files may be read-only, and fsync works on any descriptor on POSIX. Windows
      // refuses to flush a read-only handle; those files were closed normally, so that is best effort.
      const fh = await fsp.open(p, 'r');
      try {
        await fh.sync();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBADF' && code !== 'EINVAL') throw e;
      } finally {
        await fh.close();
      }
    }
  }
  await fsyncDir(dir);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Build a directory atomically: `fill(tmpDir)` writes into a fresh temporary sibling of `finalDir`, which is
 * then renamed into place. An existing `finalDir` is replaced: it is first renamed aside, the new one moved in,
 * and only then is the old one deleted (if moving in fails, the old one is put back). A POSIX rename cannot
 * replace a non-empty directory, hence the two renames; between them `finalDir` briefly does not exist but
 * the old content is still intact under the `.loram-tmp-old-*` name.
 * If `fill` throws, the temp directory is removed and `finalDir` is untouched.
 */
export async function atomicWriteDir<T>(finalDir: string, fill: (tmpDir: string) => Promise<T> | T): Promise<T> {
  const abs = path.resolve(finalDir);
  await fsp.mkdir(path.dirname(abs), { recursive: true });
  const tmp = tempSibling(abs, 'dir');
  await fsp.mkdir(tmp);
  let result: T;
  try {
    result = await fill(tmp);
    await fsyncTree(tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }

  let old: string | undefined;
  try {
    if (await exists(abs)) {
      const st = await fsp.lstat(abs);
      // Replacing a symlink would silently detach the user's link target from the saved data.
      if (st.isSymbolicLink()) throw new Error(`${abs} is a symbolic link; refusing to replace it (save to the real path)`);
      if (!st.isDirectory()) throw new Error(`${abs} exists and is not a directory; refusing to replace it`);
      old = tempSibling(abs, 'old');
      await fsp.rename(abs, old);
    }
    try {
      await fsp.rename(tmp, abs);
    } catch (e) {
      if (old) await fsp.rename(old, abs).catch(() => undefined);
      old = undefined;
      throw e;
    }
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  await fsyncDir(path.dirname(abs));
  // The new directory is in place; failing to delete the old copy must not fail the save.
  if (old) await fsp.rm(old, { recursive: true, force: true }).catch(() => undefined);
  return result;
}
