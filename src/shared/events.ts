/**
 * Engine events, in the order a run emits them:
 *   run-started → for each planned node: node-cached | (node-started → node-progress* / node-log* →
 *   node-finished | node-failed) → run-finished | run-cancelled.
 * A node whose upstream failed is not started; it appears as `skipped` in the final `nodes` map.
 * Every event carries `runId` and `time` (ms since the epoch). Events are also the run's history
 * (events.jsonl in the run folder).
 */
import type { NodeErrorInfo } from './errors';
import type { MetricScalar, PortValue } from './ports';

export type NodeMetrics = Record<string, MetricScalar>;
export type NodeOutputs = Record<string, PortValue>;

export type NodeRunStatus = 'done' | 'cached' | 'failed' | 'skipped' | 'cancelled' | 'pending';

/** One node's outcome, as listed by run-finished / run-cancelled and in metrics.json. */
export interface NodeRunSummary {
  type: string;
  status: NodeRunStatus;
  signature?: string;
  metrics?: NodeMetrics;
  outputs?: NodeOutputs;
  durationMs?: number;
  error?: NodeErrorInfo;
  /** The remote worker that computed it (runs on a queue of workers). */
  worker?: string;
}

interface Base {
  runId: string;
  time: number;
}

export interface RunStartedEvent extends Base {
  type: 'run-started';
  recipeName: string;
  /** Node ids that will run or be reused, in execution order. */
  plan: string[];
  to?: string;
  noCache: boolean;
  /** Where the nodes compute: absent on this machine, else the queue of workers (its URL without password). */
  workers?: string;
}
export interface NodeCachedEvent extends Base {
  type: 'node-cached';
  node: string;
  nodeType: string;
  signature: string;
  outputs: NodeOutputs;
  metrics: NodeMetrics;
}
export interface NodeStartedEvent extends Base {
  type: 'node-started';
  node: string;
  nodeType: string;
  signature: string;
}
export interface NodeProgressEvent extends Base {
  type: 'node-progress';
  node: string;
  step: number;
  total: number;
  /** Live values such as `loss`, `lr`, `tokensPerSec`. */
  metrics?: NodeMetrics;
}
export interface NodeLogEvent extends Base {
  type: 'node-log';
  node: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}
export interface NodeFinishedEvent extends Base {
  type: 'node-finished';
  node: string;
  nodeType: string;
  signature: string;
  outputs: NodeOutputs;
  metrics: NodeMetrics;
  durationMs: number;
  /** The remote worker that computed it (runs on a queue of workers). */
  worker?: string;
}
export interface NodeFailedEvent extends Base {
  type: 'node-failed';
  node: string;
  nodeType: string;
  error: NodeErrorInfo;
  durationMs: number;
}
export interface RunFinishedEvent extends Base {
  type: 'run-finished';
  /** False when any node failed. */
  ok: boolean;
  durationMs: number;
  /** Every planned node: status, metrics and outputs. */
  nodes: Record<string, NodeRunSummary>;
}
export interface RunCancelledEvent extends Base {
  type: 'run-cancelled';
  /** The node that was running when the cancel arrived, if any; it left nothing in the store. */
  node?: string;
  durationMs: number;
  nodes: Record<string, NodeRunSummary>;
}

export type EngineEvent =
  | RunStartedEvent
  | NodeCachedEvent
  | NodeStartedEvent
  | NodeProgressEvent
  | NodeLogEvent
  | NodeFinishedEvent
  | NodeFailedEvent
  | RunFinishedEvent
  | RunCancelledEvent;

export type EngineEventType = EngineEvent['type'];

/** True for the two events that end a run. */
export function isRunEnd(e: EngineEvent): e is RunFinishedEvent | RunCancelledEvent {
  return e.type === 'run-finished' || e.type === 'run-cancelled';
}
