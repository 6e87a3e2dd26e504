/** A set of node definitions by type: the engine validates with one, its worker runs nodes from the same. */
import type { NodeDefinition } from './definition';

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
