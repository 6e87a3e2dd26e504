/** Graph algorithms on a recipe's edges: cycles, a deterministic topological order, the edges into a node. */
import type { RecipeEdge } from '../shared';

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
