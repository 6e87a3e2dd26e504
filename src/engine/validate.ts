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
import type { NodeDefinition, NodeRegistry, StaticInputs, StaticValue } from '../nodes/types';
import { hashJson } from './hash';
import { specOf } from './specs';

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

/** Find one cycle inside a strongly connected component, as a node path (first node repeated at the end). */
function cyclePath(start: string, members: Set<string>, out: Map<string, string[]>): string[] {
  const stack: string[] = [];
  const onStack = new Set<string>();
  const seen = new Set<string>();
  const dfs = (n: string): string[] | null => {
    stack.push(n);
    onStack.add(n);
    seen.add(n);
    for (const m of out.get(n) ?? []) {
      if (!members.has(m)) continue;
      if (m === start) return [...stack, start];
      if (!seen.has(m)) {
        const r = dfs(m);
        if (r) return r;
      }
    }
    stack.pop();
    onStack.delete(n);
    return null;
  };
  return dfs(start) ?? [start, start];
}

/** Tarjan's strongly connected components; returns the cyclic ones (size > 1, or a self-loop), in `ids` order. */
export function findCycles(ids: readonly string[], edges: readonly { from: { node: string }; to: { node: string } }[]): string[][] {
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.from.node, [...(out.get(e.from.node) ?? []), e.to.node]);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const comps: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of out.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      comps.push(comp);
    }
  };
  for (const id of ids) if (!idx.has(id)) strong(id);
  const order = new Map(ids.map((id, i) => [id, i]));
  const cyclic = comps.filter((c) => c.length > 1 || (out.get(c[0]!) ?? []).includes(c[0]!));
  return cyclic
    .map((c) => {
      const members = new Set(c);
      const first = [...c].sort((a, b) => order.get(a)! - order.get(b)!)[0]!;
      return cyclePath(first, members, out);
    })
    .sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
}

/** Kahn's algorithm; ties broken by recipe order so plans are deterministic. Null if cyclic. */
export function topoOrder(ids: readonly string[], edges: readonly { from: { node: string }; to: { node: string } }[]): string[] | null {
  const pos = new Map(ids.map((id, i) => [id, i]));
  const indeg = new Map(ids.map((id) => [id, 0]));
  const out = new Map<string, string[]>();
  for (const e of edges) {
    if (!pos.has(e.from.node) || !pos.has(e.to.node)) continue;
    indeg.set(e.to.node, indeg.get(e.to.node)! + 1);
    out.set(e.from.node, [...(out.get(e.from.node) ?? []), e.to.node]);
  }
  const ready = ids.filter((id) => indeg.get(id) === 0);
  const order: string[] = [];
  while (ready.length) {
    ready.sort((a, b) => pos.get(a)! - pos.get(b)!);
    const n = ready.shift()!;
    order.push(n);
    for (const m of out.get(n) ?? []) {
      indeg.set(m, indeg.get(m)! - 1);
      if (indeg.get(m) === 0) ready.push(m);
    }
  }
  return order.length === ids.length ? order : null;
}

/** Edges into `id`, grouped by input port, in recipe order. */
export function incoming(edges: readonly RecipeEdge[], id: string): Map<string, RecipeEdge[]> {
  const m = new Map<string, RecipeEdge[]>();
  for (const e of edges) if (e.to.node === id) m.set(e.to.port, [...(m.get(e.to.port) ?? []), e]);
  return m;
}

/** Full analysis of a recipe (object, or JSON text). Never throws on bad input. */
export function analyzeRecipe(input: unknown, env: ValidateEnv): Analysis {
  const parsed = typeof input === 'string' ? parseRecipeText(input) : parseRecipe(input);
  const errors = [...parsed.errors];
  const nodes = new Map<string, CheckedNode>();
  const empty: Analysis = { recipe: parsed.recipe, errors, nodes, edges: [], order: null, keys: new Map(), source: parsed.recipe };
  if (!parsed.recipe) return empty;
  const sweep = expandSweeps(parsed.recipe, (t) => env.registry.get(t));
  const recipe = sweep.recipe;
  errors.push(...sweep.errors);
  const broken = new Set(parsed.brokenNodes);

  // Ids.
  const seenNodes = new Set<string>();
  const dupNodes = new Set<string>();
  for (const n of recipe.nodes) {
    if (seenNodes.has(n.id)) {
      if (!dupNodes.has(n.id)) errors.push({ code: 'duplicate-node-id', node: n.id, field: 'id', message: `two nodes have the id "${n.id}"` });
      dupNodes.add(n.id);
    }
    seenNodes.add(n.id);
  }
  const seenEdges = new Set<string>();
  for (const e of recipe.edges) {
    if (seenEdges.has(e.id)) errors.push({ code: 'duplicate-edge-id', node: null, field: 'edges', edge: e.id, message: `two edges have the id "${e.id}"` });
    seenEdges.add(e.id);
  }

  // Kinds, versions, params.
  const known = env.registry.list().map((d) => d.type);
  for (const n of recipe.nodes) {
    if (nodes.has(n.id) || broken.has(n.id)) continue;
    const def = env.registry.get(n.type);
    if (!def) {
      errors.push({ code: 'unknown-node-type', node: n.id, field: 'type', message: `unknown node type "${n.type}" (known: ${known.join(', ')})` });
      broken.add(n.id);
      continue;
    }
    let raw: Record<string, unknown>;
    try {
      raw = migrateParams(def, n.version, n.params);
    } catch (e) {
      errors.push({ code: 'unknown-node-version', node: n.id, field: 'version', message: (e as Error).message });
      broken.add(n.id);
      continue;
    }
    const r = def.params.safeParse(raw);
    if (!r.success) {
      for (const is of zodIssues(r.error)) {
        const f = formatPath(is.path);
        errors.push({ code: 'invalid-param', node: n.id, field: f ? (f.startsWith('[') ? `params${f}` : `params.${f}`) : 'params', message: is.message });
      }
    }
    nodes.set(n.id, { node: n, def, params: r.success ? (r.data as Record<string, unknown>) : null });
  }

  // Edges, through the shared connection rule.
  const specs = new Map<string, NodeSpec>();
  for (const c of nodes.values()) if (!specs.has(c.def.type)) specs.set(c.def.type, specOf(c.def));
  const graphNodes = [...nodes.values()].map((c) => ({ id: c.node.id, type: c.def.type }));
  const good: RecipeEdge[] = [];
  const attempted = new Set<string>(); // "node|port" of inputs that had an edge, valid or not
  for (const e of recipe.edges) {
    attempted.add(`${e.to.node}|${e.to.port}`);
    const fromKnown = nodes.has(e.from.node);
    const toKnown = nodes.has(e.to.node);
    if (!fromKnown || !toKnown) {
      // An edge touching a node already reported (unknown type, bad structure) is not reported again.
      const missing = [e.from.node, e.to.node].filter((id) => !seenNodes.has(id) && !broken.has(id));
      if (missing.length) {
        const side = !seenNodes.has(e.from.node) && !broken.has(e.from.node) ? 'from' : 'to';
        const other = side === 'from' ? e.to : e.from;
        errors.push({
          code: 'dangling-edge',
          node: nodes.has(other.node) ? other.node : null,
          field: nodes.has(other.node) ? `${side === 'from' ? 'inputs' : 'outputs'}.${other.port}` : `edges.${e.id}.${side}.node`,
          edge: e.id,
          message: `edge ${e.id} ${side === 'from' ? 'comes from' : 'goes to'} node "${missing[0]}", which does not exist`,
        });
      }
      continue;
    }
    if (e.from.node === e.to.node) {
      good.push(e); // reported as a cycle below
      continue;
    }
    const r = checkConnection(e, { nodes: graphNodes, edges: good }, specs);
    if (r.ok || r.code === 'cycle') {
      good.push(e); // cycles are reported once, naming every node, below
      continue;
    }
    const fromSide = r.code === 'unknown-port' && !specs.get(nodes.get(e.from.node)!.def.type)!.outputs.some((p) => p.name === e.from.port);
    errors.push({
      code: r.code,
      node: fromSide ? e.from.node : e.to.node,
      field: fromSide ? `outputs.${e.from.port}` : `inputs.${e.to.port}`,
      edge: e.id,
      message: r.reason,
    });
  }

  // Required inputs.
  for (const c of nodes.values()) {
    for (const p of c.def.inputs) {
      if (p.optional || attempted.has(`${c.node.id}|${p.name}`)) continue;
      errors.push({ code: 'missing-input', node: c.node.id, field: `inputs.${p.name}`, message: `input "${p.name}" (${p.type}) is not connected` });
    }
  }

  // Cycles.
  const ids = [...nodes.keys()];
  for (const cyc of findCycles(ids, good)) {
    const members = cyc.length > 1 ? cyc.slice(0, -1) : cyc;
    errors.push({
      code: 'cycle',
      node: cyc[0]!,
      field: null,
      nodes: members,
      message: cyc.length === 2 && cyc[0] === cyc[1] ? `node ${cyc[0]} feeds itself` : `cycle: ${cyc.join(' → ')}`,
    });
  }
  const order = topoOrder(ids, good);
  const keys = new Map<string, string>();
  if (order) {
    // Static keys and lineage, in topological order.
    const statics = new Map<string, Record<string, StaticValue | undefined>>();
    for (const id of order) {
      const c = nodes.get(id)!;
      const inc = incoming(good, id);
      const upKeys: Record<string, string[]> = {};
      for (const [port, es] of inc) upKeys[port] = es.map((e) => `${keys.get(e.from.node)}:${e.from.port}`);
      const key = hashJson({ type: c.def.type, version: c.def.version, params: c.params ?? c.node.params, inputs: upKeys });
      keys.set(id, key);
      if (!c.params) continue;
      const sin: StaticInputs = {};
      let complete = true;
      for (const p of c.def.inputs) {
        const es = inc.get(p.name) ?? [];
        const vals = es.map((e) => statics.get(e.from.node)?.[e.from.port]);
        if (vals.some((v) => v === undefined)) complete = false;
        const known = vals.filter((v): v is StaticValue => v !== undefined);
        sin[p.name] = p.multiple ? known : known[0];
      }
      const self = { id, key };
      const outs: Record<string, StaticValue | undefined> = {};
      for (const p of c.def.outputs) if (p.type === 'dataset' || p.type === 'metrics') outs[p.name] = { type: p.type };
      if (c.def.staticOutputs) Object.assign(outs, c.def.staticOutputs(sin, c.params as never, self));
      statics.set(id, outs);
      // Rules are checked only when everything connected upstream is known (no cascading errors).
      if (complete && c.def.staticCheck) {
        for (const is of c.def.staticCheck(sin, c.params as never, self)) errors.push({ code: is.code, node: id, field: is.field, message: is.message });
      }
    }
  }

  // Files.
  if (env.checkFiles !== false) {
    for (const c of nodes.values()) {
      if (!c.params || !c.def.files) continue;
      for (const f of c.def.files(c.params as never, { baseDir: env.baseDir })) {
        const problem = fileProblem(f.path, f.kind, f.required ?? []);
        if (problem) errors.push({ code: 'missing-file', node: c.node.id, field: `params.${f.field}`, message: `${problem}${f.hint ? ` (${f.hint})` : ''}` });
      }
    }
  }

  return { recipe, errors: foldBranchErrors(errors, sweep.origin), nodes, edges: good, order, keys, source: parsed.recipe, sweep };
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

export function validateRecipe(input: unknown, env: ValidateEnv): { ok: boolean; errors: ValidationError[] } {
  const a = analyzeRecipe(input, env);
  return { ok: a.errors.length === 0, errors: a.errors };
}
