/**
 * A run's recipe read as a graph for the report: which node feeds which port, each node's parsed params,
 * the chain of model transforms behind a model input, and how long each node took.
 */
import type { Location, MetricScalar, NodeRunSummary, Recipe } from '../shared';
import { registry } from '../nodes/index';

/** What the report is built from: a run's recipe snapshot, per-node results, and access to its artifacts. */
export interface RunInput {
  runId: string;
  summary: { status: string; recipeName?: string; startedAt?: number; endedAt?: number; counts?: Record<string, number> };
  recipe: Recipe;
  nodes: Record<string, NodeRunSummary>;
  /** Text of a file at a location (+ a relative path inside it), or null when it cannot be read. */
  readText(location: Location, rel?: string): Promise<string | null>;
  /** The compute time an artifact once took (cached nodes do not carry it in this run). */
  artifactDurationMs(signature: string): Promise<number | null>;
}

/** A metric as a finite number, null when it is missing or not one. */
export const num = (v: MetricScalar | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The transforms a model went through on its way from its Load, nearest first. */
export type ModelChain = { load: string | null; prune: string | null; align: string | null; quantize: string | null; other: string[] };

export interface RunGraph {
  recipe: Recipe;
  nodes: Record<string, NodeRunSummary>;
  typeOf(id: string | null | undefined): string | undefined;
  /** The nodes feeding a node's input port, in edge order. */
  incoming(id: string, port: string): string[];
  /** Params as the node's schema parses them (defaults filled in), else as written. */
  paramsOf(id: string): Record<string, unknown>;
  /** Own compute time in seconds; a cached node's is what its artifact once took. */
  durationSec(id: string | null): Promise<number | null>;
  /** A node's label param, else the node's label, else its id. */
  labelOf(id: string): string;
  /** The chain behind the model that node `id` outputs. */
  modelChain(id: string | undefined): ModelChain;
  /** A Load node's source (its model name), 'unknown' without one. */
  sourceOf(load: string | null): string;
}

export function runGraph({ recipe, nodes, artifactDurationMs }: RunInput): RunGraph {
  const byId = new Map(recipe.nodes.map((n) => [n.id, n]));
  const typeOf = (id: string | null | undefined) => (id ? byId.get(id)?.type : undefined);
  const incoming = (id: string, port: string) => recipe.edges.filter((e) => e.to.node === id && e.to.port === port).map((e) => e.from.node);
  const paramsOf = (id: string): Record<string, unknown> => {
    const n = byId.get(id)!;
    const parsed = registry.get(n.type)?.params.safeParse(n.params ?? {});
    return (parsed?.success ? parsed.data : n.params ?? {}) as Record<string, unknown>;
  };
  const durationSec = async (id: string | null): Promise<number | null> => {
    const s = id ? nodes[id] : undefined;
    if (s?.durationMs !== undefined) return s.durationMs / 1000;
    if (!s?.signature) return null;
    const ms = await artifactDurationMs(s.signature);
    return ms === null ? null : ms / 1000;
  };
  const modelChain = (id: string | undefined): ModelChain => {
    const c: ModelChain = { load: null, prune: null, align: null, quantize: null, other: [] };
    const seen = new Set<string>();
    for (let cur = id; cur && !seen.has(cur); cur = incoming(cur, 'model')[0]) {
      seen.add(cur);
      const t = typeOf(cur);
      if (t === 'Load') {
        c.load = cur;
        break;
      }
      if (t === 'Prune') c.prune ??= cur;
      else if (t === 'Align') c.align ??= cur;
      else if (t === 'Quantize') c.quantize ??= cur;
      else c.other.push(cur);
    }
    return c;
  };
  const sourceOf = (load: string | null) => (load ? String(paramsOf(load).source ?? load) : 'unknown');
  const labelOf = (id: string) => {
    const label = paramsOf(id).label;
    return (typeof label === 'string' && label) || byId.get(id)!.label || id;
  };
  return { recipe, nodes, typeOf, incoming, paramsOf, durationSec, labelOf, modelChain, sourceOf };
}
