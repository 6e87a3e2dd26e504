/**
 * The report's branches: one per Evaluate node, its role read from the graph (which model it sees, through
 * which Prune / Align / Quantize / LoRA-Train / Recover nodes), paired with the branch it is an ablation of
 * and given a short name for chart axes.
 */
import { memoryFigures, type Curve, type MetricScalar } from '../shared';
import { num, type ModelChain, type RunGraph, type RunInput } from './run-graph';
import { downstreamOf, type TaskLegs } from './downstream';
import type { Branch, BranchRole, Strategy, TrainInfo } from './types';

const STRATEGY_NAME: Record<Strategy, string> = { rand: 'Rand', stru: 'Stru', semi: 'Semi', unst: 'Unst' };

/** Which origin is "the large model": the one that gets pruned; else the Load with most parameters. */
export function largeModelSource(g: RunGraph): string | null {
  const loads = g.recipe.nodes.filter((n) => n.type === 'Load').map((n) => n.id);
  const pruned = new Set(g.recipe.nodes.filter((n) => n.type === 'Prune').map((n) => g.sourceOf(g.modelChain(g.incoming(n.id, 'model')[0]).load)));
  const paramsCount = (l: string) => num(g.nodes[l]?.metrics?.params) ?? 0;
  if (pruned.size) return [...pruned][0]!;
  return loads.length ? g.sourceOf([...loads].sort((a, b) => paramsCount(b) - paramsCount(a))[0]!) : null;
}

/** Evaluate nodes, in the order of the first Compare's inputs, then any others. */
export function evaluationOrder(g: RunGraph): string[] {
  const compare = g.recipe.nodes.find((n) => n.type === 'Compare');
  const ordered = compare ? g.incoming(compare.id, 'metrics').filter((id) => g.typeOf(id) === 'Evaluate') : [];
  for (const n of g.recipe.nodes) if (n.type === 'Evaluate' && !ordered.includes(n.id)) ordered.push(n.id);
  return ordered;
}

/** What an Evaluate node is wired to: the model it sees and, with an adapter, the training behind it. */
interface EvaluationLinks {
  evalChain: ModelChain;
  adapterFrom: string | undefined;
  recovered: boolean;
  /** The LoRA-Train node whose adapter it uses (through a Recover or not), if any. */
  train: string | null;
  /** The chain the adapter was trained on (the evaluated model's when there is no adapter). */
  trainChain: ModelChain;
}

function evaluationLinks(g: RunGraph, evaluate: string): EvaluationLinks {
  const evalChain = g.modelChain(g.incoming(evaluate, 'model')[0]);
  const adapterFrom = g.incoming(evaluate, 'adapter')[0];
  const recovered = g.typeOf(adapterFrom) === 'Recover';
  const trainer = adapterFrom ? (recovered ? g.incoming(adapterFrom, 'adapter')[0] ?? null : adapterFrom) : null;
  const trainChain = trainer ? g.modelChain(g.incoming(trainer, 'model')[0]) : evalChain;
  return { evalChain, adapterFrom, recovered, train: trainer && g.typeOf(trainer) === 'LoRA-Train' ? trainer : null, trainChain };
}

function roleOf(links: EvaluationLinks, isLarge: boolean): BranchRole {
  if (!links.adapterFrom) return links.evalChain.prune ? 'other' : isLarge ? 'untuned-large' : 'untuned-small';
  if (links.recovered) return links.trainChain.align ? 'loram' : 'no-alignment';
  if (links.evalChain.prune) return 'no-recovery';
  return isLarge ? 'lora-large' : 'lora-small';
}

export async function trainInfo(run: RunInput, id: string): Promise<TrainInfo> {
  const m = run.nodes[id]?.metrics ?? {};
  return {
    node: id,
    seconds: num(m.trainSeconds),
    steps: num(m.steps),
    tokensPerSec: num(m.tokensPerSec),
    loraParams: num(m.loraParams),
    baseParams: num(m.baseParams),
    finalLoss: num(m.finalLoss),
    valLoss: num(m.valLoss),
    ...trainMemory(m),
    loss: await lossCurve(run, id),
  };
}

function trainMemory(m: Record<string, MetricScalar>): Pick<TrainInfo, 'memoryMeasured' | 'memoryPlanned' | 'memoryMeasuredRuntime' | 'memoryPlannedRuntime'> {
  const f = memoryFigures(m);
  return { memoryMeasured: f.measured, memoryPlanned: f.planned, memoryMeasuredRuntime: f.measuredRuntime, memoryPlannedRuntime: f.plannedRuntime };
}

/** The loss curve of a LoRA-Train node's metrics file; null when there is none or it cannot be read. */
async function lossCurve(run: RunInput, id: string): Promise<Curve | null> {
  const loc = run.nodes[id]?.outputs?.metrics;
  if (!loc || loc.type !== 'metrics') return null;
  const text = await run.readText(loc.location);
  if (!text) return null;
  try {
    const f = JSON.parse(text) as { curves?: Record<string, Curve> };
    return f.curves?.loss && Array.isArray(f.curves.loss.x) ? f.curves.loss : null;
  } catch {
    return null; // an unreadable metrics file: no curve
  }
}

async function branchOf(run: RunInput, g: RunGraph, evaluate: string, links: EvaluationLinks, largeSource: string | null, leg: string | undefined): Promise<Branch> {
  const label = g.labelOf(evaluate);
  const origin = g.sourceOf(links.evalChain.load ?? links.trainChain.load);
  const chain = links.adapterFrom ? links.trainChain : links.evalChain;
  const pruneP = chain.prune ? g.paramsOf(chain.prune) : null;
  const m = g.nodes[evaluate]?.metrics ?? {};
  return {
    node: evaluate,
    label,
    short: label,
    role: roleOf(links, origin === largeSource),
    origin,
    strategy: (pruneP?.strategy as Strategy | undefined) ?? null,
    ratio: pruneP ? num(pruneP.ratio as number) : null,
    aligned: !!chain.align,
    quantized: !!chain.quantize,
    recovered: links.recovered,
    status: g.nodes[evaluate]?.status ?? 'missing',
    perplexity: num(m.perplexity),
    accuracy: num(m.accuracy),
    accuracyNorm: num(m.accuracyNorm),
    accuracyStderr: num(m.accuracyStderr),
    items: num(m.items),
    tokens: num(m.tokens),
    ...downstreamOf(g, evaluate, leg),
    train: links.train ? await trainInfo(run, links.train) : null,
    offline: { prune: await g.durationSec(chain.prune), align: await g.durationSec(chain.align), quantize: await g.durationSec(chain.quantize) },
    ablationOf: null,
  };
}

/**
 * Ablation pairing: a recovered branch without alignment is the ablation of the aligned one of the same
 * strategy / quantization (else it is itself the LoRAM row); a no-recovery branch is the ablation of the
 * recovered branch that used the same trained adapter.
 */
function pairAblations(branches: Branch[], trainOf: ReadonlyMap<string, string | null>): void {
  for (const b of branches) {
    if (b.role === 'no-alignment') {
      const main = branches.find((m) => m.role === 'loram' && m.strategy === b.strategy && m.quantized === b.quantized && m.ratio === b.ratio && m.origin === b.origin);
      if (main) b.ablationOf = main.node;
      else b.role = 'loram';
    } else if (b.role === 'no-recovery') {
      const t = trainOf.get(b.node);
      const main = branches.find((m) => m.recovered && t && trainOf.get(m.node) === t);
      if (main) b.ablationOf = main.node;
      else b.role = 'other';
    }
  }
}

function shortName(b: Branch): string {
  const v = b.strategy ? `${b.quantized ? 'QLoRAM' : 'LoRAM'}-${STRATEGY_NAME[b.strategy]}` : '';
  switch (b.role) {
    case 'loram': return v;
    case 'no-alignment': return `${v} w/o align`;
    case 'no-recovery': return `${v} w/o recovery`;
    case 'untuned-large': return 'large (untuned)';
    case 'untuned-small': return 'small (untuned)';
    case 'lora-large': return 'large + LoRA';
    case 'lora-small': return 'small + LoRA';
    default: return b.label;
  }
}

/** Short names for chart axes, made unique with the node id where two would read the same. */
function nameShort(branches: Branch[]): void {
  const used = new Set<string>();
  for (const b of branches) {
    const s = shortName(b);
    b.short = used.has(s) ? `${s} (${b.node})` : s;
    used.add(b.short);
  }
}

/** The branches of the Evaluate nodes `legs.primary`, in that order, each with its task leg's numbers. */
export async function buildBranches(run: RunInput, g: RunGraph, legs: TaskLegs): Promise<Branch[]> {
  const largeSource = largeModelSource(g);
  const branches: Branch[] = [];
  const trainOf = new Map<string, string | null>();
  for (const e of legs.primary) {
    const links = evaluationLinks(g, e);
    trainOf.set(e, links.train);
    branches.push(await branchOf(run, g, e, links, largeSource, legs.legOf.get(e)));
  }
  pairAblations(branches, trainOf);
  nameShort(branches);
  return branches;
}
