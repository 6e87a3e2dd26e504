/**
 * The connection rule: one pure function used by the editor when the user drags a connection and by the engine
 * when it validates a recipe, so both always agree.
 */
import type { ValidationCode } from './errors';
import { findPort, type NodeSpec } from './node-spec';

export interface Connection {
  from: { node: string; port: string };
  to: { node: string; port: string };
}

/** The part of a graph the rule looks at (a Recipe fits, and so do the editor's nodes/edges mapped to it). */
export interface GraphShape {
  nodes: readonly { id: string; type: string }[];
  edges: readonly ({ id?: string } & Connection)[];
}

export type ConnectResult = { ok: true } | { ok: false; code: ValidationCode; reason: string };

export type SpecLookup = ReadonlyMap<string, NodeSpec> | ((type: string) => NodeSpec | undefined);

export interface ConnectOptions {
  /** Ignore this edge (the one being reconnected). */
  ignoreEdge?: string;
}

function lookup(specs: SpecLookup, type: string): NodeSpec | undefined {
  return typeof specs === 'function' ? specs(type) : specs.get(type);
}

/** True when `to` is reachable from `from` along the edges. */
export function reachable(edges: readonly Connection[], from: string, to: string): boolean {
  const out = new Map<string, string[]>();
  for (const e of edges) {
    const l = out.get(e.from.node);
    if (l) l.push(e.to.node);
    else out.set(e.from.node, [e.to.node]);
  }
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === to) return true;
    for (const m of out.get(n) ?? []) {
      if (!seen.has(m)) {
        seen.add(m);
        stack.push(m);
      }
    }
  }
  return false;
}

/**
 * May `conn` be added to `graph`? Checks, in order: both nodes exist, not a self-loop, both kinds known, the
 * output and input ports exist, their types match, the same connection does not exist yet, a single-valued
 * input is still free, and the new edge closes no cycle.
 */
export function checkConnection(conn: Connection, graph: GraphShape, specs: SpecLookup, opts: ConnectOptions = {}): ConnectResult {
  const no = (code: ValidationCode, reason: string): ConnectResult => ({ ok: false, code, reason });
  const fromNode = graph.nodes.find((n) => n.id === conn.from.node);
  const toNode = graph.nodes.find((n) => n.id === conn.to.node);
  if (!fromNode) return no('dangling-edge', `there is no node "${conn.from.node}"`);
  if (!toNode) return no('dangling-edge', `there is no node "${conn.to.node}"`);
  if (fromNode.id === toNode.id) return no('cycle', 'a node cannot feed itself');
  const fromSpec = lookup(specs, fromNode.type);
  const toSpec = lookup(specs, toNode.type);
  if (!fromSpec) return no('unknown-node-type', `unknown node type "${fromNode.type}"`);
  if (!toSpec) return no('unknown-node-type', `unknown node type "${toNode.type}"`);
  const out = findPort(fromSpec, 'output', conn.from.port);
  if (!out) return no('unknown-port', `${fromSpec.title} has no output "${conn.from.port}"`);
  const inp = findPort(toSpec, 'input', conn.to.port);
  if (!inp) return no('unknown-port', `${toSpec.title} has no input "${conn.to.port}"`);
  if (out.type !== inp.type) {
    return no('type-mismatch', `a ${out.type} output cannot feed a ${inp.type} input (${fromSpec.title}.${out.name} → ${toSpec.title}.${inp.name})`);
  }
  const others = graph.edges.filter((e) => opts.ignoreEdge === undefined || e.id !== opts.ignoreEdge);
  const into = others.filter((e) => e.to.node === conn.to.node && e.to.port === conn.to.port);
  if (into.some((e) => e.from.node === conn.from.node && e.from.port === conn.from.port)) {
    return no('duplicate-edge', 'these ports are already connected');
  }
  if (!inp.multiple && into.length > 0) {
    return no('input-already-connected', `input "${inp.name}" of ${toSpec.title} already has a connection (it takes one)`);
  }
  if (reachable(others, conn.to.node, conn.from.node)) {
    return no('cycle', `connecting ${conn.from.node} → ${conn.to.node} would make a cycle`);
  }
  return { ok: true };
}
