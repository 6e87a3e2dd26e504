/**
 * One node job on a worker, as named steps:
 *   refuse other code → say who took it → reuse what the shared store has → fetch the inputs (verified) → check
 *   the recipe's files are here, byte for byte → compute into the local store (produceNode, the local engine's
 *   own path) → publish to the shared store (visible only once complete and verified).
 * Errors are sorted for BullMQ: a node's own failure and a cancel fail the job for good (a retry would fail the
 * same way, or run what the user stopped); trouble with the store or with this machine is retried, on this or
 * another worker.
 */
import path from 'node:path';
import type { NodeInputs } from '../../nodes/definition';
import type { NodeRegistry } from '../../nodes/registry';
import type { TaskHandlers, WorkerPool } from '../executor';
import { TaskError } from '../executor';
import type { FileHasher } from '../hash';
import { storeArtifactsIn } from '../location';
import { produceNode } from '../produce-node';
import type { ArtifactStore } from '../store';
import type { SignatureLocks } from '../store-lock';
import { CANCELLED_PREFIX, type JobEvent, type NodeJob, type NodeJobResult } from './protocol';
import type { RemoteStore } from './remote-store';

export interface JobRunnerDeps {
  name: string;
  codeVersion: string;
  local: ArtifactStore;
  /** The local store's signature locks: two jobs of this worker never fetch or compute one artifact at once. */
  locks: SignatureLocks;
  shared: RemoteStore;
  pool: WorkerPool;
  registry: NodeRegistry;
  hasher: FileHasher;
}

/** A failure retrying cannot fix (BullMQ's UnrecoverableError is made from it by the caller). */
export class FinalJobError extends Error {
  override name = 'FinalJobError';
}

export async function runNodeJob(deps: JobRunnerDeps, job: NodeJob, attempt: number, emit: (e: JobEvent) => void, signal: AbortSignal): Promise<NodeJobResult> {
  refuseOtherCode(deps, job);
  emit({ kind: 'started', worker: deps.name, attempt });
  if (attempt > 1) emit({ kind: 'log', level: 'warn', message: `attempt ${attempt} (an earlier attempt failed or its worker was lost); computing from scratch on ${deps.name}` });
  if (await deps.shared.has(job.signature)) {
    emit({ kind: 'log', level: 'info', message: `the shared store already has this result; ${deps.name} did not recompute it` });
    return { worker: deps.name, reused: true };
  }
  const def = deps.registry.get(job.type);
  if (!def) throw new FinalJobError(`worker ${deps.name} has no node type "${job.type}"`);
  await fetchInputs(deps, job, signal);
  await checkRecipeFiles(deps, job);
  const handlers: TaskHandlers = {
    onProgress: (step, total, metrics) => emit({ kind: 'progress', step, total, ...(metrics ? { metrics } : {}) }),
    onLog: (level, message) => emit({ kind: 'log', level, message }),
  };
  await locked(deps, job.signature, signal, async () => {
    if ((await deps.local.check(job.signature, 'full')).state === 'ok') return; // computed here before: publish that
    try {
      await produceNode(def, { ...job, inputs: job.inputs as NodeInputs }, { store: deps.local, pool: deps.pool, runId: job.runId, started: Date.now(), handlers, signal });
    } catch (e) {
      throw asJobError(e, signal);
    }
  });
  if (signal.aborted) throw new FinalJobError(`${CANCELLED_PREFIX}${String(signal.reason ?? 'by the submitter')}`);
  await deps.shared.publish(job.signature, deps.local.pathOf(job.signature), { signal });
  return { worker: deps.name, reused: false };
}

function refuseOtherCode(deps: JobRunnerDeps, job: NodeJob): void {
  if (job.codeVersion === deps.codeVersion) return;
  throw new Error(
    `worker ${deps.name} refused node ${job.nodeId}: it runs LoRAM code version ${deps.codeVersion}, the submitter ${job.codeVersion} (${job.submitter}). ` +
      'Results would not match the submitter\'s own; update the worker (or the submitter) to the same LoRAM checkout and restart it',
  );
}

/** Every store artifact the node reads, from the shared store into the local one (hashes verified on the way). */
async function fetchInputs(deps: JobRunnerDeps, job: NodeJob, signal: AbortSignal): Promise<void> {
  for (const sig of storeArtifactsIn(job.inputs)) {
    if (!(await locked(deps, sig, signal, () => deps.shared.fetchInto(sig, deps.local, { signal })))) {
      throw new Error(`input artifact ${sig.slice(0, 12)} of node ${job.nodeId} is not in the shared store ${deps.shared.display}`);
    }
  }
}

/**
 * The files the recipe points at (a model folder, a dataset) must be on this worker at the same path with the
 * same content (a shared folder, or a copy): the signature was made from the submitter's bytes.
 */
async function checkRecipeFiles(deps: JobRunnerDeps, job: NodeJob): Promise<void> {
  const def = deps.registry.get(job.type)!;
  const refs = def.files?.(job.params as never, { baseDir: job.baseDir }) ?? [];
  for (const f of refs) {
    const want = job.fileHashes[f.field];
    let got: string;
    try {
      got = await deps.hasher.hash(f.path, f.kind);
    } catch (e) {
      throw new FinalJobError(`node ${job.nodeId}, field "${f.field}": ${path.resolve(f.path)} is not on worker ${deps.name} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); put the recipe's files on a folder every worker mounts at the same path`);
    }
    if (want && got !== want) throw new FinalJobError(`node ${job.nodeId}, field "${f.field}": ${f.path} on worker ${deps.name} differs from the submitter's copy (content ${got.slice(0, 12)} vs ${want.slice(0, 12)})`);
  }
}

async function locked<T>(deps: JobRunnerDeps, sig: string, signal: AbortSignal, body: () => Promise<T>): Promise<T> {
  const lock = await deps.locks.acquire(sig, {
    note: `worker ${deps.name}`,
    checkCancelled: () => {
      if (signal.aborted) throw new FinalJobError(`${CANCELLED_PREFIX}${String(signal.reason ?? 'by the submitter')}`);
    },
  });
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

function asJobError(e: unknown, signal: AbortSignal): Error {
  if (signal.aborted || (e instanceof TaskError && e.cancelled)) return new FinalJobError(`${CANCELLED_PREFIX}${String(signal.reason ?? (e as Error).message)}`);
  if (e instanceof TaskError) return new FinalJobError(e.info.message);
  return e instanceof Error ? e : new Error(String(e));
}
