/**
 * One run's execution, as named steps. The loop starts every node whose upstream is done (plan order, up to the
 * pool size) and waits for one to end; each node then goes:
 *   gather inputs → signature → wait for a twin computing the same signature → reuse the cached artifact (its
 *   file sizes checked against its manifest) → else take the signature's lock in the store (waiting for another
 *   process computing it, then reusing its result) → check every input artifact byte for byte → compute it in
 *   the worker (published atomically by the store, with its manifest) → record the outcome.
 * A damaged artifact (found on the hit or when a node reads it) is moved aside by the store, reported as a
 * warning in the run's log, and recomputed. A failed node blocks only what depends on it; a cancelled one stops
 * the run.
 */
import type { EngineEvent, NodeRunSummary, RunCancelledEvent, RunFinishedEvent } from '../shared';
import type { NodeInputs } from '../nodes/definition';
import type { TaskError as TaskErrorType, TaskHandlers, WorkerPool } from './executor';
import { TaskError } from './executor';
import type { FileHasher } from './hash';
import type { RunLog } from './runs';
import { nodeId, type NodeId } from '../shared/ids';
import { fileHashesOf, signatureOf, sourcesOf, type Signature } from './signature';
import type { ArtifactRecord, ArtifactStore } from './store';
import { describeHolder, type HeldLock, type SignatureLocks } from './store-lock';
import { incoming } from './graph';
import { storeArtifactsIn } from './location';
import type { Analysis, CheckedNode } from './validate';
import { errorInfo } from './worker-protocol';
import { produceNode, type NodeTask } from './produce-node';

export type RunEnd = RunFinishedEvent | RunCancelledEvent;

/** What a run executes (the engine's validated and planned run). */
export interface PlannedRun {
  runId: string;
  analysis: Analysis;
  recipeName: string;
  plan: NodeId[];
  to?: string;
  noCache: boolean;
  baseDir: string;
  /** Read at every step: set by the engine when the run is cancelled. */
  readonly cancelRequested: boolean;
}

/** What the engine lends a run. */
export interface ExecutionServices {
  store: ArtifactStore;
  locks: SignatureLocks;
  executor: WorkerPool;
  hasher: FileHasher;
  /** Workers on other machines (a queue and a shared store); absent: every node computes here. */
  remote?: RemoteCompute;
  emit(e: EngineEvent | RunEnd): void;
}

/** Nodes computed by workers elsewhere (src/engine/remote/submitter.ts); their artifacts land in the local store. */
export interface RemoteCompute {
  readonly display: string;
  /** How many nodes of a run may be queued or running at once. */
  readonly inflight: number;
  /** The artifact, fetched from the shared store into the local one (verified), if the shared store has it. */
  reuse(sig: Signature): Promise<ArtifactRecord | null>;
  /** Enqueue the node, stream its events, fetch its artifact into the local store; the worker that ran it. */
  compute(runId: string, task: NodeTask, handlers: TaskHandlers & { onWorker(name: string): void }): Promise<{ rec: ArtifactRecord; worker: string }>;
  cancelRun(runId: string): Promise<void>;
  /** Said in the run's log before any node is queued (no worker connected, workers with other code). */
  preflight(): Promise<{ level: 'info' | 'warn'; message: string }[]>;
}

type EventBody<T extends EngineEvent['type']> = Omit<Extract<EngineEvent, { type: T }>, 'type' | 'runId' | 'time'>;

export class RunExecution {
  private readonly nodes: Record<NodeId, NodeRunSummary> = {};
  private readonly results = new Map<NodeId, ArtifactRecord>();
  private readonly computedThisRun = new Set<Signature>();
  /** Signatures being computed right now: a second node with the same signature waits for the first. */
  private readonly computing = new Map<Signature, Promise<ArtifactRecord>>();
  /** Which remote worker computed each node (remote runs only). */
  private readonly workerOf = new Map<NodeId, string>();
  /** Artifacts checked byte for byte (or computed) in this run, and checks in progress. */
  private readonly verified = new Set<string>();
  private readonly verifying = new Map<string, Promise<void>>();
  private cancelledNode: NodeId | undefined;
  private failed = false;
  private stop = false;

  constructor(
    private readonly run: PlannedRun,
    private readonly services: ExecutionServices,
  ) {}

  private ev<T extends EngineEvent['type']>(type: T, body: EventBody<T>): void {
    this.services.emit({ type, runId: this.run.runId, time: Date.now(), ...body } as unknown as EngineEvent);
  }

  /** Run the plan; resolves with the event that ended the run (also emitted). */
  async execute(): Promise<RunEnd> {
    const t0 = Date.now();
    const { run } = this;
    try {
      const workers = this.services.remote ? { workers: this.services.remote.display } : {};
      this.ev('run-started', { recipeName: run.recipeName, plan: run.plan, noCache: run.noCache, ...(run.to !== undefined ? { to: run.to } : {}), ...workers });
      for (const m of (await this.services.remote?.preflight().catch(() => [])) ?? []) this.ev('node-log', { node: '', ...m });
      await this.schedule();
    } catch (e) {
      // An engine bug: report it as a failure rather than leaving the run hanging.
      this.failed = true;
      this.ev('node-log', { node: '', level: 'error', message: `engine error: ${errorInfo(e).message}` });
    } finally {
      await this.services.hasher.save().catch(() => undefined);
    }
    return this.end(Date.now() - t0);
  }

  /** Start every node whose upstream is done, in plan order, up to the pool size; wait for one to end; repeat. */
  private async schedule(): Promise<void> {
    const { run } = this;
    const pending = new Set(run.plan);
    const inflight = new Map<string, Promise<void>>();
    const limit = this.services.remote?.inflight ?? this.services.executor.size;
    while (!this.stop && !run.cancelRequested) {
      for (const id of run.plan) {
        if (!pending.has(id) || inflight.size >= limit) continue;
        const ups = this.upstreamOf(id);
        if (ups.some((u) => this.nodes[u] && !this.results.has(u))) {
          // An upstream node failed, was skipped or cancelled: this one cannot run.
          pending.delete(id);
          this.nodes[id] = { type: this.checked(id).def.type, status: 'skipped' };
          continue;
        }
        if (!ups.every((u) => this.results.has(u))) continue;
        pending.delete(id);
        inflight.set(id, this.processNode(id).finally(() => inflight.delete(id)));
      }
      if (inflight.size === 0) break;
      await Promise.race(inflight.values());
    }
    if (run.cancelRequested || this.stop) {
      this.services.executor.cancel();
      await this.services.remote?.cancelRun(run.runId).catch(() => undefined);
    }
    await Promise.allSettled(inflight.values());
  }

  private checked(id: NodeId): CheckedNode {
    return this.run.analysis.nodes.get(id)!;
  }

  private upstreamOf(id: NodeId): NodeId[] {
    return [...incoming(this.run.analysis.edges, id).values()].flat().map((e) => nodeId(e.from.node));
  }

  private async processNode(id: NodeId): Promise<void> {
    const type = this.checked(id).def.type;
    const started = Date.now();
    let signature: Signature | null = null;
    try {
      const inputs = this.gatherInputs(id);
      signature = await signatureOf(this.run.analysis, id, this.run.baseDir, this.services.hasher, (up) => this.results.get(up)?.signature as Signature | undefined);
      if (!signature) throw new Error('cannot compute the signature');
      const twin = this.twinOf(id, signature);
      const twinRec = twin && (await twin);
      if (twinRec) return this.recordCached(id, signature, twinRec);
      const { rec, cached } = await this.produceOnce(id, signature, inputs, started);
      if (cached) this.recordCached(id, signature, rec);
      else this.recordDone(id, signature, rec, Date.now() - started);
    } catch (e) {
      this.recordFailure(id, e, signature, Date.now() - started);
    }
  }

  /** Input values by port, from the upstream results (a `multiple` port gets them all, in edge order). */
  private gatherInputs(id: NodeId): NodeInputs {
    const inc = incoming(this.run.analysis.edges, id);
    const inputs: NodeInputs = {};
    for (const p of this.checked(id).def.inputs) {
      const vals = (inc.get(p.name) ?? []).map((e) => {
        const v = this.results.get(nodeId(e.from.node))!.outputs[e.from.port];
        if (!v) throw new Error(`upstream node ${e.from.node} produced no "${e.from.port}" output`);
        return v;
      });
      if (p.multiple) inputs[p.name] = vals;
      else if (vals[0]) inputs[p.name] = vals[0];
    }
    return inputs;
  }

  /**
   * A twin node (same signature) already computing in this run, whose result to wait for rather than computing
   * again. Synchronous on purpose: with no twin, the claim in produceOnce must follow without an await between.
   */
  private twinOf(id: NodeId, sig: Signature): Promise<ArtifactRecord | null> | null {
    const twin = this.checked(id).def.cacheable !== false ? this.computing.get(sig) : undefined;
    return twin ? twin.catch(() => null) : null;
  }

  /**
   * The stored artifact if there is one (with noCache, only what this run computed itself), else computed. A
   * claim on the signature is held meanwhile, set before the first await, so a twin that starts now waits for
   * this result instead of producing it too.
   */
  private async produceOnce(id: NodeId, sig: Signature, inputs: NodeInputs, started: number): Promise<{ rec: ArtifactRecord; cached: boolean }> {
    const cacheable = this.checked(id).def.cacheable !== false;
    let settle!: { resolve: (r: ArtifactRecord) => void; reject: (e: unknown) => void };
    const claim = new Promise<ArtifactRecord>((resolve, reject) => (settle = { resolve, reject }));
    claim.catch(() => undefined);
    if (cacheable) this.computing.set(sig, claim);
    try {
      const r = cacheable ? await this.reuseOrCompute(id, sig, inputs, started) : { rec: await this.compute(id, sig, inputs, started), cached: false };
      settle.resolve(r.rec);
      if (!r.cached) this.computedThisRun.add(sig);
      return r;
    } catch (e) {
      settle.reject(e);
      throw e;
    } finally {
      if (this.computing.get(sig) === claim) this.computing.delete(sig);
    }
  }

  /**
   * The stored artifact if it is intact by its sizes (with noCache, only one this run computed itself); else,
   * holding the signature's lock (after waiting for another process computing it), the artifact that process
   * published, or a fresh one computed here.
   */
  private async reuseOrCompute(id: NodeId, sig: Signature, inputs: NodeInputs, started: number): Promise<{ rec: ArtifactRecord; cached: boolean }> {
    const reuse = !this.run.noCache || this.computedThisRun.has(sig);
    if (reuse) {
      const hit = await this.storedArtifact(id, sig, false);
      if (hit) return { rec: hit, cached: true };
    }
    const lock = await this.lock(id, sig);
    try {
      const hit = await this.storedArtifact(id, sig, true);
      if (hit && reuse) {
        if (lock.waitedFor) this.ev('node-log', { node: id, level: 'info', message: `reused what ${describeHolder(lock.waitedFor)} computed meanwhile (waited)` });
        return { rec: hit, cached: true };
      }
      const shared = reuse && (await this.services.remote?.reuse(sig));
      if (shared) {
        this.ev('node-log', { node: id, level: 'info', message: `fetched from the shared store ${this.services.remote!.display} (verified); not recomputed` });
        return { rec: shared, cached: true };
      }
      return { rec: await this.compute(id, sig, inputs, started), cached: false };
    } finally {
      await lock.release();
    }
  }

  /**
   * The cached artifact if its files have their published sizes (a legacy one is manifested now). A damaged one
   * is moved aside and reported when `underLock` (else left for the locked re-check, which does it).
   */
  private async storedArtifact(id: NodeId, sig: Signature, underLock: boolean): Promise<ArtifactRecord | null> {
    const { store } = this.services;
    const c = await store.check(sig, 'sizes');
    if (c.state === 'ok') return c.rec;
    if (c.state === 'legacy') {
      await store.adoptLegacy(sig).then(
        () => this.ev('node-log', { node: id, level: 'info', message: `artifact ${sig.slice(0, 12)} predates store manifests: its manifest was written from its current content` }),
        (e: unknown) => this.ev('node-log', { node: id, level: 'warn', message: `artifact ${sig.slice(0, 12)} predates store manifests and its manifest could not be written: ${errorInfo(e).message}` }),
      );
      return c.rec;
    }
    if (c.state === 'damaged' && underLock) await this.setAside(id, sig, c.problems, 'found on a cache hit');
    return null;
  }

  /** Move a damaged artifact aside and say so in the run's log. */
  private async setAside(id: NodeId, sig: string, problems: string[], how: string): Promise<void> {
    const where = await this.services.store.quarantine(sig, problems, `${how}, run ${this.run.runId}, node ${id}`);
    this.ev('node-log', {
      node: id,
      level: 'warn',
      message: `artifact ${sig.slice(0, 12)} is damaged (${how}): ${problems.join('; ')}. Moved to ${where ?? '(already gone)'}; recomputing it`,
    });
  }

  /** The signature's lock in the store; the wait (another process computing it) is reported in the log. */
  private lock(id: NodeId, sig: string): Promise<HeldLock> {
    return this.services.locks.acquire(sig, {
      note: `run ${this.run.runId}, node ${id}`,
      onWait: (h) => this.ev('node-log', { node: id, level: 'info', message: `waiting for ${describeHolder(h)}, which is computing this node's result` }),
      onStale: (h) => this.ev('node-log', { node: id, level: 'warn', message: `took over the store lock of ${describeHolder(h)}, which no longer runs` }),
      checkCancelled: () => {
        if (this.run.cancelRequested) throw new TaskError({ message: 'cancelled while waiting for another process', code: 'cancelled' }, true);
      },
    });
  }

  /**
   * Check byte for byte every store artifact `id` reads (its inputs, and the artifacts they point into), once a
   * run. A damaged or missing one is moved aside and recomputed by the node of this run that produces it.
   */
  private async verifyInputs(id: NodeId, inputs: NodeInputs): Promise<void> {
    for (const sig of storeArtifactsIn(inputs)) {
      if (this.verified.has(sig)) continue;
      let p = this.verifying.get(sig);
      if (!p) {
        p = this.verifyInput(id, sig).then(() => void this.verified.add(sig));
        const mine = p;
        this.verifying.set(sig, mine);
        void mine.catch(() => undefined).finally(() => this.verifying.get(sig) === mine && this.verifying.delete(sig));
      }
      await p;
    }
  }

  private async verifyInput(reader: NodeId, sig: string): Promise<void> {
    const { store } = this.services;
    const first = await store.check(sig, 'full');
    if (first.state === 'ok' || first.state === 'legacy') return;
    const producer = [...this.results.entries()].find(([, r]) => r.signature === sig)?.[0];
    const lock = await this.lock(producer ?? reader, sig);
    try {
      const c = await store.check(sig, 'full');
      if (c.state === 'ok' || c.state === 'legacy') return; // repaired meanwhile by another process
      const problems = c.state === 'damaged' ? c.problems : ['the artifact is gone (removed by `loram cache gc` or by hand)'];
      if (c.state === 'damaged') await this.setAside(producer ?? reader, sig, problems, `found when ${reader} read it`);
      else this.ev('node-log', { node: producer ?? reader, level: 'warn', message: `artifact ${sig.slice(0, 12)}, which ${reader} reads, is gone; recomputing it` });
      if (!producer) throw new Error(`input artifact ${sig.slice(0, 12)} is damaged or missing (${problems.join('; ')}) and no node of this run produces it; run again`);
      const t0 = Date.now();
      const rec = await this.compute(producer, sig as Signature, this.gatherInputs(producer), t0);
      this.computedThisRun.add(sig as Signature);
      this.recordDone(producer, sig as Signature, rec, Date.now() - t0);
    } finally {
      await lock.release();
    }
  }

  /** Run the node in a worker here or on a remote one; the store publishes its directory only if it succeeds. */
  private async compute(id: NodeId, sig: Signature, inputs: NodeInputs, started: number): Promise<ArtifactRecord> {
    const { run, services } = this;
    const c = this.checked(id);
    await this.verifyInputs(id, inputs);
    this.ev('node-started', { node: id, nodeType: c.def.type, signature: sig });
    const fileHashes = await fileHashesOf(c, run.baseDir, services.hasher);
    const task: NodeTask = { nodeId: id, type: c.def.type, params: c.params!, inputs, signature: sig, baseDir: run.baseDir, fileHashes, sources: sourcesOf(run.analysis, id) };
    const handlers: TaskHandlers = {
      onProgress: (step, total, metrics) => this.ev('node-progress', { node: id, step, total, ...(metrics ? { metrics } : {}) }),
      onLog: (level, message) => this.ev('node-log', { node: id, level, message }),
    };
    const rec = await (services.remote ? this.computeRemotely(id, task, handlers) : produceNode(c.def, task, { store: services.store, pool: services.executor, runId: run.runId, started, handlers })).catch(
      (e: unknown) => {
        throw diskFull(e) ? new DiskFullError(id, services.store.dir, e) : e;
      },
    );
    this.verified.add(sig);
    return rec;
  }

  private async computeRemotely(id: NodeId, task: NodeTask, handlers: TaskHandlers): Promise<ArtifactRecord> {
    const remote = this.services.remote!;
    const onWorker = (name: string) => {
      this.workerOf.set(id, name);
      this.ev('node-log', { node: id, level: 'info', message: `running on worker ${name} (${remote.display})` });
    };
    const { rec, worker } = await remote.compute(this.run.runId, task, { ...handlers, onWorker });
    this.workerOf.set(id, worker);
    return rec;
  }

  private recordCached(id: NodeId, sig: Signature, rec: ArtifactRecord): void {
    const type = this.checked(id).def.type;
    this.results.set(id, rec);
    this.nodes[id] = { type, status: 'cached', signature: sig, metrics: rec.metrics, outputs: rec.outputs };
    this.ev('node-cached', { node: id, nodeType: type, signature: sig, outputs: rec.outputs, metrics: rec.metrics });
  }

  private recordDone(id: NodeId, sig: Signature, rec: ArtifactRecord, durationMs: number): void {
    const type = this.checked(id).def.type;
    this.results.set(id, rec);
    const worker = this.workerOf.get(id);
    this.nodes[id] = { type, status: 'done', signature: sig, metrics: rec.metrics, outputs: rec.outputs, durationMs, ...(worker ? { worker } : {}) };
    this.ev('node-finished', { node: id, nodeType: type, signature: sig, outputs: rec.outputs, metrics: rec.metrics, durationMs, ...(worker ? { worker } : {}) });
  }

  private recordFailure(id: NodeId, e: unknown, signature: Signature | null, durationMs: number): void {
    const type = this.checked(id).def.type;
    const sig = signature ? { signature } : {};
    if (e instanceof TaskError && e.cancelled) {
      this.cancelledNode ??= id;
      this.nodes[id] = { type, status: 'cancelled', durationMs, ...sig };
      this.stop = true;
      return;
    }
    this.failed = true;
    const error = failureInfo(e);
    this.nodes[id] = { type, status: 'failed', durationMs, error, ...sig };
    this.ev('node-failed', { node: id, nodeType: type, error, durationMs });
  }

  /** The closing event: every planned node has a status; the event is emitted and the run's history finished. */
  private end(durationMs: number): RunEnd {
    const { run, nodes } = this;
    const cancelled = run.cancelRequested;
    for (const id of run.plan) nodes[id] ??= { type: this.checked(id).def.type, status: cancelled ? 'pending' : 'skipped' };
    const end: RunEnd = cancelled
      ? { type: 'run-cancelled', runId: run.runId, time: Date.now(), durationMs, nodes, ...(this.cancelledNode ? { node: this.cancelledNode } : {}) }
      : { type: 'run-finished', runId: run.runId, time: Date.now(), ok: !this.failed, durationMs, nodes };
    return end;
  }

  /** The status the run's history records. */
  get status(): 'cancelled' | 'failed' | 'finished' {
    return this.run.cancelRequested ? 'cancelled' : this.failed ? 'failed' : 'finished';
  }

  get summaries(): Record<string, NodeRunSummary> {
    return this.nodes;
  }
}

function diskFull(e: unknown): boolean {
  const info = e instanceof TaskError ? e.info : errorInfo(e);
  return info.code === 'ENOSPC' || info.code === 'EDQUOT' || /\bENOSPC\b|no space left on device/i.test(info.message);
}

/** A node whose artifact could not be written because the disk is full: nothing of it was published. */
export class DiskFullError extends Error {
  readonly code = 'ENOSPC';
  constructor(node: string, storeDir: string, cause: unknown) {
    super(
      `the disk is full: ${node}'s result could not be written to the artifact store (${storeDir}); nothing of it was published and its partial files were removed. ` +
        `Free some space (\`loram cache gc --max-gib N\` trims the store) and run again. (${(cause instanceof TaskError ? cause.info : errorInfo(cause)).message})`,
    );
    this.name = 'DiskFullError';
  }
}

/** A failure as events report it: the worker's own account of a node's error, else the error itself. */
function failureInfo(e: unknown) {
  return e instanceof TaskError ? (e as TaskErrorType).info : errorInfo(e);
}
