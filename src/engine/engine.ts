/**
 * The engine: validates and runs recipes, emits events, owns the artifact store and the run history.
 * It implements EngineClient, so the CLI uses it directly and the shells (Electron, web) forward to it.
 *
 * A run: validate → plan (topological; optionally only what `to` needs) → for each node: signature → reuse the
 * cached artifact if present (node-cached), else compute it in the worker (node-started, node-progress*,
 * node-finished | node-failed). A failed node blocks only what depends on it; independent branches go on.
 * Runs are executed one at a time, in the order they were started; within a run, nodes whose inputs are ready
 * compute concurrently on a pool of workers (LORAM_CONCURRENCY, default min(2, cores)), and a node whose
 * signature is already being computed waits for that result instead of computing it again.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  recipeSchema,
  serializeRecipe,
  type ArtifactContent,
  type CacheStatus,
  type StoreCleanup,
  type StoreSummary,
  type EngineClient,
  type EngineEvent,
  type EngineListener,
  type LoadedRecipe,
  type Location,
  type NodeRunSummary,
  type NodeSpec,
  type Recipe,
  type ReportModel,
  type RunOptions,
  type RunRecord,
  type RunStart,
  type RunSummary,
  type RunTargets,
  type ValidateOptions,
  type ValidationError,
  type ValidationResult,
} from '../shared';
import { registry as defaultRegistry } from '../nodes/index';
import { nodeSpec } from '../nodes/catalogue';
import type { NodeRegistry } from '../nodes/registry';
import { RunExecution, type PlannedRun, type RunEnd } from './execute';
import { WorkerPool } from './executor';
import { FileHasher } from './hash';
import { loramHome } from './home';
import { planRun } from './plan';
import { atomicSaveText } from './recipe-file';
import { newRunId, RunStore, type RunLog } from './runs';
import { nodeId, type NodeId } from '../shared/ids';
import { signatureOf, type Signature } from './signature';
import { ArtifactStore } from './store';
import { SignatureLocks } from './store-lock';
import { analyzeRecipe, type Analysis } from './validate';
import type { QueueSubmitter, WorkersTarget } from './remote/submitter';
import { redact } from './remote/queue-url';

export interface EngineOptions {
  /** Root of the store and run history (default LORAM_HOME, else the user's cache folder + /loram). */
  home?: string;
  /** Node kinds for validation in this thread (default: src/nodes). */
  registry?: NodeRegistry;
  /** The module the worker loads the same registry from (default: src/nodes/index.ts). */
  registryModule?: string;
  /** How long a cancelled node may take to stop before its worker is terminated (default 10 s, LORAM_CANCEL_GRACE_MS). */
  cancelGraceMs?: number;
  /** How many nodes may compute at once (default LORAM_CONCURRENCY, else min(2, cores)). */
  concurrency?: number;
  /** A queue of workers and their shared store, for runs with `target: 'workers'` (src/engine/remote/). */
  workers?: WorkersTarget;
}

/** LORAM_QUEUE and LORAM_STORE: the editor's shells offer "Run on workers" when both are set. */
export function workersFromEnv(env: NodeJS.ProcessEnv = process.env): WorkersTarget | undefined {
  return env.LORAM_QUEUE && env.LORAM_STORE ? { queue: env.LORAM_QUEUE, store: env.LORAM_STORE } : undefined;
}

/** Each compute node is single-threaded (tfjs-wasm), so one node per core; 24 GiB holds two tiny-model nodes. */
export function defaultConcurrency(): number {
  const env = Number(process.env.LORAM_CONCURRENCY);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length));
}

interface ActiveRun extends PlannedRun {
  cancelRequested: boolean;
  onWorkers: boolean;
  done: Promise<RunEnd>;
}

// Next to this module: ../nodes/index.ts in the sources, ../nodes/index.js in the compiled CLI (lib/).
export const DEFAULT_REGISTRY_MODULE = fileURLToPath(new URL(`../nodes/index${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export class Engine implements EngineClient {
  readonly home: string;
  readonly store: ArtifactStore;
  readonly locks: SignatureLocks;
  readonly runs: RunStore;
  readonly registry: NodeRegistry;
  readonly executor: WorkerPool;
  private readonly hasher: FileHasher;
  private readonly listeners = new Set<EngineListener>();
  private readonly active = new Map<string, ActiveRun>();
  private queue: Promise<unknown> = Promise.resolve();
  private opened: Promise<void> | null = null;
  private readonly workersTarget: WorkersTarget | undefined;
  private submitter: Promise<QueueSubmitter> | null = null;

  constructor(opts: EngineOptions = {}) {
    this.home = path.resolve(opts.home ?? loramHome());
    this.store = new ArtifactStore(this.home);
    this.locks = new SignatureLocks(path.join(this.home, 'locks'));
    this.runs = new RunStore(this.home);
    this.registry = opts.registry ?? defaultRegistry;
    this.hasher = new FileHasher(path.join(this.home, 'file-hashes.json'));
    this.workersTarget = opts.workers ?? workersFromEnv();
    const envGrace = Number(process.env.LORAM_CANCEL_GRACE_MS);
    this.executor = new WorkerPool(
      {
        registryModule: opts.registryModule ?? DEFAULT_REGISTRY_MODULE,
        storeDir: this.store.dir,
        cacheDir: path.join(this.home, 'cache'),
        graceMs: opts.cancelGraceMs ?? (Number.isFinite(envGrace) && envGrace > 0 ? envGrace : 10_000),
      },
      opts.concurrency ?? defaultConcurrency(),
    );
  }

  /** Create folders, clean up after a killed process, load the file-hash memo. Called lazily by every method. */
  open(): Promise<void> {
    this.opened ??= (async () => {
      await this.store.open();
      await fsp.mkdir(this.runs.dir, { recursive: true });
      await this.hasher.load();
    })();
    return this.opened;
  }

  /** Stop the worker and save the hash memo. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.active.values()].map((r) => this.cancel(r.runId)));
    await this.executor.dispose();
    await this.hasher.save().catch(() => undefined);
    const s = this.submitter;
    this.submitter = null;
    await s?.then((q) => q.close()).catch(() => undefined);
  }

  /** The queue of workers, connected on first use (a failed connection is retried by the next run). */
  private workers(): Promise<QueueSubmitter> {
    const target = this.workersTarget;
    if (!target) return Promise.reject(new Error('this engine has no workers: start it with --queue URL --store URL (or LORAM_QUEUE and LORAM_STORE)'));
    this.submitter ??= import('./remote/submitter').then(({ QueueSubmitter }) => QueueSubmitter.open(target, this.store));
    this.submitter.catch(() => (this.submitter = null));
    return this.submitter;
  }

  /** Where runs can compute: always here, and on the queue of workers when one was configured. */
  get workersDisplay(): string | null {
    return this.workersTarget ? redact(this.workersTarget.queue) : null;
  }

  // ---- EngineClient ------------------------------------------------------------------------------------------

  async listNodes(): Promise<NodeSpec[]> {
    return this.registry.list().map(nodeSpec);
  }

  analyze(recipe: unknown, opts: ValidateOptions = {}): Analysis {
    return analyzeRecipe(recipe, { registry: this.registry, baseDir: path.resolve(opts.baseDir ?? process.cwd()), checkFiles: opts.checkFiles });
  }

  /** Only the display string: the queue's password stays in this process. */
  async runTargets(): Promise<RunTargets> {
    return { workers: this.workersDisplay };
  }

  async validate(recipe: unknown, opts: ValidateOptions = {}): Promise<ValidationResult> {
    const a = this.analyze(recipe, opts);
    return { ok: a.errors.length === 0, errors: a.errors, ...(a.sweep ? { branches: a.sweep.branches } : {}) };
  }

  /** Validate → plan → queue the run (runs execute one at a time, in the order they were started). */
  async run(recipe: unknown, opts: RunOptions = {}): Promise<RunStart> {
    await this.open();
    const baseDir = path.resolve(opts.baseDir ?? process.cwd());
    const prepared = prepareRun(this.analyze(recipe, { baseDir }), opts.to);
    if (!prepared.ok) return { ok: false, errors: prepared.errors };
    const { analysis, plan } = prepared;
    const onWorkers = opts.target === 'workers';
    if (onWorkers) {
      try {
        await this.workers();
      } catch (e) {
        return { ok: false, errors: [{ code: 'workers-unavailable', node: null, field: 'target', message: (e as Error).message }] };
      }
    }
    const run: ActiveRun = {
      runId: newRunId(),
      analysis,
      recipeName: analysis.recipe!.name,
      plan,
      ...(opts.to !== undefined ? { to: opts.to } : {}),
      noCache: !!opts.noCache,
      baseDir,
      cancelRequested: false,
      onWorkers,
      done: undefined as unknown as Promise<RunEnd>,
    };
    this.active.set(run.runId, run);
    const log = await this.runs.create(run.runId, analysis.recipe!, run.to, onWorkers ? (this.workersDisplay ?? undefined) : undefined);
    run.done = this.queue.then(() => this.execute(run, log)).finally(() => this.active.delete(run.runId));
    this.queue = run.done.catch(() => undefined);
    return { ok: true, runId: run.runId };
  }

  /** Resolves with the event that ended the run. */
  async wait(runId: string): Promise<RunEnd> {
    const r = this.active.get(runId);
    if (r) return r.done;
    const rec = await this.runs.get(runId);
    const end = rec?.events.findLast((e): e is RunEnd => e.type === 'run-finished' || e.type === 'run-cancelled');
    if (!end) throw new Error(`no run "${runId}"`);
    return end;
  }

  async cancel(runId: string): Promise<void> {
    const r = this.active.get(runId);
    if (!r) return;
    r.cancelRequested = true;
    if (this.currentRun === runId) this.executor.cancel();
    if (this.currentRun === runId && r.onWorkers) await (await this.workers()).cancelRun(runId).catch(() => undefined);
    await r.done.catch(() => undefined);
  }

  subscribe(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async listRuns(): Promise<RunSummary[]> {
    return this.runs.list(new Set(this.active.keys()));
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    return this.runs.get(runId, new Set(this.active.keys()));
  }

  async storeSummary(): Promise<StoreSummary> {
    await this.open();
    const { storeSummaryOf } = await import('./cache');
    return storeSummaryOf(this.home, new Set(this.active.keys()));
  }

  async cleanStore(opts: { maxGib?: number; keepRuns?: number } = {}): Promise<StoreCleanup> {
    await this.open();
    const { gcStore, GIB } = await import('./cache');
    const r = await gcStore(this.home, { ...(opts.maxGib !== undefined ? { maxBytes: opts.maxGib * GIB } : {}), ...(opts.keepRuns !== undefined ? { keepRuns: opts.keepRuns } : {}), active: new Set(this.active.keys()) });
    return { removed: r.removed.length, freedBytes: r.before - r.after, bytes: r.after, underCap: r.underCap };
  }

  async cacheStatus(recipe: unknown, opts: { baseDir?: string } = {}): Promise<CacheStatus> {
    await this.open();
    const baseDir = path.resolve(opts.baseDir ?? process.cwd());
    const a = this.analyze(recipe, { baseDir });
    const nodes: CacheStatus['nodes'] = {};
    const sigs = new Map<NodeId, Signature>();
    for (const id of (a.order ?? []).map(nodeId)) {
      let sig: Signature | null = null;
      try {
        sig = await signatureOf(a, id, baseDir, this.hasher, (up) => sigs.get(up));
      } catch {
        sig = null;
      }
      if (sig) sigs.set(id, sig);
      const def = a.nodes.get(id)!.def;
      nodes[id] = { signature: sig, cached: !!sig && def.cacheable !== false && (await this.store.has(sig)) };
    }
    for (const id of a.nodes.keys()) nodes[id] ??= { signature: null, cached: false };
    return { nodes };
  }

  async readArtifact(location: Location): Promise<ArtifactContent> {
    return this.store.readFile(location);
  }

  async readMetrics(runId: string): Promise<Record<string, NodeRunSummary>> {
    return this.runs.metrics(runId);
  }

  async reportModel(runId: string): Promise<ReportModel> {
    return (await import('../report/index')).reportOfRun(runId, this.home);
  }

  async writeReport(runId: string): Promise<{ dir: string; htmlPath: string; html: string }> {
    return (await import('../report/index')).writeRunReport(runId, this.home);
  }

  async loadRecipe(file: string): Promise<LoadedRecipe> {
    const abs = path.resolve(file);
    let text: string;
    try {
      text = await fsp.readFile(abs, 'utf8');
    } catch (e) {
      return { recipe: null, errors: [{ code: 'invalid-recipe', node: null, field: null, message: `cannot read ${abs}: ${(e as Error).message}` }], fromVersion: null };
    }
    const a = analyzeRecipe(text, { registry: this.registry, baseDir: path.dirname(abs) });
    let fromVersion: number | null = null;
    try {
      const v = (JSON.parse(text) as { version?: unknown }).version;
      fromVersion = typeof v === 'number' ? v : null;
    } catch {
      fromVersion = null;
    }
    return { recipe: a.source ?? a.recipe, errors: a.errors, fromVersion };
  }

  async saveRecipe(file: string, recipe: Recipe): Promise<void> {
    const r = recipeSchema.safeParse(recipe);
    if (!r.success) throw new Error(`not a valid recipe: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    await atomicSaveText(path.resolve(file), serializeRecipe(r.data));
  }

  // ---- execution ---------------------------------------------------------------------------------------------

  private currentRun: string | null = null;

  /**
   * The size cap LORAM_CACHE_MAX_GIB, after each run (src/engine/cache.ts): least recently used artifacts go,
   * never those of this run, of the LORAM_CACHE_KEEP_RUNS most recent runs or of a run in progress. Reported in
   * the run's log; a failure to collect is a warning, not a failed run.
   */
  private async enforceCap(runId: string, nodes: Record<string, NodeRunSummary>, log: RunLog): Promise<void> {
    const say = (level: 'info' | 'warn', message: string) => this.emit({ type: 'node-log', runId, time: Date.now(), node: '', level, message }, log);
    try {
      const cache = await import('./cache');
      const maxBytes = cache.capFromEnv();
      if (maxBytes === undefined) return;
      await log.flush();
      const protect = new Set<string>();
      for (const n of Object.values(nodes)) {
        if (n.signature) protect.add(n.signature);
        if (n.outputs) cache.storeArtifactsIn(n.outputs, protect);
      }
      const r = await cache.gcStore(this.home, { maxBytes, protect, active: new Set(this.active.keys()) });
      const cap = `LORAM_CACHE_MAX_GIB=${process.env.LORAM_CACHE_MAX_GIB}`;
      if (r.removed.length) say('info', `cache: removed ${r.removed.length} least recently used artifact(s), ${cache.fmtBytes(r.before - r.after)}, to stay under ${cap}; the store holds ${cache.fmtBytes(r.after)}`);
      if (!r.underCap) say('warn', `cache: the store holds ${cache.fmtBytes(r.after)}, over ${cap}, but what is left belongs to the ${r.keepRuns} most recent run(s) or to runs in progress (LORAM_CACHE_KEEP_RUNS)`);
    } catch (e) {
      say('warn', `cache: could not enforce the size cap: ${(e as Error).message}`);
    }
  }

  private emit(e: EngineEvent, log: RunLog): void {
    log.append(e);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure must not break the run
      }
    }
  }

  /** Execute a queued run (execute.ts), then close its history. */
  private async execute(run: ActiveRun, log: RunLog): Promise<RunEnd> {
    this.currentRun = run.runId;
    const remote = run.onWorkers ? await this.workers() : undefined;
    const execution = new RunExecution(run, { store: this.store, locks: this.locks, executor: this.executor, hasher: this.hasher, ...(remote ? { remote } : {}), emit: (e) => this.emit(e, log) });
    let end: RunEnd;
    try {
      end = await execution.execute();
    } finally {
      this.currentRun = null;
    }
    await this.enforceCap(run.runId, execution.summaries, log);
    // The end event goes to the history before its summary is finished, then to listeners.
    log.append(end);
    await log.finish(execution.status, execution.summaries).catch(() => undefined);
    for (const l of this.listeners) {
      try {
        l(end);
      } catch {
        // ignore
      }
    }
    return end;
  }
}

/** What a valid run needs: its analysis and plan; or why it cannot run. Running to a node ignores problems in parts of the graph it does not need. */
function prepareRun(analysis: Analysis, to: string | undefined): { ok: true; analysis: Analysis; plan: NodeId[] } | { ok: false; errors: ValidationError[] } {
  let errors = analysis.errors;
  if (analysis.recipe && to !== undefined && !analysis.recipe.nodes.some((n) => n.id === to)) {
    return { ok: false, errors: [...errors, { code: 'unknown-target', node: null, field: 'to', message: `there is no node "${to}" to run to` }] };
  }
  const plan = analysis.order ? planRun(analysis.order, analysis.edges, to).map(nodeId) : [];
  if (to !== undefined && analysis.order) {
    const need = new Set(plan);
    errors = errors.filter((e) => e.node === null || need.has(nodeId(e.node)));
  }
  if (errors.length || !analysis.recipe || !analysis.order) return { ok: false, errors };
  return { ok: true, analysis, plan };
}
