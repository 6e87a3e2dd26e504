/** What a node card shows, worked out from its data without React: the card component only lays it out. */
import type { PortSpec } from '../../../shared';
import type { NodeCardData, NodeDecoration } from './flow';
import { fieldsFromSchema } from './schema-form';

/** Up to four "key value" texts: the parameters changed from their defaults first, then the first few others. */
export function paramSummary(data: Pick<NodeCardData, 'node' | 'spec'>): string[] {
  const { spec, node } = data;
  if (!spec) return [];
  const changed: string[] = [];
  const first: string[] = [];
  for (const f of fieldsFromSchema(spec.params)) {
    const v = node.params[f.key];
    // Empty values and long lists would not fit on a card line.
    if (v === undefined || v === '' || (Array.isArray(v) && v.length > 3)) continue;
    const text = `${f.key} ${Array.isArray(v) ? v.join(',') : typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v)}`;
    if (JSON.stringify(v) !== JSON.stringify(f.default)) changed.push(text);
    else if (first.length < 3) first.push(text);
  }
  return [...changed, ...first.filter((t) => !changed.includes(t))].slice(0, 4);
}

/** The card's classes: its status, and the marks for selected, invalid, unknown type and run target. */
export function cardClassName(data: Pick<NodeCardData, 'spec' | 'deco'>, selected: boolean): string {
  const { spec, deco } = data;
  return `node-card status-${deco.status}${selected ? ' selected' : ''}${deco.errors.length ? ' has-errors' : ''}${spec ? '' : ' unknown'}${deco.target ? ' run-target' : ''}`;
}

/** How far a running node is, 0…1; null when it reports no steps (or is not running). */
export function progressFraction(deco: Pick<NodeDecoration, 'status' | 'progress'>): number | null {
  if (deco.status !== 'running' || !deco.progress || deco.progress.total <= 0) return null;
  return Math.min(1, deco.progress.step / deco.progress.total);
}

/** The first three numeric metrics of a finished (or cached) node, shown on its card. */
export function headlineMetrics(deco: Pick<NodeDecoration, 'status' | 'metrics'>): [string, number][] {
  if (deco.status !== 'done' && deco.status !== 'cached') return [];
  return Object.entries(deco.metrics ?? {})
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .slice(0, 3);
}

/** The SVG polyline points of a sparkline `w`×`h`, the values scaled to fill it (1 px margin top and bottom). */
export function sparklinePoints(values: readonly number[], w: number, h: number): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  return values.map((v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - 2 - ((v - lo) / span) * (h - 4)).toFixed(1)}`).join(' ');
}

/** An input handle's tooltip: its title, type, and whether it is optional or takes many edges. */
export function inputPortTitle(p: PortSpec): string {
  return `${p.title} (${p.type}${p.optional ? ', optional' : ''}${p.multiple ? ', many' : ''})`;
}
