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
  type EngineClient,
  type EngineEvent,
  type EngineListener,
  type LoadedRecipe,
  type Location,
  type NodeErrorInfo,
  type NodeRunSummary,
  type NodeSpec,
  type PortValue,
  type Recipe,
  type ReportModel,
  type RunCancelledEvent,
  type RunFinishedEvent,
  type RunOptions,
  type RunRecord,
  type RunStart,
  type RunSummary,
  type ValidateOptions,
  type ValidationResult,
} from '../shared';
import { registry as defaultRegistry } from '../nodes/index';
import type { NodeInputs, NodeRegistry } from '../nodes/types';
import { WorkerPool, TaskError } from './executor';
import { FileHasher } from './hash';
import { loramHome } from './home';
import { planRun } from './plan';
import { atomicSaveText } from './recipe-file';
import { newRunId, RunStore, type RunLog } from './runs';
import { nodeSignature } from './signature';
import { specOf } from './specs';
import { ArtifactStore, type ArtifactRecord } from './store';
import { analyzeRecipe, incoming, type Analysis } from './validate';

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
}

/** Each compute node is single-threaded (tfjs-wasm), so one node per core; 24 GiB holds two tiny-model nodes. */
export function defaultConcurrency(): number {
  const env = Number(process.env.LORAM_CONCURRENCY);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length));
}

type RunEnd = RunFinishedEvent | RunCancelledEvent;

interface ActiveRun {
  runId: string;
  analysis: Analysis;
  recipe: Recipe;
  plan: string[];
  to?: string;
  noCache: boolean;
  baseDir: string;
  cancelRequested: boolean;
  done: Promise<RunEnd>;
}

const DEFAULT_REGISTRY_MODULE = fileURLToPath(new URL('../nodes/index.ts', import.meta.url));

function errorInfo(e: unknown): NodeErrorInfo {
  if (e instanceof TaskError) return e.info;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { message: e.message, name: e.name, stack: e.stack, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { message: String(e) };
}

export class Engine implements EngineClient {
  readonly home: string;
  readonly store: ArtifactStore;
  readonly runs: RunStore;
  readonly registry: NodeRegistry;
  readonly executor: WorkerPool;
  private readonly hasher: FileHasher;
  private readonly listeners = new Set<EngineListener>();
  private readonly active = new Map<string, ActiveRun>();
  private queue: Promise<unknown> = Promise.resolve();
  private opened: Promise<void> | null = null;

  constructor(opts: EngineOptions = {}) {
    this.home = path.resolve(opts.home ?? loramHome());
    this.store = new ArtifactStore(this.home);
    this.runs = new RunStore(this.home);
    this.registry = opts.registry ?? defaultRegistry;
    this.hasher = new FileHasher(path.join(this.home, 'file-hashes.json'));
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
  }

  // ---- EngineClient ------------------------------------------------------------------------------------------

  async listNodes(): Promise<NodeSpec[]> {
    return this.registry.list().map(specOf);
  }

  analyze(recipe: unknown, opts: ValidateOptions = {}): Analysis {
    return analyzeRecipe(recipe, { registry: this.registry, baseDir: path.resolve(opts.baseDir ?? process.cwd()), checkFiles: opts.checkFiles });
  }

  async validate(recipe: unknown, opts: ValidateOptions = {}): Promise<ValidationResult> {
    const a = this.analyze(recipe, opts);
    return { ok: a.errors.length === 0, errors: a.errors, ...(a.sweep ? { branches: a.sweep.branches } : {}) };
  }

  async run(recipe: unknown, opts: RunOptions = {}): Promise<RunStart> {
    await this.open();
    const baseDir = path.resolve(opts.baseDir ?? process.cwd());
    const analysis = this.analyze(recipe, { baseDir });
    let errors = analysis.errors;
    if (analysis.recipe && opts.to !== undefined && !analysis.recipe.nodes.some((n) => n.id === opts.to)) {
      errors = [...errors, { code: 'unknown-target', node: null, field: 'to', message: `there is no node "${opts.to}" to run to` }];
      return { ok: false, errors };
    }
    let plan: string[] = [];
    if (analysis.order) plan = planRun(analysis.order, analysis.edges, opts.to);
    if (opts.to !== undefined && analysis.order) {
      // Running to a node ignores problems in parts of the graph it does not need.
      const need = new Set(plan);
      errors = errors.filter((e) => e.node === null || need.has(e.node));
    }
    if (errors.length || !analysis.recipe || !analysis.order) return { ok: false, errors };

    const runId = newRunId();
    const run: ActiveRun = {
      runId,
      analysis,
      recipe: analysis.recipe,
      plan,
      ...(opts.to !== undefined ? { to: opts.to } : {}),
      noCache: !!opts.noCache,
      baseDir,
      cancelRequested: false,
      done: undefined as unknown as Promise<RunEnd>,
    };
    this.active.set(runId, run);
    const log = await this.runs.create(runId, run.recipe, run.to);
    run.done = this.queue.then(() => this.execute(run, log)).finally(() => this.active.delete(runId));
    this.queue = run.done.catch(() => undefined);
    return { ok: true, runId };
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

  async cacheStatus(recipe: unknown, opts: { baseDir?: string } = {}): Promise<CacheStatus> {
    await this.open();
    const baseDir = path.resolve(opts.baseDir ?? process.cwd());
    const a = this.analyze(recipe, { baseDir });
    const nodes: CacheStatus['nodes'] = {};
    const sigs = new Map<string, string>();
    for (const id of a.order ?? []) {
      let sig: string | null = null;
      try {
        sig = await this.signatureOf(a, id, baseDir, (up) => sigs.get(up));
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

  /** Signature of node `id`, given its upstream signatures. Hashes the files the node reads. */
  private async signatureOf(a: Analysis, id: string, baseDir: string, upstream: (node: string) => string | undefined): Promise<string | null> {
    const c = a.nodes.get(id)!;
    if (!c.params) return null;
    const inputs: Record<string, string[]> = {};
    for (const [port, es] of incoming(a.edges, id)) {
      const ups = es.map((e) => upstream(e.from.node));
      if (ups.some((u) => u === undefined)) return null;
      inputs[port] = es.map((e, i) => `${ups[i]}:${e.from.port}`);
    }
    const files: Record<string, string> = {};
    for (const f of c.def.files?.(c.params as never, { baseDir }) ?? []) files[f.field] = await this.hasher.hash(f.path, f.kind);
    return nodeSignature({
      type: c.def.type,
      version: c.def.version,
      params: c.params,
      inputs,
      files,
      ...(c.def.usesNodeIds ? { ids: this.sourcesOf(a, id) } : {}),
    });
  }

  private sourcesOf(a: Analysis, id: string): Record<string, { node: string; port: string; label: string }[]> {
    const out: Record<string, { node: string; port: string; label: string }[]> = {};
    for (const [port, es] of incoming(a.edges, id)) {
      out[port] = es.map((e) => ({ node: e.from.node, port: e.from.port, label: a.nodes.get(e.from.node)?.node.label || e.from.node }));
    }
    return out;
  }

  private async execute(run: ActiveRun, log: RunLog): Promise<RunEnd> {
    this.currentRun = run.runId;
    const t0 = Date.now();
    const a = run.analysis;
    const nodes: Record<string, NodeRunSummary> = {};
    const results = new Map<string, ArtifactRecord>();
    const computedThisRun = new Set<string>();
    let cancelledNode: string | undefined;
    let failed = false;
    const ev = <T extends EngineEvent['type']>(type: T, body: Omit<Extract<EngineEvent, { type: T }>, 'type' | 'runId' | 'time'>) =>
      this.emit({ type, runId: run.runId, time: Date.now(), ...body } as unknown as EngineEvent, log);

    try {
      ev('run-started', { recipeName: run.recipe.name, plan: run.plan, noCache: run.noCache, ...(run.to !== undefined ? { to: run.to } : {}) });
      const pending = new Set(run.plan);
      const inflight = new Map<string, Promise<void>>();
      /** Signatures being computed right now: a second node with the same signature waits for the first. */
      const computing = new Map<string, Promise<ArtifactRecord>>();
      let stop = false;

      const processNode = async (id: string): Promise<void> => {
        const c = a.nodes.get(id)!;
        const type = c.def.type;
        const inc = incoming(a.edges, id);
        const started = Date.now();
        let signature: string | null = null;
        try {
          // Inputs.
          const inputs: NodeInputs = {};
          for (const p of c.def.inputs) {
            const es = inc.get(p.name) ?? [];
            const vals = es.map((e) => {
              const v = results.get(e.from.node)!.outputs[e.from.port];
              if (!v) throw new Error(`upstream node ${e.from.node} produced no "${e.from.port}" output`);
              return v;
            });
            if (p.multiple) inputs[p.name] = vals;
            else if (vals[0]) inputs[p.name] = vals[0];
          }
          signature = await this.signatureOf(a, id, run.baseDir, (up) => results.get(up)?.signature);
          if (!signature) throw new Error('cannot compute the signature');
          const sig = signature;
          const cacheable = c.def.cacheable !== false;
          const reuse = (rec: ArtifactRecord) => {
            results.set(id, rec);
            nodes[id] = { type, status: 'cached', signature: sig, metrics: rec.metrics, outputs: rec.outputs };
            ev('node-cached', { node: id, nodeType: type, signature: sig, outputs: rec.outputs, metrics: rec.metrics });
          };
          // A twin node (same signature) is already computing in this run: wait for it, do not compute again.
          const twin = cacheable ? computing.get(sig) : undefined;
          if (twin) {
            const rec = await twin.catch(() => null);
            if (rec) return reuse(rec);
          }
          // Claim the signature before the next await, so a twin that starts now waits for this node.
          let settle!: { resolve: (r: ArtifactRecord) => void; reject: (e: unknown) => void };
          const claim = new Promise<ArtifactRecord>((resolve, reject) => (settle = { resolve, reject }));
          claim.catch(() => undefined);
          if (cacheable) computing.set(sig, claim);
          let rec: ArtifactRecord;
          try {
            const cachedRec = cacheable && (!run.noCache || computedThisRun.has(sig)) ? await this.store.read(sig) : null;
            if (cachedRec) {
              settle.resolve(cachedRec);
              return reuse(cachedRec);
            }
            // Compute.
            ev('node-started', { node: id, nodeType: type, signature: sig });
            const fileHashes: Record<string, string> = {};
            for (const f of c.def.files?.(c.params as never, { baseDir: run.baseDir }) ?? []) fileHashes[f.field] = await this.hasher.hash(f.path, f.kind);
            rec = await this.store.produce(sig, async (tmp) => {
              const r = await this.executor.run(
                { nodeId: id, type, params: c.params!, inputs, outDir: tmp, signature: sig, baseDir: run.baseDir, fileHashes, sources: this.sourcesOf(a, id) },
                {
                  onProgress: (step, total, metrics) => ev('node-progress', { node: id, step, total, ...(metrics ? { metrics } : {}) }),
                  onLog: (level, message) => ev('node-log', { node: id, level, message }),
                },
              );
              checkOutputs(c.def.outputs, r.outputs, type);
              return {
                outputs: r.outputs,
                metrics: r.metrics ?? {},
                meta: { type, version: c.def.version, params: c.params, node: id, runId: run.runId, createdAt: Date.now(), durationMs: Date.now() - started },
              };
            });
            settle.resolve(rec);
          } catch (e) {
            settle.reject(e);
            throw e;
          } finally {
            if (computing.get(sig) === claim) computing.delete(sig);
          }
          computedThisRun.add(sig);
          results.set(id, rec);
          const durationMs = Date.now() - started;
          nodes[id] = { type, status: 'done', signature: sig, metrics: rec.metrics, outputs: rec.outputs, durationMs };
          ev('node-finished', { node: id, nodeType: type, signature: sig, outputs: rec.outputs, metrics: rec.metrics, durationMs });
        } catch (e) {
          const durationMs = Date.now() - started;
          if (e instanceof TaskError && e.cancelled) {
            cancelledNode ??= id;
            nodes[id] = { type, status: 'cancelled', durationMs, ...(signature ? { signature } : {}) };
            stop = true;
            return;
          }
          failed = true;
          const error = errorInfo(e);
          nodes[id] = { type, status: 'failed', durationMs, error, ...(signature ? { signature } : {}) };
          ev('node-failed', { node: id, nodeType: type, error, durationMs });
        }
      };

      // Start every node whose upstream is done, in plan order, up to the pool size; wait for one to end; repeat.
      while (!stop && !run.cancelRequested) {
        for (const id of run.plan) {
          if (!pending.has(id) || inflight.size >= this.executor.size) continue;
          const ups = [...incoming(a.edges, id).values()].flat().map((e) => e.from.node);
          if (ups.some((u) => nodes[u] && !results.has(u))) {
            // An upstream node failed, was skipped or cancelled: this one cannot run.
            pending.delete(id);
            nodes[id] = { type: a.nodes.get(id)!.def.type, status: 'skipped' };
            continue;
          }
          if (!ups.every((u) => results.has(u))) continue;
          pending.delete(id);
          inflight.set(id, processNode(id).finally(() => inflight.delete(id)));
        }
        if (inflight.size === 0) break;
        await Promise.race(inflight.values());
      }
      if (run.cancelRequested || stop) this.executor.cancel();
      await Promise.allSettled(inflight.values());
    } catch (e) {
      // An engine bug: report it as a failure rather than leaving the run hanging.
      failed = true;
      const error = errorInfo(e);
      ev('node-log', { node: '', level: 'error', message: `engine error: ${error.message}` });
    } finally {
      this.currentRun = null;
      await this.hasher.save().catch(() => undefined);
    }

    const cancelled = run.cancelRequested;
    for (const id of run.plan) nodes[id] ??= { type: a.nodes.get(id)!.def.type, status: cancelled ? 'pending' : 'skipped' };
    const durationMs = Date.now() - t0;
    const end: RunEnd = cancelled
      ? { type: 'run-cancelled', runId: run.runId, time: Date.now(), durationMs, nodes, ...(cancelledNode ? { node: cancelledNode } : {}) }
      : { type: 'run-finished', runId: run.runId, time: Date.now(), ok: !failed, durationMs, nodes };
    log.append(end);
    await log.finish(cancelled ? 'cancelled' : failed ? 'failed' : 'finished', nodes).catch(() => undefined);
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

function checkOutputs(ports: readonly { name: string; type: string }[], outputs: Record<string, PortValue>, type: string): void {
  for (const p of ports) {
    const v = outputs?.[p.name];
    if (!v) throw new Error(`${type} did not produce its "${p.name}" output`);
    if (v.type !== p.type) throw new Error(`${type} produced a ${v.type} on its "${p.name}" output, which is a ${p.type} port`);
  }
}
