/**
 * What the editor knows about runs, folded from engine events: the current (or last) run's per-node state,
 * live metrics (the loss curve while training), and the log. Plus the status each node card shows, which also
 * depends on the cache: a node whose result exists for its current parameters is `cached`; one that had a result
 * before its parameters (or upstream) changed is `stale`.
 */
import type { CacheStatus, EngineEvent, NodeErrorInfo, NodeMetrics, NodeOutputs, Recipe, RunStatus } from '../../../shared';

export type NodeStatus = 'idle' | 'cached' | 'stale' | 'queued' | 'running' | 'done' | 'failed' | 'skipped' | 'cancelled';

export interface LivePoint {
  step: number;
  value: number;
}

export interface NodeRunView {
  status: 'queued' | 'running' | 'done' | 'cached' | 'failed' | 'skipped' | 'cancelled';
  signature?: string;
  step?: number;
  total?: number;
  /** The last live metrics reported with progress. */
  live?: NodeMetrics;
  /** What a running node last said it is doing (its latest info log line: "tokenizing the training text"). */
  phase?: string;
  /** Live series by metric name (e.g. loss), from progress events. */
  series: Record<string, LivePoint[]>;
  metrics?: NodeMetrics;
  outputs?: NodeOutputs;
  durationMs?: number;
  error?: NodeErrorInfo;
  startedAt?: number;
  /** The remote worker that computed it (runs on workers). */
  worker?: string;
}

export interface LogEntry {
  seq: number;
  time: number;
  runId: string;
  level: 'info' | 'warn' | 'error';
  node: string | null;
  message: string;
}

export interface RunView {
  runId: string | null;
  recipeName: string;
  status: RunStatus | null;
  plan: string[];
  to?: string;
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  /** The queue of workers the run computed on, as displayed (absent: this machine). */
  workers?: string;
  nodes: Record<string, NodeRunView>;
}

export const MAX_LOG = 3000;
export const MAX_SERIES_POINTS = 4000;

export function emptyRunView(): RunView {
  return { runId: null, recipeName: '', status: null, plan: [], nodes: {} };
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export { fmtMs as formatDuration };

function pushSeries(series: Record<string, LivePoint[]>, step: number, metrics: NodeMetrics | undefined): Record<string, LivePoint[]> {
  if (!metrics) return series;
  let out = series;
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const prev = out[k] ?? [];
    if (prev.length && prev[prev.length - 1]!.step === step) continue;
    let next = [...prev, { step, value: v }];
    // Keep memory bounded on very long runs: drop every other point of the older half.
    if (next.length > MAX_SERIES_POINTS) next = [...next.slice(0, MAX_SERIES_POINTS / 2).filter((_, i) => i % 2 === 0), ...next.slice(MAX_SERIES_POINTS / 2)];
    if (out === series) out = { ...series };
    out[k] = next;
  }
  return out;
}

/** Fold one event into the run view. Events of a run other than the current one are ignored (except a new start). */
export function reduceRun(state: RunView, ev: EngineEvent): RunView {
  if (ev.type === 'run-started') {
    const nodes: Record<string, NodeRunView> = {};
    for (const id of ev.plan) nodes[id] = { status: 'queued', series: {} };
    return { runId: ev.runId, recipeName: ev.recipeName, status: 'running', plan: ev.plan, ...(ev.to ? { to: ev.to } : {}), ...(ev.workers ? { workers: ev.workers } : {}), startedAt: ev.time, nodes };
  }
  if (ev.runId !== state.runId) return state;
  const node = (id: string): NodeRunView => state.nodes[id] ?? { status: 'queued', series: {} };
  const withNode = (id: string, v: NodeRunView): RunView => ({ ...state, nodes: { ...state.nodes, [id]: v } });
  switch (ev.type) {
    case 'node-cached':
      return withNode(ev.node, { ...node(ev.node), status: 'cached', signature: ev.signature, outputs: ev.outputs, metrics: ev.metrics });
    case 'node-started':
      return withNode(ev.node, { ...node(ev.node), status: 'running', signature: ev.signature, startedAt: ev.time, series: {}, phase: undefined });
    case 'node-progress': {
      const n = node(ev.node);
      return withNode(ev.node, { ...n, status: 'running', step: ev.step, total: ev.total, ...(ev.metrics ? { live: ev.metrics } : {}), series: pushSeries(n.series, ev.step, ev.metrics) });
    }
    case 'node-log': {
      const n = state.nodes[ev.node];
      return n?.status === 'running' && ev.level === 'info' ? withNode(ev.node, { ...n, phase: ev.message }) : state;
    }
    case 'node-finished':
      return withNode(ev.node, { ...node(ev.node), status: 'done', signature: ev.signature, outputs: ev.outputs, metrics: ev.metrics, durationMs: ev.durationMs, ...(ev.worker ? { worker: ev.worker } : {}) });
    case 'node-failed': {
      const cancelled = ev.error.code === 'cancelled';
      return withNode(ev.node, { ...node(ev.node), status: cancelled ? 'cancelled' : 'failed', error: ev.error, durationMs: ev.durationMs });
    }
    case 'run-finished':
    case 'run-cancelled': {
      const nodes = { ...state.nodes };
      for (const [id, s] of Object.entries(ev.nodes)) {
        const n = nodes[id] ?? { status: 'queued', series: {} };
        const status: NodeRunView['status'] =
          s.status === 'pending' ? (ev.type === 'run-cancelled' ? 'cancelled' : 'skipped') : s.status === 'done' || s.status === 'cached' || s.status === 'failed' || s.status === 'skipped' || s.status === 'cancelled' ? s.status : n.status;
        nodes[id] = {
          ...n,
          status,
          ...(s.signature ? { signature: s.signature } : {}),
          ...(s.metrics ? { metrics: s.metrics } : {}),
          ...(s.outputs ? { outputs: s.outputs } : {}),
          ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
          ...(s.error ? { error: s.error } : {}),
          ...(s.worker ? { worker: s.worker } : {}),
        };
      }
      // Anything still queued or running did not happen.
      for (const [id, n] of Object.entries(nodes)) {
        if (n.status === 'queued' || n.status === 'running') nodes[id] = { ...n, status: ev.type === 'run-cancelled' ? 'cancelled' : 'skipped' };
      }
      const status: RunStatus = ev.type === 'run-cancelled' ? 'cancelled' : ev.ok ? 'finished' : 'failed';
      return { ...state, status, endedAt: ev.time, durationMs: ev.durationMs, nodes };
    }
  }
}

/** The log lines an event produces (run-level lines have node = null). */
export function logLines(ev: EngineEvent, names: (id: string) => string = (id) => id): Omit<LogEntry, 'seq'>[] {
  const base = { time: ev.time, runId: ev.runId };
  switch (ev.type) {
    case 'run-started':
      return [{ ...base, level: 'info', node: null, message: `Run ${ev.runId} started: ${ev.plan.length} node${ev.plan.length === 1 ? '' : 's'}${ev.to ? ` (up to ${names(ev.to)})` : ''}${ev.noCache ? ', cache off' : ''}${ev.workers ? `, on workers ${ev.workers}` : ''}` }];
    case 'node-cached':
      return [{ ...base, level: 'info', node: ev.node, message: `${names(ev.node)}: reused the cached result` }];
    case 'node-started':
      return [{ ...base, level: 'info', node: ev.node, message: `${names(ev.node)}: started` }];
    case 'node-progress':
      return [];
    case 'node-log':
      return [{ ...base, level: ev.level, node: ev.node, message: `${names(ev.node)}: ${ev.message}` }];
    case 'node-finished':
      return [{ ...base, level: 'info', node: ev.node, message: `${names(ev.node)}: done in ${fmtMs(ev.durationMs)}${ev.worker ? ` on worker ${ev.worker}` : ''}${summarize(ev.metrics)}` }];
    case 'node-failed':
      return [
        {
          ...base,
          level: ev.error.code === 'cancelled' ? 'warn' : 'error',
          node: ev.node,
          message: ev.error.code === 'cancelled' ? `${names(ev.node)}: cancelled` : `${names(ev.node)} failed: ${ev.error.message}`,
        },
      ];
    case 'run-finished':
      return [{ ...base, level: ev.ok ? 'info' : 'error', node: null, message: `Run ${ev.runId} ${ev.ok ? 'finished' : 'finished with failures'} in ${fmtMs(ev.durationMs)}` }];
    case 'run-cancelled':
      return [{ ...base, level: 'warn', node: null, message: `Run ${ev.runId} cancelled after ${fmtMs(ev.durationMs)}${ev.node ? ` (while running ${names(ev.node)})` : ''}` }];
  }
}

export function formatMetric(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return Math.abs(v) >= 10_000 ? v.toLocaleString('en-US') : String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
    return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(3) : v.toFixed(4);
  }
  if (v === null || v === undefined) return '—';
  return String(v);
}

function summarize(m: NodeMetrics): string {
  const parts = Object.entries(m)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    .slice(0, 4)
    .map(([k, v]) => `${k} ${formatMetric(v)}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/**
 * Per node: what the card shows. `known` holds, per node, the signature of the last result seen for it in this
 * session (cached or computed): a node without a result for its current signature but with an older one is
 * `stale` (its parameters or upstream changed since).
 */
export function nodeStatuses(
  doc: Recipe,
  run: RunView,
  cache: CacheStatus | null,
  known: Readonly<Record<string, string>> = {},
  /** False while `cache` belongs to an older version of the document (a check is on its way): no stale verdicts. */
  fresh = true,
): Record<string, NodeStatus> {
  const out: Record<string, NodeStatus> = {};
  const running = run.status === 'running';
  for (const n of doc.nodes) {
    const r = run.nodes[n.id];
    const c = cache?.nodes[n.id];
    if (running && r) {
      out[n.id] = r.status;
      continue;
    }
    const sigNow = c?.signature ?? null;
    const sameSig = r?.signature !== undefined && sigNow !== null && (r.signature === sigNow || !fresh);
    const hadResult = (r && (r.status === 'done' || r.status === 'cached')) || known[n.id] !== undefined;
    if (r && (r.status === 'done' || r.status === 'cached') && (sameSig || (sigNow === null && !cache))) {
      out[n.id] = r.status === 'done' ? 'done' : 'cached';
    } else if (c?.cached) {
      out[n.id] = 'cached';
    } else if (r && (r.status === 'failed' || r.status === 'cancelled' || r.status === 'skipped') && (sameSig || !r.signature || !cache)) {
      out[n.id] = r.status;
    } else if (hadResult && cache && fresh) {
      out[n.id] = 'stale';
    } else {
      out[n.id] = 'idle';
    }
  }
  return out;
}
