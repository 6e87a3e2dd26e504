/**
 * The downstream task of a comparison: exact match on an instruction task, either measured by a branch's own
 * Evaluate (graphs/instruct.json) or by a second "task leg" beside it (graphs/compare-pruning.json: every tuned
 * branch also trains an adapter on the task, from the same pruned / aligned / quantized model, recovered the
 * same way, and an Evaluate scores it). A leg is not a branch of its own: its numbers join its branch's row.
 *
 * Pairing is read from the graph, not from labels: a leg is an Evaluate with a generation task that reads
 * another dataset than the comparison's held-out text, and that sees the same model, with its adapter
 * recovered or not alike, trained on the same model node, as exactly one Evaluate of the held-out text.
 */
import { num, type RunGraph } from './run-graph';
import type { Branch, DownstreamInfo } from './types';

export interface TaskLegs {
  /** The Evaluate nodes that are branches, in order. */
  primary: string[];
  /** Branch Evaluate → its task leg's Evaluate. */
  legOf: Map<string, string>;
}

/** The LoRA-Train (or other adapter source) behind an Evaluate's adapter, through a Recover. */
export function trainerOf(g: RunGraph, evaluate: string): string | null {
  const from = g.incoming(evaluate, 'adapter')[0];
  if (!from) return null;
  return g.typeOf(from) === 'Recover' ? g.incoming(from, 'adapter')[0] ?? null : from;
}

/** What must match for two Evaluates to be the same branch: the model seen, recovery, the model trained on. */
function branchKey(g: RunGraph, e: string): string {
  const from = g.incoming(e, 'adapter')[0];
  const trainer = trainerOf(g, e);
  const trainedOn = trainer ? g.incoming(trainer, 'model')[0] ?? '?' : 'untuned';
  return `${g.incoming(e, 'model')[0] ?? '?'}|${g.typeOf(from) === 'Recover'}|${trainedOn}`;
}

export function taskLegs(g: RunGraph, evaluations: readonly string[]): TaskLegs {
  const heldOut = evaluations.map((e) => g.incoming(e, 'dataset')[0]).find((d) => d);
  const isLeg = (e: string) => heldOut !== undefined && g.incoming(e, 'dataset')[0] !== heldOut && g.incoming(e, 'generation').length > 0;
  const texts = evaluations.filter((e) => !isLeg(e));
  const byKey = new Map<string, string[]>();
  for (const e of texts) byKey.set(branchKey(g, e), [...(byKey.get(branchKey(g, e)) ?? []), e]);
  const legOf = new Map<string, string>();
  const unpaired: string[] = [];
  for (const leg of evaluations.filter(isLeg)) {
    const twins = byKey.get(branchKey(g, leg)) ?? [];
    if (twins.length === 1 && !legOf.has(twins[0]!)) legOf.set(twins[0]!, leg);
    else unpaired.push(leg);
  }
  return { primary: evaluations.filter((e) => !isLeg(e) || unpaired.includes(e)), legOf };
}

/** A branch's downstream numbers: from its task leg when it has one, else from its own Evaluate. */
export function downstreamOf(g: RunGraph, evaluate: string, leg: string | undefined): Pick<Branch, 'exactMatch' | 'exactMatchStderr' | 'generationItems' | 'answerPerplexity' | 'downstream'> {
  const m = g.nodes[leg ?? evaluate]?.metrics ?? {};
  return {
    exactMatch: num(m.exactMatch),
    exactMatchStderr: num(m.exactMatchStderr),
    generationItems: num(m.generationItems),
    answerPerplexity: num(m.answerPerplexity),
    downstream: leg ? { node: leg, train: trainerOf(g, leg), status: g.nodes[leg]?.status ?? 'missing' } : null,
  };
}

/** The task exact match was measured on, in words, and how its adapters were trained. */
export function downstreamInfo(g: RunGraph, branches: readonly Branch[], legs: TaskLegs): DownstreamInfo | null {
  const measured = branches.find((b) => b.exactMatch !== null);
  if (!measured) return null;
  const evaluate = measured.downstream?.node ?? measured.node;
  const task = g.incoming(evaluate, 'generation')[0];
  const ds = task ? g.nodes[task]?.outputs?.dataset : undefined;
  const p = g.paramsOf(evaluate);
  return {
    source: ds && ds.type === 'dataset' ? ds.source : task ?? 'unknown',
    split: String(p.split ?? 'test'),
    items: measured.generationItems,
    nShot: num(g.nodes[evaluate]?.metrics?.nShot),
    maxNewTokens: typeof p.maxNewTokens === 'number' ? p.maxNewTokens : null,
    separateLeg: legs.legOf.size > 0,
  };
}
