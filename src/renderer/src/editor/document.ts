/**
 * Pure edits of a recipe (the editor's document). Every function returns a new recipe and never mutates its
 * input, so the history can keep old versions by reference and React can compare by identity.
 */
import { checkConnection, type Connection, type NodeSpec, type Recipe, type RecipeEdge, type RecipeNode } from '../../../shared';
import type { SpecMap } from './catalog';

export type Position = { x: number; y: number };

/** `Prune` → `prune`, `LoRA-Train` → `lora-train`: the stem of generated node ids. */
export function idStem(type: string): string {
  const s = type
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-.]+|[-]+$/g, '');
  return s || 'node';
}

/** The first free `<stem><n>` (n ≥ 1) not in `taken`. */
export function freshId(stem: string, taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) {
    const id = `${stem}${n}`;
    if (!taken.has(id)) return id;
  }
}

export function nodeIds(doc: Recipe): Set<string> {
  return new Set(doc.nodes.map((n) => n.id));
}

export function edgeIds(doc: Recipe): Set<string> {
  return new Set(doc.edges.map((e) => e.id));
}

export function nextNodeId(doc: Recipe, type: string): string {
  return freshId(idStem(type), nodeIds(doc));
}

export function nextEdgeId(doc: Recipe): string {
  return freshId('e', edgeIds(doc));
}

function roundPos(p: Position): Position {
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

/** A new node of `spec`'s kind at `position`, with every default parameter filled in. */
export function createNode(doc: Recipe, spec: NodeSpec, position: Position, id = nextNodeId(doc, spec.type)): RecipeNode {
  return { id, type: spec.type, version: spec.version, params: structuredClone(spec.defaults), position: roundPos(position) };
}

export function addNode(doc: Recipe, spec: NodeSpec, position: Position): { doc: Recipe; id: string } {
  const node = createNode(doc, spec, position);
  return { doc: { ...doc, nodes: [...doc.nodes, node] }, id: node.id };
}

/** Remove nodes and edges; edges touching a removed node go too. Unchanged input → same object. */
export function removeElements(doc: Recipe, nodes: Iterable<string>, edges: Iterable<string> = []): Recipe {
  const dn = new Set(nodes);
  const de = new Set(edges);
  if (dn.size === 0 && de.size === 0) return doc;
  const keptNodes = doc.nodes.filter((n) => !dn.has(n.id));
  const keptEdges = doc.edges.filter((e) => !de.has(e.id) && !dn.has(e.from.node) && !dn.has(e.to.node));
  if (keptNodes.length === doc.nodes.length && keptEdges.length === doc.edges.length) return doc;
  return { ...doc, nodes: keptNodes, edges: keptEdges };
}

export type ConnectOutcome = { ok: true; doc: Recipe; edge: RecipeEdge } | { ok: false; code: string; reason: string };

/** Add an edge if the shared connection rule accepts it; otherwise say why not. */
export function connect(doc: Recipe, conn: Connection, specs: SpecMap): ConnectOutcome {
  const r = checkConnection(conn, doc, specs);
  if (!r.ok) return { ok: false, code: r.code, reason: r.reason };
  const edge: RecipeEdge = { id: nextEdgeId(doc), from: { ...conn.from }, to: { ...conn.to } };
  return { ok: true, doc: { ...doc, edges: [...doc.edges, edge] }, edge };
}

/** Move nodes; positions are rounded to whole pixels (clean diffs). Nothing moved → same object. */
export function moveNodes(doc: Recipe, positions: Readonly<Record<string, Position>>): Recipe {
  let changed = false;
  const nodes = doc.nodes.map((n) => {
    const p = positions[n.id];
    if (!p) return n;
    const r = roundPos(p);
    if (r.x === n.position.x && r.y === n.position.y) return n;
    changed = true;
    return { ...n, position: r };
  });
  return changed ? { ...doc, nodes } : doc;
}

function updateNode(doc: Recipe, id: string, f: (n: RecipeNode) => RecipeNode): Recipe {
  let changed = false;
  const nodes = doc.nodes.map((n) => {
    if (n.id !== id) return n;
    const m = f(n);
    if (m !== n) changed = true;
    return m;
  });
  return changed ? { ...doc, nodes } : doc;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Set one parameter; `undefined` removes it (the schema default applies). Same value → same object. */
export function setParam(doc: Recipe, id: string, key: string, value: unknown): Recipe {
  return updateNode(doc, id, (n) => {
    const has = Object.prototype.hasOwnProperty.call(n.params, key);
    if (value === undefined) {
      if (!has) return n;
      const params = { ...n.params };
      delete params[key];
      return { ...n, params };
    }
    if (has && sameValue(n.params[key], value)) return n;
    return { ...n, params: { ...n.params, [key]: value } };
  });
}

/** Set the display label; an empty label removes it. */
export function setLabel(doc: Recipe, id: string, label: string): Recipe {
  return updateNode(doc, id, (n) => {
    const l = label.trim() ? label : undefined;
    if (l === n.label) return n;
    const { label: _old, ...rest } = n;
    return l === undefined ? rest : { ...rest, label: l };
  });
}

export function setRecipeName(doc: Recipe, name: string): Recipe {
  return name === doc.name ? doc : { ...doc, name };
}

export function setRecipeDescription(doc: Recipe, description: string): Recipe {
  if ((doc.description ?? '') === description) return doc;
  const { description: _d, ...rest } = doc;
  return description ? { ...rest, description } : rest;
}

/** Display name of a node: its label, else its id. */
export function nodeName(n: Pick<RecipeNode, 'id' | 'label'>): string {
  return n.label?.trim() ? n.label : n.id;
}

export function findNode(doc: Recipe, id: string): RecipeNode | undefined {
  return doc.nodes.find((n) => n.id === id);
}
