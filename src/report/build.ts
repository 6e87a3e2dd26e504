/**
 * A run (recipe snapshot + per-node results + artifacts) → the report model. Branch roles come from the graph
 * itself (which Evaluate sees which model, through which Prune / Align / Quantize / LoRA-Train / Recover nodes),
 * not from labels, so any recipe of this shape gets the same analysis.
 */
import type { Curve, Location, MetricScalar, NodeRunSummary, Recipe } from '../shared';
import { registry } from '../nodes/index';
import { computeClaims, contextNotes, DEFAULT_PPL_TOLERANCE } from './claims';
import { computeVerdict } from './verdict';
import type { Branch, BranchRole, McInfo, ReportModel, Strategy, TrainInfo } from './types';

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

export interface BuildOptions {
  /** The recipe file this run's snapshot equals (for the reproduce command), if any. */
  recipeFile?: string | null;
  /** Where the report folder will be (its recipe.json copy is the fallback reproduce command). */
  outDirForCommand?: string;
  commit?: string | null;
  pplTolerance?: number;
}

type Chain = { load: string | null; prune: string | null; align: string | null; quantize: string | null; other: string[] };

const num = (v: MetricScalar | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const STRATEGY_NAME: Record<Strategy, string> = { rand: 'Rand', stru: 'Stru', semi: 'Semi', unst: 'Unst' };

export async function buildReportModel(run: RunInput, opts: BuildOptions = {}): Promise<ReportModel> {
  const { recipe, nodes } = run;
  const byId = new Map(recipe.nodes.map((n) => [n.id, n]));
  const typeOf = (id: string | null) => (id ? byId.get(id)?.type : undefined);
  const incoming = (id: string, port: string) => recipe.edges.filter((e) => e.to.node === id && e.to.port === port).map((e) => e.from.node);
  const paramsOf = (id: string): Record<string, unknown> => {
    const n = byId.get(id)!;
    const def = registry.get(n.type);
    const parsed = def?.params.safeParse(n.params ?? {});
    return (parsed?.success ? parsed.data : n.params ?? {}) as Record<string, unknown>;
  };
  const durationSec = async (id: string | null): Promise<number | null> => {
    if (!id) return null;
    const s = nodes[id];
    if (s?.durationMs !== undefined) return s.durationMs / 1000;
    if (s?.signature) {
      const ms = await run.artifactDurationMs(s.signature);
      return ms === null ? null : ms / 1000;
    }
    return null;
  };

  const modelChain = (id: string | undefined): Chain => {
    const c: Chain = { load: null, prune: null, align: null, quantize: null, other: [] };
    let cur = id;
    const seen = new Set<string>();
    while (cur && !seen.has(cur)) {
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
      cur = incoming(cur, 'model')[0];
    }
    return c;
  };
  const sourceOf = (load: string | null) => (load ? String(paramsOf(load).source ?? load) : 'unknown');

  // Which origin is "the large model": the one that gets pruned; else the Load with most parameters.
  const loads = recipe.nodes.filter((n) => n.type === 'Load').map((n) => n.id);
  const pruned = new Set(recipe.nodes.filter((n) => n.type === 'Prune').map((n) => sourceOf(modelChain(incoming(n.id, 'model')[0]).load)));
  const paramsCount = (l: string) => num(nodes[l]?.metrics?.params) ?? 0;
  const largeSource = pruned.size ? [...pruned][0]! : loads.length ? sourceOf([...loads].sort((a, b) => paramsCount(b) - paramsCount(a))[0]!) : null;

  // Evaluate nodes, in the order of the first Compare's inputs, then any others.
  const compare = recipe.nodes.find((n) => n.type === 'Compare');
  const evalIds = recipe.nodes.filter((n) => n.type === 'Evaluate').map((n) => n.id);
  const ordered = compare ? incoming(compare.id, 'metrics').filter((id) => typeOf(id) === 'Evaluate') : [];
  for (const id of evalIds) if (!ordered.includes(id)) ordered.push(id);

  const branches: Branch[] = [];
  const trainOf = new Map<string, string | null>();
  for (const e of ordered) {
    const p = paramsOf(e);
    const recipeNode = byId.get(e)!;
    const label = (typeof p.label === 'string' && p.label) || recipeNode.label || e;
    const evalChain = modelChain(incoming(e, 'model')[0]);
    const adapterFrom = incoming(e, 'adapter')[0];
    const recovered = typeOf(adapterFrom ?? null) === 'Recover';
    const train = adapterFrom ? (recovered ? incoming(adapterFrom, 'adapter')[0] ?? null : adapterFrom) : null;
    trainOf.set(e, train && typeOf(train) === 'LoRA-Train' ? train : null);
    const trainChain = train ? modelChain(incoming(train, 'model')[0]) : evalChain;
    const origin = sourceOf(evalChain.load ?? trainChain.load);
    const isLarge = origin === largeSource;
    let role: BranchRole;
    if (!adapterFrom) role = evalChain.prune ? 'other' : isLarge ? 'untuned-large' : 'untuned-small';
    else if (recovered) role = trainChain.align ? 'loram' : 'no-alignment';
    else if (evalChain.prune) role = 'no-recovery';
    else role = isLarge ? 'lora-large' : 'lora-small';
    const chain = adapterFrom ? trainChain : evalChain;
    const pruneP = chain.prune ? paramsOf(chain.prune) : null;
    const strategy = (pruneP?.strategy as Strategy | undefined) ?? null;
    const m = nodes[e]?.metrics ?? {};
    const t = trainOf.get(e) ?? null;
    branches.push({
      node: e,
      label,
      short: label,
      role,
      origin,
      strategy,
      ratio: pruneP ? num(pruneP.ratio as number) : null,
      aligned: !!chain.align,
      quantized: !!chain.quantize,
      recovered,
      status: nodes[e]?.status ?? 'missing',
      perplexity: num(m.perplexity),
      accuracy: num(m.accuracy),
      accuracyNorm: num(m.accuracyNorm),
      accuracyStderr: num(m.accuracyStderr),
      items: num(m.items),
      tokens: num(m.tokens),
      train: t ? await trainInfo(run, t) : null,
      offline: { prune: await durationSec(chain.prune), align: await durationSec(chain.align), quantize: await durationSec(chain.quantize) },
      ablationOf: null,
    });
  }

  // Ablation pairing: a recovered branch without alignment is the ablation of the aligned one of the same
  // strategy / quantization (else it is itself the LoRAM row); a no-recovery branch is the ablation of the
  // recovered branch that used the same trained adapter.
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
  // Short names for chart axes.
  const used = new Set<string>();
  for (const b of branches) {
    const v = b.strategy ? `${b.quantized ? 'QLoRAM' : 'LoRAM'}-${STRATEGY_NAME[b.strategy]}` : '';
    const s =
      b.role === 'loram' ? v
      : b.role === 'no-alignment' ? `${v} w/o align`
      : b.role === 'no-recovery' ? `${v} w/o recovery`
      : b.role === 'untuned-large' ? 'large (untuned)'
      : b.role === 'untuned-small' ? 'small (untuned)'
      : b.role === 'lora-large' ? 'large + LoRA'
      : b.role === 'lora-small' ? 'small + LoRA'
      : b.label;
    b.short = used.has(s) ? `${s} (${b.node})` : s;
    used.add(b.short);
  }

  const tolerance = opts.pplTolerance ?? DEFAULT_PPL_TOLERANCE;
  const claims = computeClaims(branches, tolerance);
  const notes = contextNotes(branches);

  // Compute time: every node's own duration (cached nodes: what their artifact once took).
  let compute = 0;
  let computeKnown = false;
  for (const id of Object.keys(nodes)) {
    const s = await durationSec(id);
    if (s !== null) {
      compute += s;
      computeKnown = true;
    }
  }
  const firstEval = branches.find((b) => nodes[b.node]?.metrics?.backend !== undefined);
  const em = firstEval ? nodes[firstEval.node]!.metrics! : null;
  const backend = em ? `${String(em.runtime ?? '')}${em.runtime ? '/' : ''}${String(em.backend ?? '')}` : null;

  const evalWithData = ordered.find((id) => incoming(id, 'dataset')[0]);
  const heldOutDs = evalWithData ? incoming(evalWithData, 'dataset')[0]! : null;
  const heldOut = heldOutDs ? describeHeldOut(nodes[heldOutDs], String(paramsOf(evalWithData!).split ?? 'test'), branches.find((b) => b.tokens !== null)?.tokens ?? null) : null;

  const recipeFile = opts.recipeFile ?? null;
  const target = recipeFile ?? `${opts.outDirForCommand ?? '<report folder>'}/recipe.json`;
  const started = run.summary.startedAt ?? null;
  const ended = run.summary.endedAt ?? null;
  return {
    title: `LoRAM comparison — ${recipe.name}`,
    runId: run.runId,
    recipeName: recipe.name,
    description: recipe.description ?? '',
    status: run.summary.status,
    startedAt: started,
    endedAt: ended,
    wallSeconds: started !== null && ended !== null ? (ended - started) / 1000 : null,
    computeSeconds: computeKnown ? compute : null,
    counts: run.summary.counts ?? {},
    commands: { reproduce: `npx loram run ${target}`, fromScratch: `LORAM_HOME=$(mktemp -d) npx loram run ${target}`, recipeFile },
    commit: opts.commit ?? null,
    backend,
    heldOut,
    mc: await mcInfo(run, recipe, ordered, incoming, typeOf, paramsOf),
    branches,
    claims,
    pplTolerance: tolerance,
    notes,
    verdict: computeVerdict(branches, tolerance),
  };
}

function describeHeldOut(s: NodeRunSummary | undefined, split: string, tokens: number | null): string | null {
  const ds = s?.outputs?.dataset;
  if (!ds || ds.type !== 'dataset') return null;
  const info = ds.splits[split as 'test'];
  return `the ${split} split of ${ds.source}${info ? ` (${info.documents} documents${tokens !== null ? `, ${tokens.toLocaleString('en-US')} tokens evaluated` : ''})` : ''}`;
}

async function trainInfo(run: RunInput, id: string): Promise<TrainInfo> {
  const s = run.nodes[id];
  const m = s?.metrics ?? {};
  let loss: Curve | null = null;
  const loc = s?.outputs?.metrics;
  if (loc && loc.type === 'metrics') {
    const text = await run.readText(loc.location);
    if (text) {
      try {
        const f = JSON.parse(text) as { curves?: Record<string, Curve> };
        if (f.curves?.loss && Array.isArray(f.curves.loss.x)) loss = f.curves.loss;
      } catch {
        // an unreadable metrics file: no curve
      }
    }
  }
  return {
    node: id,
    seconds: num(m.trainSeconds),
    steps: num(m.steps),
    tokensPerSec: num(m.tokensPerSec),
    loraParams: num(m.loraParams),
    baseParams: num(m.baseParams),
    finalLoss: num(m.finalLoss),
    valLoss: num(m.valLoss),
    memoryMeasured: num(m.trainMemoryBytes) ?? num(m.peakTensorBytes),
    memoryPlanned: num(m.plannedMemoryBytes),
    loss,
  };
}

async function mcInfo(
  run: RunInput,
  recipe: Recipe,
  evals: readonly string[],
  incoming: (id: string, port: string) => string[],
  typeOf: (id: string | null) => string | undefined,
  paramsOf: (id: string) => Record<string, unknown>,
): Promise<McInfo | null> {
  const mcNode = evals.map((e) => incoming(e, 'choices')[0]).find((x) => x);
  if (!mcNode) return null;
  const s = run.nodes[mcNode];
  const m = s?.metrics ?? {};
  const ds = s?.outputs?.dataset;
  const split = String(paramsOf(evals.find((e) => incoming(e, 'choices')[0] === mcNode)!).split ?? 'test') as 'test';
  const info: McInfo = {
    source: ds && ds.type === 'dataset' ? ds.source : mcNode,
    choices: num(m.choices),
    generalDistractors: num(m.generalDistractors),
    chance: num(m.chance),
    styleOnlyCeiling: num(m.styleOnlyCeiling),
    testItems: num(m[`${split}Items`]),
    leakage: null,
  };
  // Leakage: documents of the evaluated items vs documents of every training split that LoRA-Train read.
  const trainSets = [...new Set(recipe.nodes.filter((n) => n.type === 'LoRA-Train').flatMap((n) => incoming(n.id, 'dataset')))].filter((id) => typeOf(id) === 'Dataset');
  if (ds && ds.type === 'dataset' && trainSets.length) {
    const itemsText = await run.readText(ds.location, ds.splits[split]?.path);
    const trainDocs = new Set<string>();
    let readAll = itemsText !== null;
    for (const t of trainSets) {
      const v = run.nodes[t]?.outputs?.dataset;
      const text = v && v.type === 'dataset' ? await run.readText(v.location, v.splits.train.path) : null;
      if (text === null) readAll = false;
      else for (const line of text.split('\n')) if (line.trim()) trainDocs.add(String((JSON.parse(line) as { id: unknown }).id));
    }
    if (readAll && itemsText !== null) {
      const itemDocs = new Set<string>();
      for (const line of itemsText.split('\n')) {
        if (!line.trim()) continue;
        const it = JSON.parse(line) as { doc?: unknown; sources?: unknown };
        if (typeof it.doc === 'string') itemDocs.add(it.doc);
        // Same-corpus distractors must be held out too; general-corpus distractors are another corpus by design.
        const corpus = typeof it.doc === 'string' ? it.doc.split('/')[0] + '/' : null;
        if (corpus && Array.isArray(it.sources)) for (const d of it.sources) if (typeof d === 'string' && d.startsWith(corpus)) itemDocs.add(d);
      }
      info.leakage = { checked: true, trainDocs: trainDocs.size, itemDocs: itemDocs.size, overlap: [...itemDocs].filter((d) => trainDocs.has(d)).sort() };
    } else info.leakage = { checked: false, trainDocs: trainDocs.size, itemDocs: 0, overlap: [] };
  }
  return info;
}
