/** Messages between the engine (host) and the compute worker. */
import type { NodeErrorInfo, NodeMetrics } from '../shared';
import type { NodeInputs, NodeResult } from '../nodes/definition';

export interface WorkerInit {
  /** Module (file path or URL) exporting `registry: NodeRegistry`. */
  registryModule: string;
  /** Root of the artifact store (to resolve store locations). */
  storeDir: string;
  /** Shared cache folder (NodeContext.cacheDir). */
  cacheDir: string;
}

export interface TaskSpec {
  taskId: number;
  nodeId: string;
  type: string;
  params: Record<string, unknown>;
  inputs: NodeInputs;
  outDir: string;
  signature: string;
  baseDir: string;
  fileHashes: Record<string, string>;
  sources: Record<string, { node: string; port: string; label: string }[]>;
}

export type HostMessage = { kind: 'run'; task: TaskSpec } | { kind: 'cancel'; taskId: number };

export type WorkerMessage =
  | { kind: 'progress'; taskId: number; step: number; total: number; metrics?: NodeMetrics }
  | { kind: 'log'; taskId: number; level: 'info' | 'warn' | 'error'; message: string }
  | { kind: 'done'; taskId: number; result: NodeResult }
  | { kind: 'error'; taskId: number; error: NodeErrorInfo; cancelled: boolean };

/** What crosses to the engine of an error thrown in the worker (and of one the engine itself hits). */
export function errorInfo(e: unknown): NodeErrorInfo {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { message: e.message, name: e.name, stack: e.stack, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { message: String(e) };
}
