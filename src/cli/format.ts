/** Text formatting for the CLI: numbers, durations, metrics, validation errors. */
import type { Location, NodeMetrics, NodeRunSummary, ValidationError } from '../shared';

export function fmtNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return Math.abs(v) >= 1e4 ? v.toLocaleString('en-US') : String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 1) return v.toPrecision(4);
  if (a >= 1e-3) return v.toPrecision(3);
  return v.toExponential(2);
}

export function fmtDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function fmtMetrics(m: NodeMetrics | undefined, max = 6): string {
  if (!m) return '';
  return Object.entries(m)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .slice(0, max)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? fmtNumber(v) : String(v)}`)
    .join(', ');
}

export function fmtError(e: ValidationError): string {
  const where = [e.node, e.field].filter(Boolean).join(' ');
  return `  ${e.code}${where ? ` (${where})` : ''}: ${e.message}`;
}

export function bar(step: number, total: number, width = 24): string {
  const f = total > 0 ? Math.max(0, Math.min(1, step / total)) : 0;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

/** Node kinds whose outputs are what a user came for: the recovered adapter, the exported model. */
const PRODUCT_TYPES = new Set(['Recover', 'Export']);

/**
 * "where the result is": one line per output of each Recover / Export node that finished, with its absolute path.
 * Only for a handful of such nodes (a 17-branch comparison lists them in its run history, not on the terminal).
 */
export function productLines(nodes: Record<string, NodeRunSummary>, resolve: (loc: Location) => string, max = 4): string[] {
  const products = Object.entries(nodes).filter(([, n]) => PRODUCT_TYPES.has(n.type) && (n.status === 'done' || n.status === 'cached') && n.outputs);
  if (products.length === 0 || products.length > max) return [];
  const lines: string[] = [];
  for (const [id, n] of products) {
    for (const [port, value] of Object.entries(n.outputs!)) {
      if (value && 'location' in value && value.location) lines.push(`  ${id} ${port}: ${resolve(value.location)}`);
    }
  }
  return lines;
}
