/**
 * What a submitter and a worker exchange through Redis: the job (one node of one run), its result, the progress
 * stream and the cancel channel. Job data is checked with zod on the worker: it comes from a shared Redis, and a
 * job from another LoRAM version must fail with a message, not half-run.
 */
import { z } from 'zod';
import type { NodeMetrics } from '../../shared';

/** BullMQ's queue for node jobs, and the prefix of LoRAM's own keys next to it. */
export const QUEUE_NAME = 'loram-nodes';
export const KEY_PREFIX = 'loram';
/** Pub/sub channel: `{ jobId, runId, reason }` — the worker running that job aborts it. */
export const CANCEL_CHANNEL = `${KEY_PREFIX}:cancel`;
/** Set when a run is cancelled: its jobs still waiting (or retried after a stall) are refused, not started. */
export const cancelledRunKey = (runId: string) => `${KEY_PREFIX}:cancelled-run:${runId}`;
/** A worker's heartbeat (JSON WorkerInfo, expiring): who is connected, with which code. */
export const workerKey = (name: string) => `${KEY_PREFIX}:worker:${name}`;
export const WORKER_KEY_PATTERN = `${KEY_PREFIX}:worker:*`;

const metrics = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]));

export const nodeJobSchema = z.object({
  runId: z.string().min(1).max(128),
  nodeId: z.string().min(1).max(256),
  type: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string(), z.unknown()),
  signature: z.string().regex(/^[0-9a-f]{16,128}$/),
  baseDir: z.string(),
  fileHashes: z.record(z.string(), z.string()),
  sources: z.record(z.string(), z.array(z.object({ node: z.string(), port: z.string(), label: z.string() }))),
  codeVersion: z.string().min(1),
  submitter: z.string(),
});
export type NodeJob = z.infer<typeof nodeJobSchema>;

export const nodeJobResultSchema = z.object({
  worker: z.string(),
  /** True when the store already had the artifact (published by another run or worker): nothing was computed. */
  reused: z.boolean(),
});
export type NodeJobResult = z.infer<typeof nodeJobResultSchema>;

/** What a worker streams while a job runs (batched into one BullMQ progress update). */
export type JobEvent =
  | { kind: 'started'; worker: string; attempt: number }
  | { kind: 'progress'; step: number; total: number; metrics?: NodeMetrics }
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export const jobProgressSchema = z.object({
  events: z.array(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('started'), worker: z.string(), attempt: z.number() }),
      z.object({ kind: z.literal('progress'), step: z.number(), total: z.number(), metrics: metrics.optional() }),
      z.object({ kind: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
    ]),
  ),
});

export interface WorkerInfo {
  name: string;
  codeVersion: string;
  host: string;
  pid: number;
  concurrency: number;
  since: number;
}

/** Marks a failure the worker reports as a cancel (the submitter turns it back into a cancelled node). */
export const CANCELLED_PREFIX = 'cancelled: ';

/**
 * A job id per (run, node, attempt of the engine): BullMQ refuses a second job with an id it holds, so a node is
 * enqueued once per run even if the submitter retries the add. Ids must not contain ':' (BullMQ's key separator).
 */
export function jobIdOf(runId: string, nodeId: string, repair: number): string {
  const safe = /^[\w.-]{1,100}$/.test(nodeId) ? nodeId : `n${Buffer.from(nodeId).toString('hex').slice(0, 96)}`;
  return `${runId}.${safe}${repair ? `.repair${repair}` : ''}`;
}
