/**
 * Looking after the artifact store: list it, verify it byte for byte (moving damaged artifacts aside with
 * --repair), and collect garbage down to a size cap. `loram cache …` (src/cli/cache.ts) and the engine (the cap
 * LORAM_CACHE_MAX_GIB, enforced after each run) use these.
 *
 * Which artifacts a run used is in its history: metrics.json lists each node's signature once the run ended;
 * while it runs (or when its process died), its events.jsonl does (node-started / node-cached / node-finished
 * carry the signature). A store location inside an output (a prune plan in a model's lineage) counts as used too.
 *
 * gc never removes an artifact of one of the K most recent runs (--keep-runs, LORAM_CACHE_KEEP_RUNS, default 5),
 * of a run in progress, or whose signature lock is held (being computed). Among the rest it removes the least
 * recently used first until the store fits under the cap. Without a cap it removes only artifacts that no run
 * in the history used.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../shared';
import { storeArtifactsIn } from './location';
export { storeArtifactsIn };
import { RunStore } from './runs';
import { ArtifactStore, duBytes } from './store';
import { SignatureLocks } from './store-lock';
import type { StoreSummary } from '../shared/api';

export const DEFAULT_KEEP_RUNS = 5;
export const GIB = 2 ** 30;

/** LORAM_CACHE_MAX_GIB in bytes, or undefined when unset; throws on a value that is not a number ≥ 0. */
export function capFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.LORAM_CACHE_MAX_GIB;
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`LORAM_CACHE_MAX_GIB must be a number of GiB ≥ 0, not "${v}"`);
  return n * GIB;
}

export function keepRunsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.LORAM_CACHE_KEEP_RUNS;
  if (v === undefined || v.trim() === '') return DEFAULT_KEEP_RUNS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`LORAM_CACHE_KEEP_RUNS must be a whole number ≥ 0, not "${v}"`);
  return n;
}

export interface RunUse {
  runId: string;
  status: RunSummary['status'];
  startedAt: number;
  artifacts: Set<string>;
}

/** The artifacts a run used, from its history (see the module comment). */
export async function artifactsOfRun(runDir: string): Promise<Set<string>> {
  const out = new Set<string>();
  const take = (sig: unknown, outputs?: unknown) => {
    if (typeof sig === 'string' && /^[0-9a-f]{16,128}$/.test(sig)) out.add(sig);
    if (outputs) storeArtifactsIn(outputs, out);
  };
  try {
    const nodes = JSON.parse(await fsp.readFile(path.join(runDir, 'metrics.json'), 'utf8')) as Record<string, { signature?: string; outputs?: unknown }>;
    for (const n of Object.values(nodes)) take(n.signature, n.outputs);
  } catch {
    // not finished: the events tell
  }
  const text = await fsp.readFile(path.join(runDir, 'events.jsonl'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.includes('"signature"')) continue;
    try {
      const e = JSON.parse(line) as { signature?: string; outputs?: unknown };
      take(e.signature, e.outputs);
    } catch {
      // a line cut short by a crash
    }
  }
  return out;
}

/** Every run in the history, newest first, with the artifacts it used. */
export async function runUses(home: string, active: ReadonlySet<string> = new Set()): Promise<RunUse[]> {
  const runs = new RunStore(home);
  const list = await runs.list(active);
  list.sort((a, b) => b.startedAt - a.startedAt || (a.runId < b.runId ? 1 : -1));
  const out: RunUse[] = [];
  for (const s of list) out.push({ runId: s.runId, status: s.status, startedAt: s.startedAt, artifacts: await artifactsOfRun(path.join(runs.dir, s.runId)) });
  return out;
}

export interface ArtifactEntry {
  signature: string;
  bytes: number;
  /** ok: manifest and sizes agree; legacy: published before manifests; damaged: sizes (or the manifest) are wrong. */
  state: 'ok' | 'legacy' | 'damaged';
  problems?: string[];
  nodeType?: string;
  node?: string;
  createdAt?: number;
  /** Runs that used it, and the newest's start time. */
  runs: number;
  lastUsed: number;
}

export interface StoreListing {
  storeDir: string;
  artifacts: ArtifactEntry[];
  totalBytes: number;
  damaged: { dir: string; count: number; bytes: number };
}

/** Every artifact with its size, state (sizes checked, cheap), producer and last use. */
export async function listStore(home: string, uses?: RunUse[]): Promise<StoreListing> {
  const store = new ArtifactStore(home);
  uses ??= await runUses(home);
  const artifacts: ArtifactEntry[] = [];
  for (const sig of await store.list()) {
    const c = await store.check(sig, 'sizes');
    if (c.state === 'missing') continue;
    const rec = c.state === 'damaged' ? null : c.rec;
    const users = uses.filter((u) => u.artifacts.has(sig));
    const createdAt = rec?.meta?.createdAt ?? (await fsp.stat(store.pathOf(sig)).then((s) => s.mtimeMs).catch(() => 0));
    artifacts.push({
      signature: sig,
      bytes: await store.sizeOf(sig),
      state: c.state,
      ...(c.state === 'damaged' ? { problems: c.problems } : {}),
      ...(rec ? { nodeType: rec.meta?.type, node: rec.meta?.node, createdAt } : {}),
      runs: users.length,
      lastUsed: Math.max(createdAt, ...users.map((u) => u.startedAt)),
    });
  }
  let damagedNames: string[] = [];
  try {
    damagedNames = await fsp.readdir(store.damagedDir);
  } catch {
    damagedNames = [];
  }
  let damagedBytes = 0;
  for (const n of damagedNames) damagedBytes += await duBytes(path.join(store.damagedDir, n));
  return {
    storeDir: store.dir,
    artifacts,
    totalBytes: artifacts.reduce((s, a) => s + a.bytes, 0),
    damaged: { dir: store.damagedDir, count: damagedNames.length, bytes: damagedBytes },
  };
}

export interface VerifyResult {
  checked: number;
  ok: string[];
  /** Legacy artifacts given a manifest now (from their current content). */
  adopted: string[];
  damaged: { signature: string; problems: string[]; movedTo?: string | null }[];
}

/** Hash every artifact against its manifest; with `repair`, move the damaged ones aside (a run recomputes them). */
export async function verifyStore(home: string, opts: { repair?: boolean; onProgress?: (done: number, total: number, sig: string) => void } = {}): Promise<VerifyResult> {
  const store = new ArtifactStore(home);
  const locks = new SignatureLocks(path.join(home, 'locks'));
  const sigs = await store.list();
  const r: VerifyResult = { checked: 0, ok: [], adopted: [], damaged: [] };
  for (const [i, sig] of sigs.entries()) {
    opts.onProgress?.(i, sigs.length, sig);
    const c = await store.check(sig, 'full');
    if (c.state === 'missing') continue;
    r.checked++;
    if (c.state === 'ok') r.ok.push(sig);
    else if (c.state === 'legacy') {
      await store.adoptLegacy(sig);
      r.adopted.push(sig);
    } else {
      const entry: VerifyResult['damaged'][number] = { signature: sig, problems: c.problems };
      if (opts.repair) {
        // Under the signature's lock, so a run computing it now is not disturbed.
        const lock = await locks.tryAcquire(sig, { note: 'loram cache verify --repair' });
        if ('release' in lock) {
          try {
            const again = await store.check(sig, 'full');
            entry.movedTo = again.state === 'damaged' ? await store.quarantine(sig, again.problems, 'loram cache verify --repair') : null;
          } finally {
            await lock.release();
          }
        } else entry.movedTo = null;
      }
      r.damaged.push(entry);
    }
  }
  opts.onProgress?.(sigs.length, sigs.length, '');
  return r;
}

/** The store in a few numbers, for the editor's Runs tab (the settings that bound it included). */
export async function storeSummaryOf(home: string, active: ReadonlySet<string> = new Set()): Promise<StoreSummary> {
  const l = await listStore(home, await runUses(home, active));
  const unused = l.artifacts.filter((a) => a.runs === 0);
  let capBytes: number | null = null;
  try {
    capBytes = capFromEnv() ?? null;
  } catch {
    capBytes = null; // a bad setting is reported by the run that enforces it
  }
  return {
    dir: l.storeDir,
    bytes: l.totalBytes,
    artifacts: l.artifacts.length,
    unusedArtifacts: unused.length,
    unusedBytes: unused.reduce((a, x) => a + x.bytes, 0),
    damaged: l.damaged,
    capBytes,
    keepRuns: keepRunsFromEnv(),
  };
}

export interface GcOptions {
  /** Bring the store under this many bytes (default: LORAM_CACHE_MAX_GIB; none: only unused artifacts go). */
  maxBytes?: number;
  /** Never remove what the K most recent runs used (default LORAM_CACHE_KEEP_RUNS, else 5). */
  keepRuns?: number;
  /** Signatures to keep besides (the run that just ended). */
  protect?: Iterable<string>;
  /** Runs of this process still in progress (others' are found by their pid). */
  active?: ReadonlySet<string>;
  dryRun?: boolean;
}

export interface GcResult {
  maxBytes: number | null;
  keepRuns: number;
  before: number;
  after: number;
  removed: { signature: string; bytes: number; nodeType?: string; node?: string }[];
  /** Bytes the kept runs, running runs and locked artifacts hold (what gc may not remove). */
  protectedBytes: number;
  /** Whether the store is now under the cap (true when there is no cap). */
  underCap: boolean;
}

export async function gcStore(home: string, opts: GcOptions = {}): Promise<GcResult> {
  const store = new ArtifactStore(home);
  await store.open(); // also clears dead processes' temp folders
  const locks = new SignatureLocks(path.join(home, 'locks'));
  const keepRuns = opts.keepRuns ?? keepRunsFromEnv();
  const maxBytes = opts.maxBytes ?? capFromEnv();
  const uses = await runUses(home, opts.active);
  const keep = new Set<string>(opts.protect ?? []);
  uses.forEach((u, i) => {
    if (i < keepRuns || u.status === 'running') for (const s of u.artifacts) keep.add(s);
  });
  for (const s of await locks.heldSignatures()) keep.add(s);
  const listing = await listStore(home, uses);
  const before = listing.totalBytes;
  let total = before;
  const protectedBytes = listing.artifacts.filter((a) => keep.has(a.signature)).reduce((s, a) => s + a.bytes, 0);
  const candidates = listing.artifacts
    .filter((a) => !keep.has(a.signature))
    .filter((a) => maxBytes !== undefined || a.runs === 0)
    .sort((a, b) => a.lastUsed - b.lastUsed || b.bytes - a.bytes);
  const removed: GcResult['removed'] = [];
  for (const a of candidates) {
    if (maxBytes !== undefined && total <= maxBytes) break;
    if (!opts.dryRun) {
      // Take the lock so a run that starts computing this signature right now is not pulled from under.
      const lock = await locks.tryAcquire(a.signature, { note: 'loram cache gc' });
      if (!('release' in lock)) continue;
      try {
        await store.remove(a.signature);
      } finally {
        await lock.release();
      }
    }
    total -= a.bytes;
    removed.push({ signature: a.signature, bytes: a.bytes, ...(a.nodeType ? { nodeType: a.nodeType } : {}), ...(a.node ? { node: a.node } : {}) });
  }
  return { maxBytes: maxBytes ?? null, keepRuns, before, after: total, removed, protectedBytes, underCap: maxBytes === undefined || total <= maxBytes };
}

export function fmtBytes(b: number): string {
  if (b >= GIB) return `${(b / GIB).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${b} B`;
}
