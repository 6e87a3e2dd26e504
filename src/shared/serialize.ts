/**
 * Deterministic JSON. `canonicalJson` (sorted keys, no whitespace) is what hashes are taken of;
 * `serializeRecipe` writes a recipe with a fixed, readable key order, so saving the same graph always gives the
 * same bytes and diffs stay small.
 */
import type { Recipe } from './recipe';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortDeep(x);
    }
    return out;
  }
  return v;
}

/** JSON with object keys sorted at every level and no whitespace; undefined fields dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortDeep(value)) ?? 'null';
}

/** `keys` first, in that order, then the other keys sorted. */
function ordered(obj: Record<string, unknown>, keys: readonly string[], inner: (k: string, v: unknown) => unknown = (_, v) => sortDeep(v)): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = inner(k, obj[k]);
  for (const k of Object.keys(obj).sort()) if (!keys.includes(k) && obj[k] !== undefined) out[k] = inner(k, obj[k]);
  return out;
}

/** The recipe as it is saved: 2-space indent, trailing newline, fixed key order, params keys sorted. */
export function serializeRecipe(recipe: Recipe): string {
  const r = recipe as unknown as Record<string, unknown>;
  const doc = ordered(r, ['format', 'version', 'name', 'description', 'meta', 'groups', 'nodes', 'edges'], (k, v) => {
    if (k === 'nodes' && Array.isArray(v)) {
      return v.map((n) => ordered(n as Record<string, unknown>, ['id', 'type', 'version', 'label', 'group', 'position', 'params', 'sweep'], (nk, nv) => (nk === 'position' ? ordered(nv as Record<string, unknown>, ['x', 'y']) : sortDeep(nv))));
    }
    if (k === 'edges' && Array.isArray(v)) {
      return v.map((e) =>
        ordered(e as Record<string, unknown>, ['id', 'from', 'to'], (ek, ev) => (ek === 'from' || ek === 'to' ? ordered(ev as Record<string, unknown>, ['node', 'port']) : sortDeep(ev))),
      );
    }
    return sortDeep(v);
  });
  return JSON.stringify(doc as Json, null, 2) + '\n';
}
