/**
 * The node catalogue as the editor uses it: lookup by type, palette grouping and search, port colours.
 * Framework-free (no React): the palette, the quick-add box and the node cards all read from here.
 */
import { NODE_CATEGORIES, type NodeCategory, type NodeSpec, type PortSpec } from '../../../shared';

export type SpecMap = ReadonlyMap<string, NodeSpec>;

export function specMap(specs: readonly NodeSpec[]): Map<string, NodeSpec> {
  return new Map(specs.map((s) => [s.type, s]));
}

export const CATEGORY_LABELS: Record<NodeCategory, string> = {
  model: 'Model',
  data: 'Data',
  loram: 'LoRAM',
  evaluate: 'Evaluate',
  output: 'Output',
};

/** Port colours (also used for edges and the palette's port chips). Unknown types get a neutral grey. */
export const PORT_COLORS: Record<string, string> = {
  model: '#4c8dff',
  dataset: '#22b07d',
  adapter: '#f0a020',
  metrics: '#b46cf5',
};
export function portColor(type: string): string {
  return PORT_COLORS[type] ?? '#8a93a3';
}

export const CATEGORY_COLORS: Record<string, string> = {
  model: '#4c8dff',
  data: '#22b07d',
  loram: '#e5604d',
  evaluate: '#b46cf5',
  output: '#8a93a3',
};
export function categoryColor(category: string): string {
  return CATEGORY_COLORS[category] ?? '#8a93a3';
}

export interface PaletteGroup {
  category: NodeCategory;
  label: string;
  specs: NodeSpec[];
}

/** Specs grouped by category, categories in their canonical order, catalogue order inside a group. */
export function groupByCategory(specs: readonly NodeSpec[]): PaletteGroup[] {
  return NODE_CATEGORIES.map((category) => ({ category, label: CATEGORY_LABELS[category], specs: specs.filter((s) => s.category === category) })).filter(
    (g) => g.specs.length > 0,
  );
}

function norm(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

/** How well one search term matches a spec (0 = not at all). */
function termScore(spec: NodeSpec, term: string): number {
  const title = norm(spec.title);
  const type = norm(spec.type);
  const squashed = (s: string) => s.replace(/ /g, '');
  if (title === term || type === term || squashed(type) === term) return 100;
  if (title.startsWith(term) || type.startsWith(term) || squashed(type).startsWith(term)) return 60;
  if (title.split(' ').some((w) => w.startsWith(term)) || type.split(' ').some((w) => w.startsWith(term))) return 40;
  if (title.includes(term) || squashed(type).includes(term)) return 25;
  if (norm(spec.category).startsWith(term) || norm(CATEGORY_LABELS[spec.category] ?? '').startsWith(term)) return 15;
  const ports = [...spec.inputs, ...spec.outputs].map((p: PortSpec) => `${norm(p.title)} ${p.type}`).join(' ');
  if (ports.split(' ').some((w) => w.startsWith(term))) return 8;
  if (norm(spec.doc).split(' ').some((w) => w.startsWith(term))) return 5;
  return 0;
}

/** Specs matching every term of `query`, best first (ties: catalogue order). Empty query: all specs. */
export function searchSpecs(specs: readonly NodeSpec[], query: string): NodeSpec[] {
  const terms = norm(query).split(' ').filter(Boolean);
  if (terms.length === 0) return [...specs];
  const scored: { spec: NodeSpec; score: number; i: number }[] = [];
  specs.forEach((spec, i) => {
    let total = 0;
    for (const t of terms) {
      const s = termScore(spec, t);
      if (s === 0) return;
      total += s;
    }
    scored.push({ spec, score: total, i });
  });
  return scored.sort((a, b) => b.score - a.score || a.i - b.i).map((x) => x.spec);
}
