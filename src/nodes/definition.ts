/**
 * How a node kind is defined. One file per kind in this folder; index.ts collects them into the registry the
 * engine and its worker load.
 *
 * A definition is data (type, version, title, category, doc, ports, a zod params schema) plus behaviour:
 * `run(ctx, inputs, params)` does the work by calling src/loram; the optional hooks let the engine check a
 * recipe before anything runs (files read, lineage rules) and key the cache.
 */
import type { z } from 'zod';
import type { Location, NodeMetrics, NodeSpec, PortValue } from '../shared';
import type { LineageInputs, LineageIssue } from './lineage';

/** What a running node can use. */
export interface NodeContext {
  nodeId: string;
  /** The node's cache signature (also the id of the artifact it is producing). */
  signature: string;
  /**
   * The node's artifact directory, still temporary: write outputs here; the engine publishes it atomically when
   * `run` resolves and deletes it when `run` throws or is cancelled.
   */
  outDir: string;
  /** Aborted when the run is cancelled. */
  signal: AbortSignal;
  /**
   * Report progress (e.g. after each training step); also the cancellation point: throws CancelledError once the
   * run is cancelled. Await it: it yields so a cancel request can arrive.
   */
  progress(step: number, total: number, metrics?: NodeMetrics): Promise<void>;
  log(message: string, level?: 'info' | 'warn' | 'error'): void;
  /** The location of `relPath` inside this node's artifact (for output port values). */
  output(relPath?: string): Location;
  /** The absolute path of a location (an input's files). */
  resolve(location: Location): string;
  /** Folder relative paths in params are resolved against (the recipe's folder). */
  baseDir: string;
  /** A folder for caches shared between nodes and runs (e.g. ONNX exports by content hash); not an artifact. */
  cacheDir: string;
  /** Content hash of each file/dir declared by `files`, by field name. */
  fileHashes: Record<string, string>;
  /** For each input port, the upstream node (id and display label) of each value, in input order. */
  sources: Record<string, { node: string; port: string; label: string }[]>;
}

/** Input values by port name; a `multiple` port gets an array. */
export type NodeInputs = Record<string, PortValue | PortValue[] | undefined>;

export interface NodeResult {
  outputs: Record<string, PortValue>;
  /** Headline scalars shown in the UI and listed by `run-finished`. */
  metrics?: NodeMetrics;
}

/** A file or directory a node reads, declared so validation can check it exists and the cache can hash it. */
export interface FileRef {
  /** The param it comes from, e.g. "path" (reported as `params.path`). */
  field: string;
  path: string;
  kind: 'file' | 'dir';
  /** Files inside a dir that must exist, e.g. ["config.json"]. */
  required?: string[];
  /** Shown in the missing-file error. */
  hint?: string;
}

// ---- static (pre-run) lineage -------------------------------------------------------------------------------

/** One transform on the way from the original model, identified by the static key of the node that applied it. */
export interface StaticTransform {
  node: string;
  kind: 'prune' | 'align' | 'quantize' | 'merge';
  /** Equal keys ⇔ identical nodes with identical upstream (so twin branches compare equal). */
  key: string;
  structured?: boolean;
}
export interface StaticModelLineage {
  /** Static key of the Load node. */
  origin: string;
  originNode: string;
  chain: StaticTransform[];
}
export type StaticValue =
  | { type: 'model'; lineage: StaticModelLineage }
  | { type: 'adapter'; base: StaticModelLineage; recovered: boolean }
  | { type: 'dataset' }
  | { type: 'metrics' };
export type StaticInputs = Record<string, StaticValue | StaticValue[] | undefined>;

export interface StaticIssue {
  code: 'missing-input' | 'invalid-param';
  /** e.g. "inputs.model" or "params.ratio". */
  field: string | null;
  message: string;
}

export interface StaticSelf {
  id: string;
  /** Static key: hash of type, version, params and upstream keys. */
  key: string;
}

// ---- the definition -------------------------------------------------------------------------------------------

export type ParamsMigration = (params: Record<string, unknown>) => Record<string, unknown>;

/** The catalogue fields (type, version, title, category, one-line doc, ports) as NodeSpec has them, plus behaviour. */
export interface NodeDefinition<S extends z.ZodType = z.ZodType> extends Pick<NodeSpec, 'type' | 'title' | 'category' | 'doc' | 'inputs' | 'outputs'> {
  /** Bump when params or behaviour change; add a `migrations` step when params change shape. */
  version: number;
  /** A z.strictObject; every field with a default, range/enum and `.describe()` text where it applies. */
  params: S;
  /** key N: turns params of node version N into version N+1. */
  migrations?: Readonly<Record<number, ParamsMigration>>;
  /** Default true. False: always run (never reuse a cached result). */
  cacheable?: boolean;
  /** The output depends on upstream node ids/labels (Compare labels its rows with them): they join the signature. */
  usesNodeIds?: boolean;
  /** Files and directories read, resolved against baseDir. */
  files?(params: z.output<S>, env: { baseDir: string }): FileRef[];
  /**
   * The lineage rules of the node's inputs, declared once: the validator checks them on static lineages before
   * anything runs, the worker again on the real ones (content hashes) right before `run` (see lineage.ts).
   */
  lineage?(inputs: LineageInputs, params: z.output<S>): LineageIssue[];
  /** Conditional-input rules checked before running. Inputs not connected or not known are undefined. */
  staticCheck?(inputs: StaticInputs, params: z.output<S>, self: StaticSelf): StaticIssue[];
  /** The static lineage of each output (default: none, i.e. plain dataset/metrics values). */
  staticOutputs?(inputs: StaticInputs, params: z.output<S>, self: StaticSelf): Record<string, StaticValue | undefined>;
  run(ctx: NodeContext, inputs: NodeInputs, params: z.output<S>): Promise<NodeResult>;
}

/** Identity helper that keeps the params type flowing into `run` and the hooks. */
export function defineNode<S extends z.ZodType>(def: NodeDefinition<S>): NodeDefinition<S> {
  return def;
}
