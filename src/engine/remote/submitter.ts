/**
 * The submitting side of a run on workers: each node the engine would compute is enqueued as a BullMQ job
 * (src/engine/remote/protocol.ts); a worker (`loram worker`, node-worker.ts) runs it with the same node code and
 * publishes the artifact to the shared store; this side streams the job's progress and logs back into the run's
 * events, then fetches the artifact into the local store, verified against its manifest, so reports, the editor
 * and later runs read it as they read a local one.
 *
 * Cancel: the run is marked cancelled in Redis (a job not yet started — or retried after a stall — is refused),
 * waiting jobs are removed, and running ones get a message on the cancel channel: the worker aborts the node at
 * its next progress tick, i.e. within one training step.
 */
import os from 'node:os';
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TaskHandlers } from '../executor';
import { TaskError } from '../executor';
import type { RemoteCompute } from '../execute';
import type { NodeTask } from '../produce-node';
import type { ArtifactRecord, ArtifactStore } from '../store';
import { codeVersion } from './code-version';
import { CANCEL_CHANNEL, CANCELLED_PREFIX, cancelledRunKey, jobIdOf, jobProgressSchema, nodeJobResultSchema, QUEUE_NAME, WORKER_KEY_PATTERN, type NodeJob, type WorkerInfo } from './protocol';
import { parseQueueUrl } from './queue-url';
import { openRemoteStore, type RemoteStore } from './remote-store';

export interface WorkersTarget {
  /** redis://[user:pass@]host:port[/db] */
  queue: string;
  /** s3://bucket/prefix or a shared folder */
  store: string;
}

type JobHandlers = TaskHandlers & { onWorker(name: string): void };

/** How long a cancelled job on a silent worker (lost machine) is waited for before the node counts as cancelled. */
const CANCEL_GRACE_MS = 15_000;

export class QueueSubmitter implements RemoteCompute {
  readonly inflight: number;
  private readonly handlers = new Map<string, JobHandlers>();
  private readonly jobsOfRun = new Map<string, Map<string, { job: Job; cancel: (e: TaskError) => void }>>();
  private readonly submissions = new Map<string, number>();

  private constructor(
    readonly display: string,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly redis: Redis,
    readonly shared: RemoteStore,
    private readonly local: ArtifactStore,
  ) {
    const env = Number(process.env.LORAM_QUEUE_INFLIGHT);
    this.inflight = Number.isInteger(env) && env >= 1 ? env : 32;
    events.on('progress', ({ jobId, data }) => this.onProgress(jobId, data));
  }

  /** Connect to the queue and the shared store; fails with a clear message when either cannot be reached. */
  static async open(target: WorkersTarget, local: ArtifactStore, env: NodeJS.ProcessEnv = process.env): Promise<QueueSubmitter> {
    const { connection, display } = parseQueueUrl(target.queue, env);
    const shared = await openRemoteStore(target.store, env);
    const [{ Queue, QueueEvents }, { Redis }] = await Promise.all([import('bullmq'), import('ioredis')]);
    const queue = new Queue(QUEUE_NAME, { connection });
    const events = new QueueEvents(QUEUE_NAME, { connection });
    const redis = new Redis({ ...connection, lazyConnect: true });
    try {
      await withTimeout(Promise.all([queue.waitUntilReady(), events.waitUntilReady(), redis.connect()]), connectTimeoutMs(env), `cannot reach the queue at ${display}`);
    } catch (e) {
      await Promise.allSettled([queue.close(), events.close(), shared.close()]);
      redis.disconnect();
      throw e;
    }
    return new QueueSubmitter(`${display} · store ${shared.display}`, queue, events, redis, shared, local);
  }

  /** The workers connected now (their heartbeats), each with whether it runs this code. */
  async workers(): Promise<(WorkerInfo & { sameCode: boolean })[]> {
    const keys = await this.redis.keys(WORKER_KEY_PATTERN);
    const values = keys.length ? await this.redis.mget(...keys) : [];
    const mine = codeVersion();
    return values.flatMap((v) => {
      try {
        const w = JSON.parse(v ?? '') as WorkerInfo;
        return [{ ...w, sameCode: w.codeVersion === mine }];
      } catch {
        return [];
      }
    });
  }

  /** Run-level warnings before any job is queued: no worker at all, or none with this code. */
  async preflight(): Promise<{ level: 'info' | 'warn'; message: string }[]> {
    const ws = await this.workers();
    const same = ws.filter((w) => w.sameCode);
    if (!ws.length) return [{ level: 'warn', message: `no worker is connected to ${this.display}; the run waits until one starts (\`loram worker --queue … --store …\`)` }];
    const others = ws.filter((w) => !w.sameCode).map((w) => `${w.name} (code ${w.codeVersion})`);
    const msgs: { level: 'info' | 'warn'; message: string }[] = [{ level: 'info', message: `${ws.length} worker(s) connected: ${ws.map((w) => w.name).join(', ')}` }];
    if (others.length) msgs.push({ level: same.length ? 'info' : 'warn', message: `worker(s) ${others.join(', ')} run other code than this submitter (code ${codeVersion()}) and will refuse its jobs` });
    return msgs;
  }

  async reuse(sig: string): Promise<ArtifactRecord | null> {
    if (!(await this.shared.has(sig))) return null;
    return this.fetch(sig);
  }

  async compute(runId: string, task: NodeTask, handlers: JobHandlers): Promise<{ rec: ArtifactRecord; worker: string }> {
    const key = `${runId}\0${task.nodeId}`;
    const repair = this.submissions.get(key) ?? 0;
    this.submissions.set(key, repair + 1);
    const jobId = jobIdOf(runId, task.nodeId, repair);
    const data: NodeJob = { ...task, params: task.params as Record<string, unknown>, inputs: task.inputs as Record<string, unknown>, runId, codeVersion: codeVersion(), submitter: `${os.hostname()}:${process.pid}` };
    this.handlers.set(jobId, handlers);
    try {
      const job = await this.queue.add('node', data, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: 7 * 86400 }, removeOnFail: { age: 7 * 86400 } });
      const result = nodeJobResultSchema.parse(await this.finished(runId, job));
      return { rec: await this.fetch(task.signature), worker: result.worker };
    } finally {
      this.handlers.delete(jobId);
    }
  }

  /** The job's return value; a TaskError when it failed (cancelled when it was cancelled). */
  private finished(runId: string, job: Job): Promise<unknown> {
    const jobs = this.jobsOfRun.get(runId) ?? new Map<string, { job: Job; cancel: (e: TaskError) => void }>();
    this.jobsOfRun.set(runId, jobs);
    let cancel!: (e: TaskError) => void;
    const cancelled = new Promise<never>((_, reject) => (cancel = reject));
    jobs.set(job.id!, { job, cancel });
    const done = job.waitUntilFinished(this.events).catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      if (message.startsWith(CANCELLED_PREFIX)) throw new TaskError({ message, code: 'cancelled' }, true);
      throw new TaskError({ message: `${message} (on a worker of ${this.display})`, name: 'RemoteNodeError' }, false);
    });
    done.catch(() => undefined); // when the cancel wins the race, a later rejection has no reader
    return Promise.race([done, cancelled]).finally(() => jobs.delete(job.id!));
  }

  /** Fetch a published artifact into the local store (hashes verified) and read its record. */
  private async fetch(sig: string): Promise<ArtifactRecord> {
    if (!(await this.shared.fetchInto(sig, this.local))) throw new Error(`artifact ${sig.slice(0, 12)} is not in the shared store ${this.shared.display} although a worker reported it published`);
    const rec = await this.local.read(sig);
    if (!rec) throw new Error(`artifact ${sig.slice(0, 12)} was fetched but its outputs.json is unreadable`);
    return rec;
  }

  async cancelRun(runId: string): Promise<void> {
    await this.redis.set(cancelledRunKey(runId), '1', 'EX', 7 * 86400);
    const jobs = [...(this.jobsOfRun.get(runId)?.values() ?? [])];
    await Promise.all(jobs.map((j) => this.cancelJob(runId, j.job, j.cancel)));
  }

  private async cancelJob(runId: string, job: Job, cancel: (e: TaskError) => void): Promise<void> {
    const removed = await job.remove().then(
      () => true,
      () => false, // active (locked by a worker): it must be stopped by the worker itself
    );
    if (removed) return cancel(new TaskError({ message: 'cancelled before a worker took it', code: 'cancelled' }, true));
    await this.redis.publish(CANCEL_CHANNEL, JSON.stringify({ jobId: job.id, runId, reason: 'cancelled by the submitter' }));
    setTimeout(() => cancel(new TaskError({ message: `cancelled; the worker did not confirm within ${CANCEL_GRACE_MS / 1000} s (it is refused if retried)`, code: 'cancelled' }, true)), CANCEL_GRACE_MS).unref();
  }

  private onProgress(jobId: string, data: unknown): void {
    const h = this.handlers.get(jobId);
    const parsed = jobProgressSchema.safeParse(data);
    if (!h || !parsed.success) return;
    for (const e of parsed.data.events) {
      if (e.kind === 'started') h.onWorker(e.worker);
      else if (e.kind === 'progress') h.onProgress(e.step, e.total, e.metrics);
      else h.onLog(e.level, e.message);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.events.close(), this.shared.close()]);
    this.redis.disconnect();
  }
}

function connectTimeoutMs(env: NodeJS.ProcessEnv): number {
  const v = Number(env.LORAM_QUEUE_CONNECT_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 10_000;
}

/** `p`, or a clear error after `ms` (ioredis retries a dead server forever). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s: is redis-server running there, and are host, port and password right?`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}
