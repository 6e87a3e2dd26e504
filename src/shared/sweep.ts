/**
 * Sweeps: a node param that holds a list of values is an axis; the recipe is expanded into branches before
 * validation and planning. One pure function, `expandSweeps`, used by the engine (to run) and by the editor (to
 * show branches and map a branch's events back to its card).
 *
 * Rules:
 * - A node with a sweep, and every node downstream of it, is copied once per point of the axes upstream of it
 *   (product of distinct axes; axes of the same name step together, "zip"). Copies are ordinary nodes with
 *   ordinary params, so their cache signatures are those of the same chain written by hand: a branch computed
 *   anywhere is reused, and unswept nodes keep their id and signature.
 * - A node without a sweep of its own whose swept inputs all arrive on `multiple` ports (Compare) gathers: it is
 *   not copied and receives one edge from every copy, in branch order.
 * - `$enabled: false` bypasses a copy: its consumers read the node's own input of the same port type (or lose the
 *   edge when it has none). `$disconnect: [ports]` leaves those inputs of the copy unconnected.
 * - Copy ids are `<id>.<i>[.<j>…]` (point index per axis); labels get the points' labels appended.
 * - Branches counted: what a gathering input receives, copies of one point with the same `label` param counted
 *   once (Compare shows two evaluations of one variant in one row).
 * - The expansion keeps the recipe as written in `meta.sweep.source` (a run's snapshot says what file it came from).
 */
import type { ValidationError } from './errors';
import type { PortSpec } from './node-spec';
import type { Recipe, RecipeEdge, RecipeNode, Sweep } from './recipe';

export const SWEEP_ENABLED = '$enabled';
export const SWEEP_DISCONNECT = '$disconnect';

/** The ports of a node kind (undefined for an unknown kind: its node is copied but never bypassed or gathering). */
export type PortLookup = (type: string) => { inputs: readonly PortSpec[]; outputs: readonly PortSpec[] } | undefined;

export interface SweepAxis {
  name: string;
  size: number;
  /** One label per point. */
  labels: string[];
  /** The (node, param) pairs that step along this axis. */
  members: { node: string; param: string }[];
}

export interface BranchOrigin {
  /** The node of the unexpanded recipe. */
  node: string;
  /** Point index per axis, by axis name (only the axes this node is copied along). */
  point: Record<string, number>;
  /** The points' labels, e.g. "Stru · ratio=0.5" (empty for an uncopied node). */
  label: string;
}

export interface SweepExpansion {
  /** The expanded recipe: no sweeps, one node per branch copy (the input itself when nothing is swept). */
  recipe: Recipe;
  axes: SweepAxis[];
  /** Expanded node id → where it comes from. Bypassed copies are absent. */
  origin: Map<string, BranchOrigin>;
  /** Original node id → its copies' ids (itself when not copied), bypassed copies left out. */
  copies: Map<string, string[]>;
  /** Branches compared: the most edges any gathering (`multiple`) input receives, or the most copies of one node. */
  branches: number;
  errors: ValidationError[];
}

function valueLabel(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function pointLabel(param: string, v: unknown): string {
  if (param === SWEEP_ENABLED) return v === false ? 'off' : 'on';
  if (param === SWEEP_DISCONNECT) return Array.isArray(v) && v.length ? `without ${v.join(', ')}` : 'all inputs';
  return `${param}=${valueLabel(v)}`;
}

/** The axes the recipe declares, in node order; mismatched lengths are errors. */
export function collectAxes(recipe: Recipe): { axes: SweepAxis[]; errors: ValidationError[] } {
  const axes = new Map<string, SweepAxis>();
  const errors: ValidationError[] = [];
  const add = (name: string, node: string, params: string[], sweep: Sweep) => {
    const size = sweep.values[params[0]!]!.length;
    const mine = params.map((p) => sweep.values[p]!);
    const labels = sweep.mode === 'zip' && sweep.labels?.length === size ? sweep.labels : Array.from({ length: size }, (_, i) => params.map((p, k) => pointLabel(p, mine[k]![i])).join(', '));
    let axis = axes.get(name);
    if (!axis) axes.set(name, (axis = { name, size, labels, members: [] }));
    for (const p of params) {
      if (sweep.values[p]!.length !== axis.size) {
        errors.push({ code: 'invalid-sweep', node, field: `sweep.values.${p}`, message: `axis "${name}" has ${axis.size} values, but ${p} has ${sweep.values[p]!.length}` });
      } else axis.members.push({ node, param: p });
    }
    if (sweep.mode === 'zip' && sweep.labels && sweep.labels.length !== size) {
      errors.push({ code: 'invalid-sweep', node, field: 'sweep.labels', message: `${sweep.labels.length} labels for ${size} values` });
    }
  };
  for (const n of recipe.nodes) {
    const s = n.sweep;
    if (!s) continue;
    const params = Object.keys(s.values);
    if (params.length === 0) continue;
    if (s.mode === 'zip') add(s.axis ?? n.id, n.id, params, s);
    else for (const p of params) add(`${s.axis ?? n.id}.${p}`, n.id, [p], s);
  }
  return { axes: [...axes.values()], errors };
}

/** For every node: the axes it is copied along (own axes + those of its non-gathered inputs), in axis order. */
function nodeAxes(recipe: Recipe, axes: SweepAxis[], ports: PortLookup): { of: Map<string, string[]>; gathers: Set<string> } {
  const own = new Map<string, Set<string>>();
  for (const a of axes) for (const m of a.members) own.set(m.node, (own.get(m.node) ?? new Set()).add(a.name));
  const order = new Map(axes.map((a, i) => [a.name, i]));
  const byId = new Map(recipe.nodes.map((n) => [n.id, n]));
  const of = new Map<string, string[]>();
  const gathers = new Set<string>();
  const visiting = new Set<string>();
  const visit = (id: string): string[] => {
    const done = of.get(id);
    if (done) return done;
    if (visiting.has(id) || !byId.has(id)) return []; // a cycle or a dangling edge: validation reports it
    visiting.add(id);
    const mine = own.get(id) ?? new Set<string>();
    const spec = ports(byId.get(id)!.type);
    const upstream = new Set<string>();
    let onMultiple = 0;
    let onSingle = 0;
    for (const e of recipe.edges) {
      if (e.to.node !== id) continue;
      const up = visit(e.from.node);
      if (up.length === 0) continue;
      const multiple = spec?.inputs.find((p) => p.name === e.to.port)?.multiple === true;
      if (multiple) onMultiple++;
      else onSingle++;
      for (const a of up) upstream.add(a);
    }
    const gather = mine.size === 0 && onMultiple > 0 && onSingle === 0;
    if (gather) gathers.add(id);
    const set = gather ? mine : new Set([...mine, ...upstream]);
    const result = [...set].sort((a, b) => order.get(a)! - order.get(b)!);
    visiting.delete(id);
    of.set(id, result);
    return result;
  };
  for (const n of recipe.nodes) visit(n.id);
  return { of, gathers };
}

/** Every point (index per axis) of the given axes, first axis slowest. */
function pointsOf(names: readonly string[], size: (name: string) => number): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const name of names) {
    const next: Record<string, number>[] = [];
    for (const p of out) for (let i = 0; i < size(name); i++) next.push({ ...p, [name]: i });
    out = next;
  }
  return out;
}

interface Copy {
  id: string;
  node: RecipeNode;
  point: Record<string, number>;
  bypassed: boolean;
  disconnected: Set<string>;
}

function makeCopies(n: RecipeNode, names: string[], axes: Map<string, SweepAxis>): Copy[] {
  if (names.length === 0) {
    const { sweep: _s, ...plain } = n;
    return [{ id: n.id, node: plain, point: {}, bypassed: false, disconnected: new Set() }];
  }
  return pointsOf(names, (a) => axes.get(a)!.size).map((point) => {
    const params: Record<string, unknown> = { ...n.params };
    let bypassed = false;
    let disconnected = new Set<string>();
    for (const [name, i] of Object.entries(point)) {
      for (const m of axes.get(name)!.members) {
        if (m.node !== n.id) continue;
        const v = n.sweep!.values[m.param]![i];
        if (m.param === SWEEP_ENABLED) bypassed = v === false;
        else if (m.param === SWEEP_DISCONNECT) disconnected = new Set(Array.isArray(v) ? v.map(String) : []);
        else params[m.param] = v;
      }
    }
    const label = names.map((a) => axes.get(a)!.labels[point[a]!]).join(' · ');
    const { sweep: _s, ...plain } = n;
    const id = `${n.id}.${names.map((a) => point[a]).join('.')}`;
    return { id, node: { ...plain, id, params, label: `${n.label ?? n.id} · ${label}` }, point, bypassed, disconnected };
  });
}

/** The copy of `from` that belongs to the branch `point` (`from`'s axes are a subset of the consumer's). */
function copyFor(copies: Copy[], names: readonly string[], point: Record<string, number>): Copy | undefined {
  return copies.find((c) => names.every((a) => c.point[a] === point[a]));
}

/** Expand a recipe's sweeps into branches. Never throws; problems are validation errors. */
export function expandSweeps(recipe: Recipe, ports: PortLookup): SweepExpansion {
  const { axes, errors } = collectAxes(recipe);
  const plainCopies = new Map(recipe.nodes.map((n) => [n.id, [n.id]]));
  if (axes.length === 0) {
    const origin = new Map(recipe.nodes.map((n) => [n.id, { node: n.id, point: {}, label: '' }]));
    return { recipe, axes, origin, copies: plainCopies, branches: countBranches(recipe, ports, 1), errors };
  }
  const axisByName = new Map(axes.map((a) => [a.name, a]));
  const { of, gathers } = nodeAxes(recipe, axes, ports);
  const copies = new Map<string, Copy[]>();
  for (const n of recipe.nodes) copies.set(n.id, makeCopies(n, of.get(n.id) ?? [], axisByName));
  const edges = expandEdges(recipe, copies, of, gathers);
  const live = resolveBypasses(edges, copies, recipe, ports);
  const nodes = [...copies.values()].flat().filter((c) => !c.bypassed).map((c) => c.node);
  const origin = new Map<string, BranchOrigin>();
  const copyIds = new Map<string, string[]>();
  for (const [id, cs] of copies) {
    const kept = cs.filter((c) => !c.bypassed);
    copyIds.set(id, kept.map((c) => c.id));
    for (const c of kept) origin.set(c.id, { node: id, point: c.point, label: of.get(id)!.map((a) => axisByName.get(a)!.labels[c.point[a]!]).join(' · ') });
  }
  const out: Recipe = { ...recipe, meta: { ...recipe.meta, sweep: { source: recipe } }, nodes: nodes.map((n) => ({ ...n })), edges: live };
  const widest = Math.max(1, ...[...copyIds.values()].map((c) => c.length));
  return { recipe: out, axes, origin, copies: copyIds, branches: countBranches(out, ports, widest, origin), errors };
}

/** Each edge once per consumer copy; into a gathering node, once per producer copy. Copies' disconnected ports get none. */
function expandEdges(recipe: Recipe, copies: Map<string, Copy[]>, of: Map<string, string[]>, gathers: Set<string>): RecipeEdge[] {
  const out: RecipeEdge[] = [];
  for (const e of recipe.edges) {
    const froms = copies.get(e.from.node);
    const tos = copies.get(e.to.node);
    if (!froms || !tos) {
      out.push(e); // dangling: validation reports it
      continue;
    }
    const fromAxes = of.get(e.from.node) ?? [];
    const pairs: [Copy, Copy][] = [];
    if (gathers.has(e.to.node)) for (const f of froms) pairs.push([f, tos[0]!]);
    else {
      for (const t of tos) {
        const f = copyFor(froms, fromAxes, t.point);
        if (f) pairs.push([f, t]);
      }
    }
    pairs.forEach(([f, t], k) => {
      if (t.disconnected.has(e.to.port)) return;
      out.push({ id: copyEdgeId(e.id, f, t, k, pairs.length), from: { node: f.id, port: e.from.port }, to: { node: t.id, port: e.to.port } });
    });
  }
  return out;
}

function copyEdgeId(id: string, f: Copy, t: Copy, k: number, n: number): string {
  if (n === 1 && Object.keys(f.point).length === 0 && Object.keys(t.point).length === 0) return id;
  return `${id}.${k}`;
}

/** Edges out of bypassed copies are re-sourced from the copy's own input of the same type; edges into them dropped. */
function resolveBypasses(edges: RecipeEdge[], copies: Map<string, Copy[]>, recipe: Recipe, ports: PortLookup): RecipeEdge[] {
  const copy = new Map<string, Copy>();
  for (const cs of copies.values()) for (const c of cs) copy.set(c.id, c);
  const typeOf = (id: string) => copy.get(id)?.node.type;
  const source = (id: string, port: string, depth: number): { node: string; port: string } | null => {
    const c = copy.get(id);
    if (!c || !c.bypassed) return { node: id, port };
    if (depth > recipe.nodes.length) return null;
    const spec = ports(typeOf(id)!);
    const type = spec?.outputs.find((p) => p.name === port)?.type;
    const input = spec?.inputs.find((p) => p.type === type && !p.multiple);
    if (!input) return null;
    const into = edges.find((e) => e.to.node === id && e.to.port === input.name);
    return into ? source(into.from.node, into.from.port, depth + 1) : null;
  };
  const out: RecipeEdge[] = [];
  for (const e of edges) {
    if (copy.get(e.to.node)?.bypassed) continue;
    const from = source(e.from.node, e.from.port, 0);
    if (from) out.push({ ...e, from });
  }
  return out;
}

/**
 * Which branch a producer belongs to: copies of one sweep point with the same `label` param (two evaluations of
 * one variant, which Compare shows in one row) are one branch; any other producer is a branch of its own.
 */
function branchKey(n: RecipeNode, point: Record<string, number> | undefined): string {
  const label = n.params?.label;
  return point && Object.keys(point).length && typeof label === 'string' && label ? `${JSON.stringify(point)}|${label}` : `#${n.id}`;
}

/** The most branches one `multiple` input gathers (what a Compare gathers), or `widest` when larger. */
function countBranches(recipe: Recipe, ports: PortLookup, widest: number, origin?: ReadonlyMap<string, BranchOrigin>): number {
  const byId = new Map(recipe.nodes.map((n) => [n.id, n]));
  const into = new Map<string, Set<string>>();
  for (const e of recipe.edges) {
    const t = byId.get(e.to.node)?.type;
    const from = byId.get(e.from.node);
    if (!t || !from || ports(t)?.inputs.find((p) => p.name === e.to.port)?.multiple !== true) continue;
    const k = `${e.to.node}|${e.to.port}`;
    into.set(k, (into.get(k) ?? new Set()).add(branchKey(from, origin?.get(from.id)?.point)));
  }
  return Math.max(widest, ...[...into.values()].map((s) => s.size));
}

/** A short description of a node's sweep for its card, e.g. "strategy × 5", "strategy, ratio × 4", "× 3 × 2". */
export function describeSweep(sweep: Sweep | undefined): string | null {
  if (!sweep) return null;
  const entries = Object.entries(sweep.values).filter(([, v]) => v.length > 0);
  if (entries.length === 0) return null;
  const name = (p: string) => (p === SWEEP_ENABLED ? 'on/off' : p === SWEEP_DISCONNECT ? 'inputs' : p);
  if (sweep.mode === 'zip') return `${sweep.axis ?? entries.map(([p]) => name(p)).join(', ')} × ${entries[0]![1].length}`;
  return entries.map(([p, v]) => `${name(p)} × ${v.length}`).join(' · ');
}

/** The recipe as written, for an expanded one (a run's snapshot): `meta.sweep.source`, else the recipe itself. */
export function sweptFrom(recipe: Recipe): Recipe {
  const source = (recipe.meta?.sweep as { source?: Recipe } | undefined)?.source;
  return source && typeof source === 'object' && Array.isArray(source.nodes) ? source : recipe;
}

/** Fold errors on copies back onto the node the user sees (one error per node, field and message). */
export function foldBranchErrors(errors: readonly ValidationError[], origin: ReadonlyMap<string, BranchOrigin>): ValidationError[] {
  const seen = new Set<string>();
  const out: ValidationError[] = [];
  for (const e of errors) {
    const o = e.node ? origin.get(e.node) : undefined;
    const folded: ValidationError = o && o.node !== e.node ? { ...e, node: o.node, message: `${e.message} (branch ${o.label})` } : e;
    const key = `${folded.node}|${folded.field}|${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(folded);
  }
  return out;
}
