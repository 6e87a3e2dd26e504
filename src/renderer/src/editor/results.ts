/**
 * Plot data for the results panel, from a run's per-node state and the metrics files its metrics outputs point
 * to: loss curves, perplexity and accuracy bars, memory bars (measured next to planned), and the Compare view
 * (a table and overlaid curves for the branches a Compare node gathered).
 */
import { compareMemory, MEMORY_METRICS, memoryIncludes, type Curve, type Location, type MemoryFigures, type MetricScalar, type MetricsFile, type MetricsValue, type NodeMetrics, type Recipe } from '../../../shared';
import { nodeName } from './document';
import type { RunView } from './run-state';

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

export type MetricsFiles = Readonly<Record<string, MetricsFile>>;

export function locationKey(l: Location): string {
  return l.kind === 'store' ? `store:${l.artifact}/${l.path}` : `external:${l.path}`;
}

/** Every metrics output of the run's nodes. */
export function metricsOutputs(run: RunView): { node: string; port: string; value: MetricsValue }[] {
  const out: { node: string; port: string; value: MetricsValue }[] = [];
  for (const [node, v] of Object.entries(run.nodes)) {
    for (const [port, val] of Object.entries(v.outputs ?? {})) if (val.type === 'metrics') out.push({ node, port, value: val });
  }
  return out;
}

/** A branch's name: the label its node reports with (an Evaluate's `label` param), else the node's name. */
function labelOf(doc: Recipe | null, id: string): string {
  const n = doc?.nodes.find((x) => x.id === id);
  const own = n?.params.label;
  return typeof own === 'string' && own.trim() ? own : n ? nodeName(n) : id;
}

function curveSeries(name: string, c: Curve): Series {
  const n = Math.min(c.x.length, c.y.length);
  const points: Series['points'] = [];
  for (let i = 0; i < n; i++) if (Number.isFinite(c.x[i]) && Number.isFinite(c.y[i])) points.push({ x: c.x[i]!, y: c.y[i]! });
  return { name, points };
}

export const LOSS_KEYS = ['loss', 'trainLoss', 'train_loss'];

/** Loss curves: from the node's metrics file when it has a `loss` curve, else the live series from progress. */
export function lossSeries(doc: Recipe | null, run: RunView, files: MetricsFiles): Series[] {
  const out: Series[] = [];
  const outputs = metricsOutputs(run);
  const seen = new Set<string>();
  for (const id of run.plan.length ? run.plan : Object.keys(run.nodes)) {
    const v = run.nodes[id];
    if (!v) continue;
    const file = outputs.filter((o) => o.node === id).map((o) => files[locationKey(o.value.location)]).find((f) => f?.curves && LOSS_KEYS.some((k) => f.curves![k]));
    const curve = file ? LOSS_KEYS.map((k) => file.curves![k]).find(Boolean) : undefined;
    if (curve) {
      out.push(curveSeries(labelOf(doc, id), curve));
      seen.add(id);
      continue;
    }
    const live = LOSS_KEYS.map((k) => v.series[k]).find((s) => s && s.length > 0);
    if (live) out.push({ name: labelOf(doc, id), points: live.map((p) => ({ x: p.step, y: p.value })) });
  }
  return out.filter((s) => s.points.length > 0);
}

const PPL = /(^|[^a-z])(perplexity|ppl)/i;
const ACC = /acc(uracy)?/i;
const MEM = /mem(ory)?|bytes|gib|mib/i;
const PLANNED = /plan/i;

export function isPerplexityKey(k: string): boolean {
  return PPL.test(k);
}
export function isAccuracyKey(k: string): boolean {
  return ACC.test(k);
}
export function isMemoryKey(k: string): boolean {
  return MEM.test(k);
}

function numeric(m: Record<string, MetricScalar> | undefined): [string, number][] {
  return Object.entries(m ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
}

/** All headline scalars of a node: its metrics, plus the summaries of its metrics outputs and their files. */
export function nodeScalars(id: string, run: RunView, files: MetricsFiles): Record<string, MetricScalar> {
  const v = run.nodes[id];
  const out: Record<string, MetricScalar> = {};
  for (const o of metricsOutputs(run).filter((o) => o.node === id)) {
    Object.assign(out, o.value.summary);
    const f = files[locationKey(o.value.location)];
    if (f && !f.table) Object.assign(out, f.scalars);
  }
  Object.assign(out, v?.metrics as NodeMetrics | undefined);
  return out;
}

export interface BarRow {
  label: string;
  node: string;
  [metric: string]: string | number;
}

/** A generation task's exact match (not its standard error). */
export function isExactMatchKey(k: string): boolean {
  return k === 'exactMatch';
}

/** One row per node that reports perplexity, accuracy or exact match (Evaluate nodes, usually). */
export function evaluationRows(doc: Recipe | null, run: RunView, files: MetricsFiles): { rows: BarRow[]; perplexityKeys: string[]; accuracyKeys: string[]; exactMatchKeys: string[] } {
  const rows: BarRow[] = [];
  const ppl = new Set<string>();
  const acc = new Set<string>();
  const em = new Set<string>();
  for (const id of Object.keys(run.nodes)) {
    const s = numeric(nodeScalars(id, run, files));
    const p = s.filter(([k]) => isPerplexityKey(k));
    const a = s.filter(([k]) => isAccuracyKey(k));
    const e = s.filter(([k]) => isExactMatchKey(k));
    if (!p.length && !a.length && !e.length) continue;
    const row: BarRow = { label: labelOf(doc, id), node: id };
    for (const [k, v] of [...p, ...a, ...e]) row[k] = v;
    p.forEach(([k]) => ppl.add(k));
    a.forEach(([k]) => acc.add(k));
    e.forEach(([k]) => em.add(k));
    rows.push(row);
  }
  return { rows, perplexityKeys: [...ppl], accuracyKeys: [...acc], exactMatchKeys: [...em] };
}

/** Preferred measured / planned memory keys (LoRA-Train reports these); other memory keys are the fallback. */
export const MEASURED_MEMORY_KEYS = ['trainMemoryBytes', 'peakMemoryBytes', 'peakTensorBytes', 'memoryBytes'];
export const PLANNED_MEMORY_KEYS = ['plannedMemoryBytes', 'plannedBytes'];

function toMiB(k: string, v: number): number {
  const mib = /bytes/i.test(k) ? v / 2 ** 20 : /gib/i.test(k) ? v * 1024 : v;
  return Math.round(mib * 100) / 100;
}

/** A node whose planned and measured memory disagree by more than MEMORY_GAP_WARN, or are for different runtimes. */
export interface MemoryNote {
  node: string;
  label: string;
  kind: 'gap' | 'incomparable';
  text: string;
}

/** The measured and planned figures of one node's memory keys, with the runtime each is for (shared/memory.ts). */
function nodeMemory(scalars: Record<string, MetricScalar>, mem: Map<string, number>) {
  const measuredKey = MEASURED_MEMORY_KEYS.find((k) => mem.has(k)) ?? [...mem.keys()].find((k) => !PLANNED.test(k) && !/gap/i.test(k));
  const plannedKey = PLANNED_MEMORY_KEYS.find((k) => mem.has(k)) ?? [...mem.keys()].find((k) => PLANNED.test(k) && !/base|hbm/i.test(k));
  const str = (k: string) => (typeof scalars[k] === 'string' ? (scalars[k] as string) : null);
  const bytes = (k: string | undefined) => (k && /bytes/i.test(k) ? mem.get(k)! : k ? toMiB(k, mem.get(k)!) * 2 ** 20 : null);
  const figures: MemoryFigures = { measured: bytes(measuredKey), measuredRuntime: str(MEMORY_METRICS.measuredRuntime), planned: bytes(plannedKey), plannedRuntime: str(MEMORY_METRICS.plannedRuntime) };
  return { measuredKey, plannedKey, figures };
}

/**
 * One row per node that reports memory: `measured` (peak during training) next to `planned` (the planner's figure
 * for the same runtime and settings), in MiB; a note for each node whose two figures are more than 10% apart or are
 * for different runtimes, and what each figure includes (the chart's tooltip).
 */
export function memoryRows(doc: Recipe | null, run: RunView, files: MetricsFiles): { rows: BarRow[]; keys: string[]; notes: MemoryNote[]; includes: Record<string, { planned: string; measured: string }> } {
  const rows: BarRow[] = [];
  const keys = new Set<string>();
  const notes: MemoryNote[] = [];
  const includes: Record<string, { planned: string; measured: string }> = {};
  for (const id of Object.keys(run.nodes)) {
    const scalars = nodeScalars(id, run, files);
    const mem = new Map(numeric(scalars).filter(([k]) => isMemoryKey(k)));
    if (!mem.size) continue;
    const { measuredKey, plannedKey, figures } = nodeMemory(scalars, mem);
    if (!measuredKey && !plannedKey) continue;
    const row: BarRow = { label: labelOf(doc, id), node: id };
    if (measuredKey) {
      row.measured = toMiB(measuredKey, mem.get(measuredKey)!);
      keys.add('measured');
    }
    if (plannedKey) {
      row.planned = toMiB(plannedKey, mem.get(plannedKey)!);
      keys.add('planned');
    }
    const c = compareMemory(figures);
    if (c.note) notes.push({ node: id, label: row.label, kind: c.warn ? 'gap' : 'incomparable', text: c.note });
    includes[row.label] = memoryIncludes(figures);
    rows.push(row);
  }
  return { rows, keys: ['measured', 'planned'].filter((k) => keys.has(k)), notes, includes };
}

export interface CompareView {
  title: string;
  columns: string[];
  rows: { label: string; values: Record<string, MetricScalar> }[];
  /** Curves by name (e.g. loss), one series per branch. */
  curves: Record<string, Series[]>;
  /** For each numeric column: the best row (lowest perplexity/loss/memory/time, highest accuracy). */
  best: Record<string, string>;
}

/** Columns where "best" means something: quality, memory, time, loss; not counts (tokens, items, params, steps) or standard errors. */
export function isRankedColumn(col: string): boolean {
  return /perplexity|ppl|acc|exactMatch|loss|mem|bytes|seconds|time/i.test(col) && !/tokens|items|count|params|steps|branches|stderr/i.test(col);
}

function lowerIsBetter(col: string): boolean {
  return !isAccuracyKey(col) && !isExactMatchKey(col);
}

export function compareView(file: MetricsFile): CompareView | null {
  if (!file.table) return null;
  const curves: Record<string, Series[]> = {};
  for (const r of file.table.rows) {
    for (const [name, c] of Object.entries(r.curves ?? {})) (curves[name] ??= []).push(curveSeries(r.label, c));
  }
  const best: Record<string, string> = {};
  for (const col of file.table.columns) {
    if (!isRankedColumn(col)) continue;
    let bestRow: string | null = null;
    let bestVal = 0;
    for (const r of file.table.rows) {
      const v = r.values[col];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      if (bestRow === null || (lowerIsBetter(col) ? v < bestVal : v > bestVal)) {
        bestRow = r.label;
        bestVal = v;
      }
    }
    if (bestRow !== null && file.table.rows.filter((r) => typeof r.values[col] === 'number').length > 1) best[col] = bestRow;
  }
  return { title: file.label, columns: file.table.columns, rows: file.table.rows.map((r) => ({ label: r.label, values: r.values })), curves, best };
}

/** The series' names as chart keys: a repeated name gets a number ("eval (2)"), so every line has its own entry. */
export function seriesKeys(series: readonly Series[]): string[] {
  const used = new Map<string, number>();
  return series.map((s) => {
    const n = used.get(s.name) ?? 0;
    used.set(s.name, n + 1);
    return n ? `${s.name} (${n + 1})` : s.name;
  });
}
