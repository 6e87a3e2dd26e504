/** NodeSpec (the catalogue's JSON) for a definition, memoised. */
import type { NodeSpec } from '../shared';
import { nodeSpec } from '../nodes/spec';
import type { NodeDefinition } from '../nodes/types';

const cache = new WeakMap<NodeDefinition, NodeSpec>();
export function specOf(def: NodeDefinition): NodeSpec {
  let s = cache.get(def);
  if (!s) {
    s = nodeSpec(def);
    cache.set(def, s);
  }
  return s;
}
