/**
 * `loram worker`: takes node jobs from the queue (BullMQ) and runs them (job-runner.ts) on compute threads, as
 * the local engine does. Around each job: its events are batched into BullMQ progress updates (the submitter
 * streams them), a cancel published for it aborts it, and a heartbeat key says which workers are connected with
 * which code.
 *
 * A worker killed mid-job stops renewing the job's lock; after `lockMs` another worker's stalled check puts the
 * job back in the queue and it runs again there, from scratch. Nothing of the killed attempt is visible: the
 * shared store publishes only complete, verified artifacts.
 */
import os from 'node:os';
import path from 'node:path';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { NodeRegistry } from '../../nodes/registry';
import { WorkerPool } from '../executor';
import { FileHasher } from '../hash';
import { loramHome } from '../home';
import { ArtifactStore } from '../store';
import { SignatureLocks } from '../store-lock';
import { codeVersion } from './code-version';
import { FinalJobError, runNodeJob, type JobRunnerDeps } from './job-runner';
import { CANCEL_CHANNEL, cancelledRunKey, CANCELLED_PREFIX, nodeJobSchema, QUEUE_NAME, workerKey, type JobEvent, type NodeJobResult, type WorkerInfo } from './protocol';
import { parseQueueUrl } from './queue-url';
import { openRemoteStore } from './remote-store';
import { withTimeout } from './submitter';

export interface NodeWorkerOptions {
  queue: string;
  store: string;
  name?: string;
  /** Jobs at once (each on its own compute thread); default 1. */
  concurrency?: number;
  /** The worker's local store and caches (default LORAM_HOME). */
  home?: string;
  /** How long a job's lock lives without renewal: a lost worker's job is retried after about this long. */
  lockMs?: number;
  registry?: NodeRegistry;
  registryModule?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

const HEARTBEAT_MS = 5_000;
const PROGRESS_FLUSH_MS = 250;

export class NodeWorker {
  private heartbeat?: NodeJS.Timeout;
  /** Jobs taken (tests and the CLI's summary read it). */
  taken = 0;
  /** Running jobs: the step each last reported, and the step it was at when a cancel arrived. */
  private readonly running = new Map<string, { lastStep(): number; cancelStep?: number }>();
  private log: (line: string) => void = () => undefined;

  private constructor(
    readonly name: string,
    private readonly worker: Worker,
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly deps: JobRunnerDeps,
    private readonly info: WorkerInfo,
  ) {}

  static async start(opts: NodeWorkerOptions): Promise<NodeWorker> {
    const env = opts.env ?? process.env;
    const { connection, display } = parseQueueUrl(opts.queue, env);
    const home = path.resolve(opts.home ?? loramHome());
    const name = opts.name ?? `${os.hostname()}-${process.pid}`;
    const concurrency = opts.concurrency ?? 1;
    const { registry } = opts.registry ? { registry: opts.registry } : await import('../../nodes/index');
    const { DEFAULT_REGISTRY_MODULE } = await import('../engine');
    const local = new ArtifactStore(home);
    await local.open();
    const hasher = new FileHasher(path.join(home, 'file-hashes.json'));
    await hasher.load();
    const pool = new WorkerPool({ registryModule: opts.registryModule ?? DEFAULT_REGISTRY_MODULE, storeDir: local.dir, cacheDir: path.join(home, 'cache'), graceMs: 10_000 }, concurrency);
    const shared = await openRemoteStore(opts.store, env);
    const deps: JobRunnerDeps = { name, codeVersion: codeVersion(), local, locks: new SignatureLocks(path.join(home, 'locks')), shared, pool, registry, hasher };
    const { Worker } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const redis = new Redis({ ...connection, lazyConnect: true });
    const subscriber = new Redis({ ...connection, lazyConnect: true });
    await withTimeout(Promise.all([redis.connect(), subscriber.connect()]), 10_000, `cannot reach the queue at ${display}`);
    const info: WorkerInfo = { name, codeVersion: deps.codeVersion, host: os.hostname(), pid: process.pid, concurrency, since: Date.now() };
    const lockMs = opts.lockMs ?? 30_000;
    let self!: NodeWorker;
    const worker = new Worker(QUEUE_NAME, (job, _token, signal) => self.process(job, signal), {
      connection,
      concurrency,
      name,
      lockDuration: lockMs,
      stalledInterval: Math.max(1000, Math.round(lockMs / 2)),
      maxStalledCount: 2,
      autorun: false,
    });
    self = new NodeWorker(name, worker, redis, subscriber, deps, info);
    await self.listen(opts.log ?? (() => undefined));
    return self;
  }

  private async listen(log: (line: string) => void): Promise<void> {
    this.log = log;
    await this.subscriber.subscribe(CANCEL_CHANNEL);
    this.subscriber.on('message', (_channel: string, text: string) => {
      try {
        const m = JSON.parse(text) as { jobId?: string; reason?: string };
        const job = m.jobId ? this.running.get(m.jobId) : undefined;
        if (!job || !this.worker.cancelJob(m.jobId!, m.reason ?? 'cancelled by the submitter')) return;
        job.cancelStep = job.lastStep();
        log(`job ${m.jobId}: cancelled by the submitter at step ${job.cancelStep}`);
      } catch {
        // not ours
      }
    });
    this.worker.on('failed', (job, err) => log(`job ${job?.id}: failed: ${err.message}`));
    this.worker.on('completed', (job) => log(`job ${job.id}: done`));
    this.worker.on('error', (err) => log(`queue error: ${err.message}`));
    // Uploads a killed worker left behind (never visible as artifacts) go after a day.
    const swept = await this.deps.shared.sweepStaging().catch((e: Error) => (log(`could not sweep the store's stale uploads: ${e.message}`), 0));
    if (swept) log(`removed ${swept} stale upload(s) from the shared store`);
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch(() => undefined), HEARTBEAT_MS);
    void this.worker.run();
    await this.worker.waitUntilReady();
  }

  private beat(): Promise<unknown> {
    return this.redis.set(workerKey(this.name), JSON.stringify(this.info), 'PX', HEARTBEAT_MS * 3);
  }

  /** BullMQ's processor: one job. */
  private async process(job: Job, signal?: AbortSignal): Promise<NodeJobResult> {
    this.taken++;
    const { UnrecoverableError } = await import('bullmq');
    const parsed = nodeJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`job ${job.id} is not a LoRAM node job this worker understands: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const data = parsed.data;
    if (await this.redis.exists(cancelledRunKey(data.runId))) throw new UnrecoverableError(`${CANCELLED_PREFIX}run ${data.runId} was cancelled before ${this.name} started this node`);
    const stream = progressStream(job);
    const state: { lastStep(): number; cancelStep?: number } = { lastStep: stream.lastStep };
    this.running.set(job.id!, state);
    try {
      return await runNodeJob(this.deps, data, job.attemptsStarted ?? 1, stream.emit, signal ?? new AbortController().signal);
    } catch (e) {
      if (state.cancelStep !== undefined) this.log(`job ${job.id}: stopped at step ${stream.lastStep()} (the cancel arrived at step ${state.cancelStep})`);
      if (e instanceof FinalJobError) throw new UnrecoverableError(e.message);
      throw e;
    } finally {
      this.running.delete(job.id!);
      await stream.flush();
    }
  }

  /** Stop taking jobs; wait for the running ones (or, with `force`, cancel them). */
  async close(force = false): Promise<void> {
    clearInterval(this.heartbeat);
    if (force) this.worker.cancelAllJobs('the worker is shutting down');
    await this.worker.close(force).catch(() => undefined);
    await this.redis.del(workerKey(this.name)).catch(() => undefined);
    await Promise.allSettled([this.deps.pool.dispose(), this.deps.shared.close(), this.deps.hasher.save()]);
    this.redis.disconnect();
    this.subscriber.disconnect();
  }
}

/** A job's events, batched into one progress update per PROGRESS_FLUSH_MS (a small model ticks hundreds of times a second); logs go at once. */
function progressStream(job: Job): { emit(e: JobEvent): void; flush(): Promise<void>; lastStep(): number } {
  let buf: JobEvent[] = [];
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (!buf.length) return sending;
    const events = buf;
    buf = [];
    sending = sending.then(() => job.updateProgress({ events }).catch(() => undefined));
    return sending;
  };
  const emit = (e: JobEvent) => {
    // Every tick goes (the editor's loss curve is drawn from them), in batches.
    if (e.kind === 'progress') last = e.step;
    buf.push(e);
    if (e.kind !== 'progress') void flush();
    else timer ??= setTimeout(() => void flush(), PROGRESS_FLUSH_MS);
  };
  return { emit, flush, lastStep: () => last };
}
