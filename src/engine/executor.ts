/**
 * Runs node tasks in a worker thread. One task at a time. Cancel is cooperative (the worker aborts the node's
 * signal, and its next progress tick throws); if the worker has not stopped after `graceMs`, it is terminated
 * and a fresh one is started for the next task.
 */
import { Worker } from 'node:worker_threads';
import type { NodeErrorInfo, NodeMetrics } from '../shared';
import type { NodeResult } from '../nodes/definition';
import type { TaskSpec, WorkerInit, WorkerMessage } from './worker-protocol';

/**
 * The compiled CLI (lib/, plain JavaScript) starts the compiled worker as it is; from the TypeScript sources the
 * worker goes through worker-bootstrap.mjs, which registers tsx first.
 */
const WORKER_ENTRY = import.meta.url.endsWith('.js') ? new URL('./worker.js', import.meta.url) : new URL('./worker-bootstrap.mjs', import.meta.url);

export class TaskError extends Error {
  constructor(
    readonly info: NodeErrorInfo,
    readonly cancelled: boolean,
  ) {
    super(info.message);
    this.name = cancelled ? 'CancelledError' : (info.name ?? 'Error');
  }
}

export interface TaskHandlers {
  onProgress(step: number, total: number, metrics?: NodeMetrics): void;
  onLog(level: 'info' | 'warn' | 'error', message: string): void;
}

interface Pending {
  taskId: number;
  resolve(r: NodeResult): void;
  reject(e: TaskError): void;
  handlers: TaskHandlers;
  cancelTimer?: NodeJS.Timeout;
  cancelled: boolean;
}

export interface ExecutorOptions extends WorkerInit {
  /** Milliseconds a cancelled node gets to stop by itself before the worker is terminated. */
  graceMs: number;
}

export class WorkerExecutor {
  private worker: Worker | null = null;
  private current: Pending | null = null;
  private nextId = 1;
  /** How many workers were terminated (tests look at it). */
  terminations = 0;

  constructor(private readonly opts: ExecutorOptions) {}

  private spawn(): Worker {
    const w = new Worker(WORKER_ENTRY, {
      workerData: { registryModule: this.opts.registryModule, storeDir: this.opts.storeDir, cacheDir: this.opts.cacheDir } satisfies WorkerInit,
    });
    w.on('message', (m: WorkerMessage) => this.onMessage(m));
    w.on('error', (err) => this.onExit(w, `the compute worker crashed: ${err.message}`, err.stack));
    w.on('exit', (code) => this.onExit(w, `the compute worker exited (code ${code})`));
    w.unref();
    return w;
  }

  private onMessage(m: WorkerMessage): void {
    const p = this.current;
    if (!p || m.taskId !== p.taskId) return;
    switch (m.kind) {
      case 'progress':
        p.handlers.onProgress(m.step, m.total, m.metrics);
        break;
      case 'log':
        p.handlers.onLog(m.level, m.message);
        break;
      case 'done':
        this.settle();
        p.resolve(m.result);
        break;
      case 'error':
        this.settle();
        p.reject(new TaskError(m.error, m.cancelled || p.cancelled));
        break;
    }
  }

  private onExit(w: Worker, message: string, stack?: string): void {
    if (this.worker !== w) return;
    this.worker = null;
    const p = this.current;
    if (!p) return;
    this.settle();
    p.reject(new TaskError(p.cancelled ? { message: 'cancelled (worker terminated)', code: 'cancelled' } : { message, stack }, p.cancelled));
  }

  private settle(): void {
    if (this.current?.cancelTimer) clearTimeout(this.current.cancelTimer);
    this.current = null;
    // An idle worker must not keep the process alive; a busy one must (the run is waiting for it).
    this.worker?.unref();
  }

  /** Run one task; rejects with TaskError (cancelled = true when stopped by cancel()). */
  run(task: Omit<TaskSpec, 'taskId'>, handlers: TaskHandlers): Promise<NodeResult> {
    if (this.current) return Promise.reject(new Error('the compute worker is busy'));
    this.worker ??= this.spawn();
    this.worker.ref();
    const taskId = this.nextId++;
    return new Promise<NodeResult>((resolve, reject) => {
      this.current = { taskId, resolve, reject, handlers, cancelled: false };
      this.worker!.postMessage({ kind: 'run', task: { ...task, taskId } });
    });
  }

  /** Ask the running task to stop; terminate the worker if it has not after the grace period. */
  cancel(): void {
    const p = this.current;
    if (!p || p.cancelled) return;
    p.cancelled = true;
    const w = this.worker;
    w?.postMessage({ kind: 'cancel', taskId: p.taskId });
    p.cancelTimer = setTimeout(() => {
      if (this.current !== p || !w) return;
      this.terminations++;
      this.worker = null;
      this.settle();
      // Reject only once the thread is gone, so it cannot write into the node's directory after it is deleted.
      const fail = () => p.reject(new TaskError({ message: `cancelled: the node did not stop within ${this.opts.graceMs} ms, so its worker was terminated`, code: 'cancelled' }, true));
      w.terminate().then(fail, fail);
    }, this.opts.graceMs);
  }

  get busy(): boolean {
    return this.current !== null;
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

/**
 * Several WorkerExecutors, so independent branches of a graph compute at the same time (one node per core).
 * A task waits for a free worker; cancel reaches every busy one.
 */
export class WorkerPool {
  private readonly workers: WorkerExecutor[];
  private readonly waiting: (() => void)[] = [];

  constructor(opts: ExecutorOptions, readonly size: number) {
    if (!(size >= 1)) throw new Error(`worker pool size must be at least 1, got ${size}`);
    this.workers = Array.from({ length: size }, () => new WorkerExecutor(opts));
  }

  /** `signal` cancels this task only (a remote worker runs several jobs; a cancel names one of them). */
  async run(task: Omit<TaskSpec, 'taskId'>, handlers: TaskHandlers, signal?: AbortSignal): Promise<NodeResult> {
    let w = this.workers.find((x) => !x.busy);
    while (!w) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      w = this.workers.find((x) => !x.busy);
    }
    if (signal?.aborted) {
      this.waiting.shift()?.();
      throw new TaskError({ message: 'cancelled before it started', code: 'cancelled' }, true);
    }
    const p = w.run(task, handlers);
    if (signal) {
      const onAbort = () => w.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      const off = () => signal.removeEventListener('abort', onAbort);
      p.then(off, off);
    }
    // Wake a waiter whichever way the task ends; the result itself goes to the caller.
    p.then(() => this.waiting.shift()?.(), () => this.waiting.shift()?.());
    return p;
  }

  cancel(): void {
    for (const w of this.workers) w.cancel();
  }

  get terminations(): number {
    return this.workers.reduce((n, w) => n + w.terminations, 0);
  }

  get busy(): boolean {
    return this.workers.some((w) => w.busy);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.dispose()));
  }
}
