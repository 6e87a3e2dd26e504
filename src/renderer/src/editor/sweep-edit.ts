/**
 * Editing a node's sweep in the inspector: turn a param into a list of values (an axis), change or remove the
 * list, choose how several axes combine. Pure document operations, like document.ts; one undo step each.
 */
import type { Recipe, RecipeNode, Sweep } from '../../../shared';
import { parseFieldText, type FieldSpec } from './schema-form';

function updateSweep(doc: Recipe, id: string, f: (s: Sweep | undefined, n: RecipeNode) => Sweep | undefined): Recipe {
  let changed = false;
  const nodes = doc.nodes.map((n) => {
    if (n.id !== id) return n;
    const next = f(n.sweep, n);
    if (JSON.stringify(next) === JSON.stringify(n.sweep)) return n;
    changed = true;
    const { sweep: _old, ...rest } = n;
    return next ? { ...rest, sweep: next } : rest;
  });
  return changed ? { ...doc, nodes } : doc;
}

/** Sweep `param` over `values`; null (or an empty list) stops sweeping it. The last axis removed removes the sweep. */
export function setSweepValues(doc: Recipe, id: string, param: string, values: unknown[] | null): Recipe {
  return updateSweep(doc, id, (s) => {
    const rest = { ...(s?.values ?? {}) };
    delete rest[param];
    const all = values && values.length ? { ...rest, [param]: values } : rest;
    if (Object.keys(all).length === 0) return undefined;
    return { mode: s?.mode ?? 'product', ...(s?.axis ? { axis: s.axis } : {}), ...(s?.labels ? { labels: s.labels } : {}), values: all };
  });
}

export function setSweepMode(doc: Recipe, id: string, mode: Sweep['mode']): Recipe {
  return updateSweep(doc, id, (s) => (s ? { ...s, mode } : s));
}

/** "rand, stru, semi" → the values, each parsed as the field parses one value. */
export function parseSweepText(f: FieldSpec, text: string): { ok: true; values: unknown[] } | { ok: false; error: string } {
  const parts = text.split(',').map((t) => t.trim()).filter(Boolean);
  const values: unknown[] = [];
  for (const p of parts) {
    if (f.kind === 'boolean') {
      if (p !== 'true' && p !== 'false') return { ok: false, error: `"${p}" is not true or false` };
      values.push(p === 'true');
      continue;
    }
    if (f.kind === 'enum' && f.options && !f.options.map(String).includes(p)) return { ok: false, error: `"${p}" is not one of ${f.options.join(', ')}` };
    const r = parseFieldText(f.kind === 'enum' || f.kind === 'string' ? f : { ...f }, p);
    if (!r.ok) return { ok: false, error: `"${p}" ${r.error}` };
    values.push(f.kind === 'enum' && f.options?.every((o) => typeof o === 'number') ? Number(p) : r.value);
  }
  return { ok: true, values };
}

/** How a list of values is shown in the sweep's text input. */
export function sweepText(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}
