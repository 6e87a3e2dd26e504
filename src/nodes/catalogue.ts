/**
 * The node catalogue: the NodeSpec (plain JSON) of each definition, params as JSON Schema generated from zod. The
 * engine serves it to the editor (palette, handles, inspector) and checks connections with it.
 */
import { z } from 'zod';
import type { NodeSpec } from '../shared';
import type { NodeDefinition } from './definition';

/** zod marks every .int() with ±MAX_SAFE_INTEGER bounds; they say nothing to a form, so drop them. */
function dropSafeIntegerBounds(schema: unknown): void {
  if (Array.isArray(schema)) return schema.forEach(dropSafeIntegerBounds);
  if (!schema || typeof schema !== 'object') return;
  const o = schema as Record<string, unknown>;
  if (o.minimum === Number.MIN_SAFE_INTEGER) delete o.minimum;
  if (o.maximum === Number.MAX_SAFE_INTEGER) delete o.maximum;
  for (const v of Object.values(o)) dropSafeIntegerBounds(v);
}

const specs = new WeakMap<NodeDefinition, NodeSpec>();

/** The JSON the catalogue sends for a definition (made once per definition: the JSON Schema is not cheap). */
export function nodeSpec(def: NodeDefinition): NodeSpec {
  let s = specs.get(def);
  if (!s) specs.set(def, (s = makeSpec(def)));
  return s;
}

function makeSpec(def: NodeDefinition): NodeSpec {
  const params = z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete params.$schema;
  dropSafeIntegerBounds(params);
  const parsed = def.params.safeParse({});
  return {
    type: def.type,
    version: def.version,
    title: def.title,
    category: def.category,
    doc: def.doc,
    inputs: def.inputs.map((p) => ({ ...p })),
    outputs: def.outputs.map((p) => ({ ...p })),
    params,
    defaults: parsed.success ? (parsed.data as Record<string, unknown>) : {},
    cacheable: def.cacheable !== false,
  };
}
