/**
 * Recipe ⇄ React Flow mapping. The recipe is the document; React Flow's nodes and edges are a view of it,
 * decorated with run status and validation errors. Only types are imported from @xyflow/react: this module
 * is plain functions and is unit-tested without a DOM.
 */
import type { Edge, Node } from '@xyflow/react';
import type { Connection, NodeMetrics, NodeSpec, PortSpec, Recipe, RecipeEdge, RecipeNode, ValidationError } from '../../../shared';
import { portColor, type SpecMap } from './catalog';
import type { Position } from './document';
import type { EditorSnapshot } from './controller';
import type { NodeStatus } from './run-state';

export const NODE_TYPE = 'loram';
export const EDGE_TYPE = 'default';

export interface NodeDecoration {
  status: NodeStatus;
  /** Progress of a running node. */
  progress: { step: number; total: number } | null;
  /** Live metrics (e.g. loss) while running, final headline metrics after. */
  metrics: NodeMetrics | null;
  /** The last few values of the live loss, for the card's sparkline. */
  loss: number[] | null;
  /** What a running node is doing before its first step (tokenizing, compiling…). */
  phase: string | null;
  errors: ValidationError[];
  /** True for the target of "run to here" while a run is going on. */
  target?: boolean;
}

export interface NodeCardData extends Record<string, unknown> {
  node: RecipeNode;
  spec: NodeSpec | null;
  deco: NodeDecoration;
  /** Input ports with at least one edge. */
  connectedInputs: string[];
}

export type FlowNode = Node<NodeCardData, typeof NODE_TYPE>;
export interface EdgeData extends Record<string, unknown> {
  portType: string;
  invalid: boolean;
}
export type FlowEdge = Edge<EdgeData>;

export const EMPTY_DECORATION: NodeDecoration = { status: 'idle', progress: null, metrics: null, loss: null, phase: null, errors: [] };

/** The ports of a node kind, or stand-ins taken from the edges when the kind is unknown (so edges still draw). */
export function portsOf(node: RecipeNode, spec: NodeSpec | null, doc: Recipe): { inputs: PortSpec[]; outputs: PortSpec[] } {
  if (spec) return { inputs: spec.inputs, outputs: spec.outputs };
  const ins = new Set<string>();
  const outs = new Set<string>();
  for (const e of doc.edges) {
    if (e.to.node === node.id) ins.add(e.to.port);
    if (e.from.node === node.id) outs.add(e.from.port);
  }
  const stub = (name: string): PortSpec => ({ name, title: name, type: 'model' });
  return { inputs: [...ins].map(stub), outputs: [...outs].map(stub) };
}

export function recipeToFlowNodes(doc: Recipe, specs: SpecMap, decorate: (id: string) => NodeDecoration = () => EMPTY_DECORATION): FlowNode[] {
  const connected = new Map<string, string[]>();
  for (const e of doc.edges) {
    const l = connected.get(e.to.node);
    if (l) {
      if (!l.includes(e.to.port)) l.push(e.to.port);
    } else connected.set(e.to.node, [e.to.port]);
  }
  return doc.nodes.map((n) => ({
    id: n.id,
    type: NODE_TYPE,
    position: { x: n.position.x, y: n.position.y },
    data: { node: n, spec: specs.get(n.type) ?? null, deco: decorate(n.id), connectedInputs: (connected.get(n.id) ?? []).sort() },
  }));
}

export function recipeToFlowEdges(doc: Recipe, specs: SpecMap, selected: ReadonlySet<string> = new Set(), invalidEdges: ReadonlySet<string> = new Set()): FlowEdge[] {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  return doc.edges.map((e) => {
    const from = byId.get(e.from.node);
    const spec = from ? specs.get(from.type) : undefined;
    const portType = spec?.outputs.find((p) => p.name === e.from.port)?.type ?? 'unknown';
    const invalid = invalidEdges.has(e.id);
    return {
      id: e.id,
      type: EDGE_TYPE,
      source: e.from.node,
      sourceHandle: e.from.port,
      target: e.to.node,
      targetHandle: e.to.port,
      selected: selected.has(e.id),
      data: { portType, invalid },
      style: { stroke: invalid ? 'var(--danger)' : portColor(portType), strokeWidth: selected.has(e.id) ? 3 : 2 },
      className: `edge-${portType}${invalid ? ' edge-invalid' : ''}`,
    };
  });
}

export function recipeToFlow(doc: Recipe, specs: SpecMap): { nodes: FlowNode[]; edges: FlowEdge[] } {
  return { nodes: recipeToFlowNodes(doc, specs), edges: recipeToFlowEdges(doc, specs) };
}

/** React Flow's connection (source/target + handles) → the recipe's connection. */
export function connectionFromFlow(c: { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }): Connection | null {
  if (!c.sourceHandle || !c.targetHandle) return null;
  return { from: { node: c.source, port: c.sourceHandle }, to: { node: c.target, port: c.targetHandle } };
}

/** The positions of flow nodes, by id (what a finished drag commits). */
export function positionsOf(nodes: readonly Pick<FlowNode, 'id' | 'position'>[]): Record<string, Position> {
  return Object.fromEntries(nodes.map((n) => [n.id, { x: n.position.x, y: n.position.y }]));
}

/** The recipe with the flow's node positions and edge list (for code that edits the flow directly). */
export function flowToRecipe(base: Recipe, nodes: readonly FlowNode[], edges: readonly Pick<FlowEdge, 'id' | 'source' | 'sourceHandle' | 'target' | 'targetHandle'>[]): Recipe {
  const pos = positionsOf(nodes);
  const keep = new Set(nodes.map((n) => n.id));
  const recipeNodes = base.nodes
    .filter((n) => keep.has(n.id))
    .map((n) => {
      const p = pos[n.id]!;
      return p.x === n.position.x && p.y === n.position.y ? n : { ...n, position: { x: Math.round(p.x), y: Math.round(p.y) } };
    });
  const recipeEdges: RecipeEdge[] = [];
  for (const e of edges) {
    const c = connectionFromFlow(e);
    if (c) recipeEdges.push({ id: e.id, ...c });
  }
  return { ...base, nodes: recipeNodes, edges: recipeEdges };
}

function sameDeco(a: NodeDecoration, b: NodeDecoration): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Merge freshly mapped nodes into the previous flow nodes: keeps React Flow's own state (measured size,
 * selection, the position of a node being dragged) and returns the previous object when nothing changed, so
 * React Flow does not re-measure or re-render untouched nodes.
 */
export function syncFlowNodes(prev: readonly FlowNode[], next: readonly FlowNode[]): FlowNode[] {
  const old = new Map(prev.map((n) => [n.id, n]));
  let changed = prev.length !== next.length;
  const out = next.map((n, i) => {
    const p = old.get(n.id);
    if (!p) {
      changed = true;
      return n;
    }
    const position = p.dragging ? p.position : n.position;
    const same =
      !!p.selected === !!n.selected &&
      !!p.hidden === !!n.hidden &&
      p.position.x === position.x &&
      p.position.y === position.y &&
      p.data.node === n.data.node &&
      p.data.spec === n.data.spec &&
      p.data.connectedInputs.join(',') === n.data.connectedInputs.join(',') &&
      sameDeco(p.data.deco, n.data.deco);
    if (same) {
      if (prev[i] !== p) changed = true;
      return p;
    }
    changed = true;
    return { ...p, position, data: n.data, selected: !!n.selected, hidden: !!n.hidden };
  });
  return changed ? out : (prev as FlowNode[]);
}

/** What each node card shows: status, progress or phase, live or final metrics, problems. */
export function nodeDecorations(snap: EditorSnapshot): Map<string, NodeDecoration> {
  const out = new Map<string, NodeDecoration>();
  const errs = new Map<string, EditorSnapshot['errors']>();
  for (const e of [...snap.errors]) {
    if (!e.node) continue;
    const l = errs.get(e.node);
    if (l) l.push(e);
    else errs.set(e.node, [e]);
  }
  const showRun = !snap.historical;
  for (const n of snap.doc.nodes) {
    const r = showRun ? snap.cardRun.nodes[n.id] : undefined;
    const status = snap.statuses[n.id] ?? 'idle';
    const lossSeries = r?.series.loss;
    out.set(n.id, {
      status,
      progress: status === 'running' && r?.total ? { step: r.step ?? 0, total: r.total } : null,
      metrics: status === 'running' ? (r?.live ?? null) : status === 'done' || status === 'cached' ? (r?.metrics ?? null) : null,
      loss: status === 'running' && lossSeries && lossSeries.length > 1 ? lossSeries.slice(-40).map((p) => p.value) : null,
      phase: status === 'running' ? (r?.phase ?? null) : null,
      errors: errs.get(n.id) ?? [],
      ...(snap.running && snap.cardRun.to === n.id ? { target: true } : {}),
    });
  }
  return out;
}
