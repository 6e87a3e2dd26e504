/**
 * What the engine's catalogue sends for each node kind. The editor builds its palette (title, category, doc),
 * its handles (inputs, outputs) and its inspector forms (params: JSON Schema with defaults, ranges, enums and
 * descriptions) from these, and `checkConnection` uses them to accept or refuse a connection.
 */
import type { PortType } from './ports';

export const NODE_CATEGORIES = ['model', 'data', 'loram', 'evaluate', 'output'] as const;
export type NodeCategory = (typeof NODE_CATEGORIES)[number];

export interface PortSpec {
  /** Handle id; unique among the node's inputs (resp. outputs). */
  name: string;
  type: PortType;
  title: string;
  doc?: string;
  /** Inputs only: the node runs without it. */
  optional?: boolean;
  /** Inputs only: accepts any number of edges (e.g. Compare's metrics); the node gets an array. */
  multiple?: boolean;
}

/** A JSON Schema (draft 2020-12) object, as produced by zod's `z.toJSONSchema`. */
export type JsonSchema = { [key: string]: unknown };

export interface NodeSpec {
  type: string;
  version: number;
  title: string;
  category: NodeCategory;
  /** One line. */
  doc: string;
  inputs: PortSpec[];
  outputs: PortSpec[];
  /**
   * Parameters as a JSON Schema object (input side: fields with defaults are not `required`). Each property
   * carries `default`, `description`, and `minimum`/`maximum`/`enum` where the schema has them.
   */
  params: JsonSchema;
  /** The full parameter object a new node starts with (every default filled in). */
  defaults: Record<string, unknown>;
  /** False for nodes that always run (their result is never reused from the cache). */
  cacheable: boolean;
}

export function findPort(spec: NodeSpec, side: 'input' | 'output', name: string): PortSpec | undefined {
  return (side === 'input' ? spec.inputs : spec.outputs).find((p) => p.name === name);
}
