/**
 * How a node kind is defined. One file per kind in this folder; index.ts collects them into the registry the
 * engine and its worker load.
 *
 * A definition is data (type, version, title, category, doc, ports, a zod params schema) plus behaviour:
 * `run(ctx, inputs, params)` does the work by calling src/loram; the optional hooks let the engine check a
 * recipe before anything runs (files read, lineage rules) and key the cache.
 */
import type { z } from 'zod';
import type { Location, NodeCategory, NodeMetrics, PortSpec, PortType, PortValue, PortValueOf } from '../shared';

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
  code: 'lineage' | 'missing-input' | 'invalid-param';
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

export interface NodeDefinition<S extends z.ZodType = z.ZodType> {
  type: string;
  /** Bump when params or behaviour change; add a `migrations` step when params change shape. */
  version: number;
  title: string;
  category: NodeCategory;
  /** One line. */
  doc: string;
  inputs: PortSpec[];
  outputs: PortSpec[];
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
  /** Lineage and conditional-input rules checked before running. Inputs not connected or not known are undefined. */
  staticCheck?(inputs: StaticInputs, params: z.output<S>, self: StaticSelf): StaticIssue[];
  /** The static lineage of each output (default: none, i.e. plain dataset/metrics values). */
  staticOutputs?(inputs: StaticInputs, params: z.output<S>, self: StaticSelf): Record<string, StaticValue | undefined>;
  run(ctx: NodeContext, inputs: NodeInputs, params: z.output<S>): Promise<NodeResult>;
}

/** Identity helper that keeps the params type flowing into `run` and the hooks. */
export function defineNode<S extends z.ZodType>(def: NodeDefinition<S>): NodeDefinition<S> {
  return def;
}

export interface NodeRegistry {
  get(type: string): NodeDefinition | undefined;
  list(): NodeDefinition[];
}

export function makeRegistry(defs: readonly NodeDefinition<any>[]): NodeRegistry {
  const map = new Map<string, NodeDefinition>();
  for (const d of defs) {
    if (map.has(d.type)) throw new Error(`node type "${d.type}" is defined twice`);
    map.set(d.type, d as NodeDefinition);
  }
  return { get: (t) => map.get(t), list: () => [...map.values()] };
}

// ---- errors ---------------------------------------------------------------------------------------------------

export class CancelledError extends Error {
  readonly code = 'cancelled';
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A node whose ML library has not landed yet. It never fakes a result. */
export class NotAvailableError extends Error {
  readonly code = 'not-available';
  constructor(message: string) {
    super(message);
    this.name = 'NotAvailableError';
  }
}

export function notAvailable(node: string, needs: string): never {
  throw new NotAvailableError(`${node} cannot run yet: it needs ${needs}, which has not landed in src/loram. No result was produced.`);
}

/** A rule about the node's inputs broken at run time (e.g. lineage checked on real content hashes). */
export class NodeInputError extends Error {
  constructor(
    message: string,
    readonly code = 'invalid-input',
  ) {
    super(message);
    this.name = 'NodeInputError';
  }
}

// ---- input helpers --------------------------------------------------------------------------------------------

function checkType<T extends PortType>(v: PortValue, port: string, type: T): PortValueOf<T> {
  if (v.type !== type) throw new NodeInputError(`input "${port}" should be a ${type}, got a ${v.type}`);
  return v as PortValueOf<T>;
}

export function requireInput<T extends PortType>(inputs: NodeInputs, port: string, type: T): PortValueOf<T> {
  const v = inputs[port];
  if (v === undefined || Array.isArray(v)) throw new NodeInputError(`input "${port}" is not connected`);
  return checkType(v, port, type);
}

export function optionalInput<T extends PortType>(inputs: NodeInputs, port: string, type: T): PortValueOf<T> | undefined {
  const v = inputs[port];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new NodeInputError(`input "${port}" takes one value`);
  return checkType(v, port, type);
}

export function listInput<T extends PortType>(inputs: NodeInputs, port: string, type: T): PortValueOf<T>[] {
  const v = inputs[port];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => checkType(x, port, type));
}

/** Static helpers for lineage rules. */
export function staticModel(inputs: StaticInputs, port: string): StaticModelLineage | undefined {
  const v = inputs[port];
  return v && !Array.isArray(v) && v.type === 'model' ? v.lineage : undefined;
}
export function staticAdapter(inputs: StaticInputs, port: string): { base: StaticModelLineage; recovered: boolean } | undefined {
  const v = inputs[port];
  return v && !Array.isArray(v) && v.type === 'adapter' ? v : undefined;
}
export function sameLineage(a: StaticModelLineage, b: StaticModelLineage): boolean {
  return a.origin === b.origin && a.chain.length === b.chain.length && a.chain.every((t, i) => t.key === b.chain[i]!.key);
}
export function describeLineage(l: StaticModelLineage): string {
  return [l.originNode, ...l.chain.map((t) => t.node)].join(' → ');
}
