/**
 * Recipe validation: every error at once, each with a code, node id, field and message (see shared/errors.ts).
 *
 * Order of checks: structure (parse + migrate) → ids → node kinds, node versions, params → edges (through the
 * shared connection rule, so the editor and the engine agree) → required inputs → cycles → lineage rules (walked
 * statically through the graph) → files. An error on a node does not cascade: nodes downstream of it are not
 * checked against what it would have produced.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkConnection, expandSweeps, foldBranchErrors, formatPath, parseRecipe, parseRecipeText, zodIssues, type NodeSpec, type SweepExpansion, type Recipe, type RecipeEdge, type RecipeNode, type ValidationError } from '../shared';
import { nodeSpec } from '../nodes/catalogue';
import type { NodeDefinition, StaticInputs, StaticValue } from '../nodes/definition';
import { staticLineageInputs } from '../nodes/lineage';
import type { NodeRegistry } from '../nodes/registry';
import { findCycles, incoming, topoOrder } from './graph';
import { hashJson } from './hash';


export interface ValidateEnv {
  registry: NodeRegistry;
  /** Relative paths in params resolve against this (the recipe's folder). */
  baseDir: string;
  /** Check that files nodes read exist (default true). */
  checkFiles?: boolean;
}

export interface CheckedNode {
  node: RecipeNode;
  def: NodeDefinition;
  /** Parsed params (defaults filled), or null when they are invalid. */
  params: Record<string, unknown> | null;
}

export interface Analysis {
  recipe: Recipe | null;
  errors: ValidationError[];
  /** Nodes whose kind is known, by id (first occurrence of a duplicated id). */
  nodes: Map<string, CheckedNode>;
  /** Edges that passed every check. */
  edges: RecipeEdge[];
  /** Topological order of all known nodes, or null when there is a cycle. */
  order: string[] | null;
  /** Static key per node (type, version, params, upstream keys): equal for identical nodes with identical upstream. */
  keys: Map<string, string>;
  /** The recipe as written (with its sweeps); `recipe` is its expansion into branches. */
  source?: Recipe | null;
  sweep?: SweepExpansion;
}

/** Params of a node migrated to its kind's current version; throws a message when impossible. */
export function migrateParams(def: NodeDefinition, version: number, params: Record<string, unknown>): Record<string, unknown> {
  if (version > def.version) throw new Error(`${def.type} version ${version} is newer than this LoRAM Studio knows (${def.version})`);
  let p = params;
  for (let v = version; v < def.version; v++) {
    const step = def.migrations?.[v];
    if (!step) throw new Error(`${def.type} version ${version} cannot be upgraded: no migration from version ${v} to ${v + 1}`);
    p = step(structuredClone(p));
  }
  return p;
}

/** Full analysis of a recipe (object, or JSON text), as named checks. Never throws on bad input. */
export function analyzeRecipe(input: unknown, env: ValidateEnv): Analysis {
  const parsed = typeof input === 'string' ? parseRecipeText(input) : parseRecipe(input);
  const errors = [...parsed.errors];
  if (!parsed.recipe) return { recipe: parsed.recipe, errors, nodes: new Map(), edges: [], order: null, keys: new Map(), source: parsed.recipe };
  // Sweeps expand into ordinary branches first (one pure function, shared with the editor), so every check and
  // every signature below sees plain nodes; errors on a branch's copies fold back onto the node as written.
  const sweep = expandSweeps(parsed.recipe, (t) => env.registry.get(t));
  const recipe = sweep.recipe;
  errors.push(...sweep.errors);
  const s: Checking = { recipe, errors, nodes: new Map(), broken: new Set(parsed.brokenNodes), seenNodes: new Set() };
  checkIds(s);
  checkNodes(s, env.registry);
  const { edges, attempted } = checkEdges(s);
  checkRequiredInputs(s, attempted);
  const order = checkCycles(s, edges);
  const keys = order ? checkLineage(s, edges, order) : new Map<string, string>();
  if (env.checkFiles !== false) checkFiles(s, env.baseDir);
  return { recipe, errors: foldBranchErrors(errors, sweep.origin), nodes: s.nodes, edges, order, keys, source: parsed.recipe, sweep };
}

/** What the checks share: the recipe, the errors found so far, and the nodes that passed so far. */
interface Checking {
  recipe: Recipe;
  errors: ValidationError[];
  /** Nodes whose kind is known, by id (first occurrence of a duplicated id). */
  nodes: Map<string, CheckedNode>;
  /** Nodes already reported (bad structure, unknown kind or version): not reported again through their edges. */
  broken: Set<string>;
  seenNodes: Set<string>;
}

/** Node and edge ids are unique. */
function checkIds(s: Checking): void {
  const dupNodes = new Set<string>();
  for (const n of s.recipe.nodes) {
    if (s.seenNodes.has(n.id)) {
      if (!dupNodes.has(n.id)) s.errors.push({ code: 'duplicate-node-id', node: n.id, field: 'id', message: `two nodes have the id "${n.id}"` });
      dupNodes.add(n.id);
    }
    s.seenNodes.add(n.id);
  }
  const seenEdges = new Set<string>();
  for (const e of s.recipe.edges) {
    if (seenEdges.has(e.id)) s.errors.push({ code: 'duplicate-edge-id', node: null, field: 'edges', edge: e.id, message: `two edges have the id "${e.id}"` });
    seenEdges.add(e.id);
  }
}

/** Each node's kind is known, its version migrates to the current one, its params parse. */
function checkNodes(s: Checking, registry: NodeRegistry): void {
  const known = registry.list().map((d) => d.type);
  for (const n of s.recipe.nodes) {
    if (s.nodes.has(n.id) || s.broken.has(n.id)) continue;
    const def = registry.get(n.type);
    if (!def) {
      s.errors.push({ code: 'unknown-node-type', node: n.id, field: 'type', message: `unknown node type "${n.type}" (known: ${known.join(', ')})` });
      s.broken.add(n.id);
      continue;
    }
    let raw: Record<string, unknown>;
    try {
      raw = migrateParams(def, n.version, n.params);
    } catch (e) {
      s.errors.push({ code: 'unknown-node-version', node: n.id, field: 'version', message: (e as Error).message });
      s.broken.add(n.id);
      continue;
    }
    const r = def.params.safeParse(raw);
    if (!r.success) {
      for (const is of zodIssues(r.error)) {
        const f = formatPath(is.path);
        s.errors.push({ code: 'invalid-param', node: n.id, field: f ? (f.startsWith('[') ? `params${f}` : `params.${f}`) : 'params', message: is.message });
      }
    }
    s.nodes.set(n.id, { node: n, def, params: r.success ? (r.data as Record<string, unknown>) : null });
  }
}

/**
 * Edges, through the shared connection rule (so the editor and the engine agree). Returns the edges that pass,
 * and which inputs had an edge at all (valid or not: a bad edge is not also a missing input).
 */
function checkEdges(s: Checking): { edges: RecipeEdge[]; attempted: Set<string> } {
  const specs = new Map<string, NodeSpec>();
  for (const c of s.nodes.values()) if (!specs.has(c.def.type)) specs.set(c.def.type, nodeSpec(c.def));
  const graphNodes = [...s.nodes.values()].map((c) => ({ id: c.node.id, type: c.def.type }));
  const good: RecipeEdge[] = [];
  const attempted = new Set<string>(); // "node|port"
  for (const e of s.recipe.edges) {
    attempted.add(`${e.to.node}|${e.to.port}`);
    if (!s.nodes.has(e.from.node) || !s.nodes.has(e.to.node)) {
      danglingEdge(s, e);
      continue;
    }
    if (e.from.node === e.to.node) {
      good.push(e); // reported as a cycle
      continue;
    }
    const r = checkConnection(e, { nodes: graphNodes, edges: good }, specs);
    if (r.ok || r.code === 'cycle') {
      good.push(e); // cycles are reported once, naming every node
      continue;
    }
    const fromSide = r.code === 'unknown-port' && !specs.get(s.nodes.get(e.from.node)!.def.type)!.outputs.some((p) => p.name === e.from.port);
    s.errors.push({ code: r.code, node: fromSide ? e.from.node : e.to.node, field: fromSide ? `outputs.${e.from.port}` : `inputs.${e.to.port}`, edge: e.id, message: r.reason });
  }
  return { edges: good, attempted };
}

/** An edge touching a node that does not exist (one already reported, unknown type or bad structure, is not). */
function danglingEdge(s: Checking, e: RecipeEdge): void {
  const missing = [e.from.node, e.to.node].filter((id) => !s.seenNodes.has(id) && !s.broken.has(id));
  if (!missing.length) return;
  const side = !s.seenNodes.has(e.from.node) && !s.broken.has(e.from.node) ? 'from' : 'to';
  const other = side === 'from' ? e.to : e.from;
  s.errors.push({
    code: 'dangling-edge',
    node: s.nodes.has(other.node) ? other.node : null,
    field: s.nodes.has(other.node) ? `${side === 'from' ? 'inputs' : 'outputs'}.${other.port}` : `edges.${e.id}.${side}.node`,
    edge: e.id,
    message: `edge ${e.id} ${side === 'from' ? 'comes from' : 'goes to'} node "${missing[0]}", which does not exist`,
  });
}

function checkRequiredInputs(s: Checking, attempted: Set<string>): void {
  for (const c of s.nodes.values()) {
    for (const p of c.def.inputs) {
      if (p.optional || attempted.has(`${c.node.id}|${p.name}`)) continue;
      s.errors.push({ code: 'missing-input', node: c.node.id, field: `inputs.${p.name}`, message: `input "${p.name}" (${p.type}) is not connected` });
    }
  }
}

/** Every cycle, naming its nodes; the topological order when there is none. */
function checkCycles(s: Checking, edges: RecipeEdge[]): string[] | null {
  const ids = [...s.nodes.keys()];
  for (const cyc of findCycles(ids, edges)) {
    const members = cyc.length > 1 ? cyc.slice(0, -1) : cyc;
    s.errors.push({ code: 'cycle', node: cyc[0]!, field: null, nodes: members, message: cyc.length === 2 && cyc[0] === cyc[1] ? `node ${cyc[0]} feeds itself` : `cycle: ${cyc.join(' → ')}` });
  }
  return topoOrder(ids, edges);
}

/**
 * Static keys and lineage, in topological order: each node's outputs are derived statically from its inputs, and
 * its rules (staticCheck, lineage) are checked only when everything connected upstream is known (no cascading
 * errors). Returns the static key of each node.
 */
function checkLineage(s: Checking, edges: RecipeEdge[], order: string[]): Map<string, string> {
  const keys = new Map<string, string>();
  const statics = new Map<string, Record<string, StaticValue | undefined>>();
  for (const id of order) {
    const c = s.nodes.get(id)!;
    const inc = incoming(edges, id);
    const upKeys: Record<string, string[]> = {};
    for (const [port, es] of inc) upKeys[port] = es.map((e) => `${keys.get(e.from.node)}:${e.from.port}`);
    const key = hashJson({ type: c.def.type, version: c.def.version, params: c.params ?? c.node.params, inputs: upKeys });
    keys.set(id, key);
    if (!c.params) continue;
    const { inputs, complete } = staticInputs(c, inc, statics);
    const self = { id, key };
    const outs: Record<string, StaticValue | undefined> = {};
    for (const p of c.def.outputs) if (p.type === 'dataset' || p.type === 'metrics') outs[p.name] = { type: p.type };
    if (c.def.staticOutputs) Object.assign(outs, c.def.staticOutputs(inputs, c.params as never, self));
    statics.set(id, outs);
    if (!complete) continue;
    for (const is of c.def.staticCheck?.(inputs, c.params as never, self) ?? []) s.errors.push({ code: is.code, node: id, field: is.field, message: is.message });
    for (const is of c.def.lineage?.(staticLineageInputs(inputs), c.params as never) ?? []) s.errors.push({ code: 'lineage', node: id, field: is.field, message: is.message });
  }
  return keys;
}

/** A node's static inputs from its upstream outputs; `complete` when every connected one is known. */
function staticInputs(c: CheckedNode, inc: Map<string, RecipeEdge[]>, statics: Map<string, Record<string, StaticValue | undefined>>): { inputs: StaticInputs; complete: boolean } {
  const inputs: StaticInputs = {};
  let complete = true;
  for (const p of c.def.inputs) {
    const vals = (inc.get(p.name) ?? []).map((e) => statics.get(e.from.node)?.[e.from.port]);
    if (vals.some((v) => v === undefined)) complete = false;
    const known = vals.filter((v): v is StaticValue => v !== undefined);
    inputs[p.name] = p.multiple ? known : known[0];
  }
  return { inputs, complete };
}

/** The files nodes read exist (and folders hold what they must). */
function checkFiles(s: Checking, baseDir: string): void {
  for (const c of s.nodes.values()) {
    if (!c.params || !c.def.files) continue;
    for (const f of c.def.files(c.params as never, { baseDir })) {
      const problem = fileProblem(f.path, f.kind, f.required ?? []);
      if (problem) s.errors.push({ code: 'missing-file', node: c.node.id, field: `params.${f.field}`, message: `${problem}${f.hint ? ` (${f.hint})` : ''}` });
    }
  }
}

function fileProblem(p: string, kind: 'file' | 'dir', required: readonly string[]): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return `${kind === 'dir' ? 'folder' : 'file'} ${p} does not exist`;
  }
  if (kind === 'dir' && !st.isDirectory()) return `${p} is not a folder`;
  if (kind === 'file' && !st.isFile()) return `${p} is not a file`;
  for (const r of required) if (!fs.existsSync(path.join(p, r))) return `${p} has no ${r}`;
  return null;
}
