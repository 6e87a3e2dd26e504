/**
 * A run (recipe snapshot + per-node results + artifacts) → the report model. Branch roles come from the graph
 * itself (which Evaluate sees which model, through which Prune / Align / Quantize / LoRA-Train / Recover nodes),
 * not from labels, so any recipe of this shape gets the same analysis.
 */
import type { NodeRunSummary } from '../shared';
import { buildBranches, evaluationOrder } from './branches';
import { computeClaims, contextNotes, DEFAULT_PPL_TOLERANCE } from './claims';
import { runGraph, type RunGraph, type RunInput } from './run-graph';
import { mcInfo } from './multiple-choice';
import { downstreamInfo, taskLegs } from './downstream';
import { computeVerdict } from './verdict';
import type { Branch, ReportModel } from './types';

export type { RunInput } from './run-graph';

export interface BuildOptions {
  /** The recipe file this run's snapshot equals (for the reproduce command), if any. */
  recipeFile?: string | null;
  /** Where the report folder will be (its recipe.json copy is the fallback reproduce command). */
  outDirForCommand?: string;
  commit?: string | null;
  pplTolerance?: number;
}

export async function buildReportModel(run: RunInput, opts: BuildOptions = {}): Promise<ReportModel> {
  const { recipe } = run;
  const g = runGraph(run);
  const legs = taskLegs(g, evaluationOrder(g));
  const evaluations = legs.primary;
  const branches = await buildBranches(run, g, legs);
  const tolerance = opts.pplTolerance ?? DEFAULT_PPL_TOLERANCE;
  const claims = computeClaims(branches, tolerance);
  const notes = contextNotes(branches);
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
    computeSeconds: await computeSeconds(g),
    counts: run.summary.counts ?? {},
    commands: reproduceCommands(opts),
    commit: opts.commit ?? null,
    backend: evaluationBackend(g, branches),
    heldOut: heldOutDescription(g, evaluations, branches),
    mc: await mcInfo(run, g, evaluations),
    downstream: downstreamInfo(g, branches, legs),
    branches,
    claims,
    pplTolerance: tolerance,
    notes,
    verdict: computeVerdict(branches, tolerance),
  };
}

/** Compute time: every node's own duration (cached nodes: what their artifact once took); null when none is known. */
async function computeSeconds(g: RunGraph): Promise<number | null> {
  let compute = 0;
  let computeKnown = false;
  for (const id of Object.keys(g.nodes)) {
    const s = await g.durationSec(id);
    if (s !== null) {
      compute += s;
      computeKnown = true;
    }
  }
  return computeKnown ? compute : null;
}

function reproduceCommands(opts: BuildOptions): ReportModel['commands'] {
  const recipeFile = opts.recipeFile ?? null;
  const target = recipeFile ?? `${opts.outDirForCommand ?? '<report folder>'}/recipe.json`;
  return { reproduce: `npx loram run ${target}`, fromScratch: `LORAM_HOME=$(mktemp -d) npx loram run ${target}`, recipeFile };
}

/** "runtime/backend" of the first evaluation that reports one. */
function evaluationBackend(g: RunGraph, branches: readonly Branch[]): string | null {
  const firstEval = branches.find((b) => g.nodes[b.node]?.metrics?.backend !== undefined);
  const em = firstEval ? g.nodes[firstEval.node]!.metrics! : null;
  return em ? `${String(em.runtime ?? '')}${em.runtime ? '/' : ''}${String(em.backend ?? '')}` : null;
}

/** The held-out text the first evaluation with a dataset read, in words. */
function heldOutDescription(g: RunGraph, evaluations: readonly string[], branches: readonly Branch[]): string | null {
  const evalWithData = evaluations.find((id) => g.incoming(id, 'dataset')[0]);
  if (!evalWithData) return null;
  const dataset = g.incoming(evalWithData, 'dataset')[0]!;
  const tokens = branches.find((b) => b.tokens !== null)?.tokens ?? null;
  return describeHeldOut(g.nodes[dataset], String(g.paramsOf(evalWithData).split ?? 'test'), tokens);
}

function describeHeldOut(s: NodeRunSummary | undefined, split: string, tokens: number | null): string | null {
  const ds = s?.outputs?.dataset;
  if (!ds || ds.type !== 'dataset') return null;
  const info = ds.splits[split as 'test'];
  return `the ${split} split of ${ds.source}${info ? ` (${info.documents} documents${tokens !== null ? `, ${tokens.toLocaleString('en-US')} tokens evaluated` : ''})` : ''}`;
}
