/**
 * One computation per signature across processes: LORAM_HOME/locks/<signature>.lock, created with O_EXCL
 * (open 'wx') and holding the owner's pid, host and start time. A run that finds the lock held waits for it to
 * go, then reuses what the owner published. A lock whose owner is a dead process on this host (a `kill -9`, a
 * crash, a closed laptop) is stale and taken over; the take-over itself is serialised by a second O_EXCL file
 * (<signature>.lock.takeover) so two waiters cannot both delete the lock and one of them end up without it.
 *
 * A lock created before this machine last booted is stale too, whatever its pid: no process survives a reboot,
 * and after one the pid may belong to an unrelated process.
 *
 * A lock held by another host (a shared network LORAM_HOME) cannot be checked for liveness: it is waited for;
 * remove the file by hand if that host is gone for good.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from './process-alive';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: number;
  signature: string;
  /** What holds it (e.g. "run 2025… node train"), for messages. */
  note?: string;
}

export interface HeldLock {
  readonly info: LockInfo;
  /** The holder this lock was waited for, if any (then another process may have published the artifact meanwhile). */
  readonly waitedFor: LockInfo | null;
  release(): Promise<void>;
}

export interface AcquireOptions {
  note?: string;
  /** Called once, when the lock is found held by a live process. */
  onWait?(holder: LockInfo): void;
  /** Called when a stale lock (dead owner) is taken over. */
  onStale?(holder: LockInfo): void;
  /** Polled while waiting; throwing stops the wait (e.g. a cancelled run). */
  checkCancelled?(): void;
  pollMs?: number;
}

/** An empty or half-written lock file older than this is garbage (its writer died between open and write). */
const UNREADABLE_GRACE_MS = 5_000;
/** A take-over marker older than this belongs to a process that died during a take-over. */
const TAKEOVER_GRACE_MS = 15_000;
/** Tolerance on the boot time (os.uptime() is coarse, clocks get adjusted). */
const BOOT_SLACK_MS = 120_000;

export function describeHolder(h: LockInfo): string {
  return `process ${h.pid}${h.host !== os.hostname() ? ` on ${h.host}` : ''}${h.note ? ` (${h.note})` : ''}, since ${new Date(h.startedAt).toISOString()}`;
}

export class SignatureLocks {
  constructor(readonly dir: string) {}

  private file(sig: string): string {
    if (!/^[0-9a-f]{16,128}$/.test(sig)) throw new Error(`not an artifact id: "${sig}"`);
    return path.join(this.dir, `${sig}.lock`);
  }

  /** The current holder, or null when free; `stale` when its owner is a dead process on this host. */
  async holder(sig: string): Promise<{ info: LockInfo | null; stale: boolean } | null> {
    const f = this.file(sig);
    let text: string;
    let mtimeMs: number;
    try {
      [text, mtimeMs] = await Promise.all([fsp.readFile(f, 'utf8'), fsp.stat(f).then((s) => s.mtimeMs)]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      const info = JSON.parse(text) as LockInfo;
      if (typeof info.pid !== 'number' || typeof info.host !== 'string') throw new Error('malformed');
      const bootedAt = Date.now() - os.uptime() * 1000;
      return { info, stale: info.host === os.hostname() && (!processAlive(info.pid) || info.startedAt < bootedAt - BOOT_SLACK_MS) };
    } catch {
      // Being written right now (open 'wx' and write are two steps), or left half-written by a crash.
      return { info: null, stale: Date.now() - mtimeMs > UNREADABLE_GRACE_MS };
    }
  }

  /** Take the lock if it is free (or stale); else return its holder. */
  async tryAcquire(sig: string, opts: Pick<AcquireOptions, 'note' | 'onStale'> = {}): Promise<HeldLock | { held: LockInfo | null }> {
    await fsp.mkdir(this.dir, { recursive: true });
    const f = this.file(sig);
    const info: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: Date.now(), signature: sig, ...(opts.note ? { note: opts.note } : {}) };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await fsp.open(f, 'wx');
        try {
          await fh.writeFile(JSON.stringify(info) + '\n');
        } finally {
          await fh.close();
        }
        return this.held(f, info, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const h = await this.holder(sig);
      if (!h) continue; // released between our open and our read: try again
      if (!h.stale) return { held: h.info };
      if (h.info) opts.onStale?.(h.info);
      await this.takeOver(sig, h.info);
    }
    const h = await this.holder(sig);
    return { held: h?.info ?? null };
  }

  /** Wait until the lock is ours. */
  async acquire(sig: string, opts: AcquireOptions = {}): Promise<HeldLock> {
    let waitedFor: LockInfo | null = null;
    let told = false;
    for (;;) {
      opts.checkCancelled?.();
      const r = await this.tryAcquire(sig, opts);
      if ('release' in r) return waitedFor ? { ...r, waitedFor, release: r.release } : r;
      if (r.held) {
        waitedFor = r.held;
        if (!told) {
          told = true;
          opts.onWait?.(r.held);
        }
      }
      await new Promise((res) => setTimeout(res, opts.pollMs ?? 200));
    }
  }

  /** Remove a stale lock, unless someone else replaced it meanwhile. */
  private async takeOver(sig: string, seen: LockInfo | null): Promise<void> {
    const f = this.file(sig);
    const marker = `${f}.takeover`;
    let fh;
    try {
      fh = await fsp.open(marker, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Another waiter is taking it over; clear its marker only if that waiter died during it.
      const st = await fsp.stat(marker).catch(() => null);
      if (st && Date.now() - st.mtimeMs > TAKEOVER_GRACE_MS) await fsp.rm(marker, { force: true });
      return;
    }
    try {
      await fh.writeFile(String(process.pid));
      await fh.close();
      fh = undefined;
      const now = await this.holder(sig);
      const same = now && now.stale && (seen === null ? now.info === null : now.info?.pid === seen.pid && now.info.startedAt === seen.startedAt && now.info.host === seen.host);
      if (same) await fsp.rm(f, { force: true });
    } finally {
      await fh?.close().catch(() => undefined);
      await fsp.rm(marker, { force: true });
    }
  }

  private held(f: string, info: LockInfo, waitedFor: LockInfo | null): HeldLock {
    let released = false;
    return {
      info,
      waitedFor,
      release: async () => {
        if (released) return;
        released = true;
        // Only our own lock: if it was (wrongly) taken over, the new owner's file stays.
        try {
          const cur = JSON.parse(await fsp.readFile(f, 'utf8')) as LockInfo;
          if (cur.pid === info.pid && cur.startedAt === info.startedAt && cur.host === info.host) await fsp.rm(f, { force: true });
        } catch {
          // already gone
        }
      },
    };
  }

  /** Signatures whose lock is held by a live process (or one we cannot check). */
  async heldSignatures(): Promise<Set<string>> {
    const out = new Set<string>();
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return out;
    }
    for (const n of names) {
      const m = /^([0-9a-f]{16,128})\.lock$/.exec(n);
      if (!m) continue;
      const h = await this.holder(m[1]!).catch(() => null);
      if (h && !h.stale) out.add(m[1]!);
    }
    return out;
  }
}
