/** The execution plan: topological order of the nodes a run needs (all, or what one chosen node depends on). */
import type { RecipeEdge } from '../shared';

/** `target` and every node it depends on. */
export function ancestorsOf(target: string, edges: readonly RecipeEdge[]): Set<string> {
  const into = new Map<string, string[]>();
  for (const e of edges) into.set(e.to.node, [...(into.get(e.to.node) ?? []), e.from.node]);
  const seen = new Set<string>([target]);
  const stack = [target];
  while (stack.length) {
    for (const m of into.get(stack.pop()!) ?? []) {
      if (!seen.has(m)) {
        seen.add(m);
        stack.push(m);
      }
    }
  }
  return seen;
}

/** The subsequence of `order` a run executes: everything, or only what `to` needs. */
export function planRun(order: readonly string[], edges: readonly RecipeEdge[], to?: string): string[] {
  if (to === undefined) return [...order];
  const need = ancestorsOf(to, edges);
  return order.filter((id) => need.has(id));
}
