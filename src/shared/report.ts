/** What a comparison report is made of: branches (one per evaluated model), the claims checked on them, and context. */
import type { Curve } from './ports';

/**
 * The role a branch plays in the paper's comparison:
 * - loram: an adapter trained on a pruned (aligned, maybe quantized) copy of the large model, recovered and
 *   evaluated on the ORIGINAL large model;
 * - no-alignment: the same without alignment (ablation, Fig. 6);
 * - no-recovery: the pruned training model with its own adapter, "train small, infer small" (ablation, Fig. 6);
 * - untuned-large / untuned-small: a base model without an adapter;
 * - lora-large / lora-small: plain LoRA on an unpruned base model;
 * - other: anything else (kept in the table, not used by the claims).
 */
export type BranchRole = 'loram' | 'no-alignment' | 'no-recovery' | 'untuned-large' | 'untuned-small' | 'lora-large' | 'lora-small' | 'other';

export type Strategy = 'rand' | 'stru' | 'semi' | 'unst';

export interface TrainInfo {
  node: string;
  seconds: number | null;
  steps: number | null;
  tokensPerSec: number | null;
  loraParams: number | null;
  baseParams: number | null;
  finalLoss: number | null;
  valLoss: number | null;
  /** Measured training memory (shared/memory.ts: ONNX Runtime — a probe process's peak; tfjs — its tensor counter). */
  memoryMeasured: number | null;
  /** Planned: the ORT planner on the run's own settings. */
  memoryPlanned: number | null;
  /** The runtime each figure is for; null in runs recorded before LoRA-Train said. */
  memoryMeasuredRuntime: string | null;
  memoryPlannedRuntime: string | null;
  loss: Curve | null;
}

export interface Branch {
  /** The Evaluate node. */
  node: string;
  label: string;
  /** A short name for chart axes. */
  short: string;
  role: BranchRole;
  /** The Load source of the evaluated model's origin, e.g. "builtin:large". */
  origin: string;
  strategy: Strategy | null;
  ratio: number | null;
  aligned: boolean;
  quantized: boolean;
  recovered: boolean;
  status: string;
  perplexity: number | null;
  accuracy: number | null;
  accuracyNorm: number | null;
  accuracyStderr: number | null;
  items: number | null;
  tokens: number | null;
  /** Downstream task: exact match (with its standard error) on the generation task's items, and answer-only perplexity. */
  exactMatch: number | null;
  exactMatchStderr: number | null;
  generationItems: number | null;
  answerPerplexity: number | null;
  /** The task leg these come from (an Evaluate of an adapter trained on the task), or null: the branch's own Evaluate. */
  downstream: { node: string; train: string | null; status: string } | null;
  train: TrainInfo | null;
  /** Offline (publisher-side) seconds: prune, align, quantize. */
  offline: { prune: number | null; align: number | null; quantize: number | null };
  /** For ablations: the LoRAM branch they are the ablation of. */
  ablationOf: string | null;
}

export type Verdict = 'holds' | 'partly' | 'does not hold' | 'not measured';

export interface Comparison {
  /** What is compared, e.g. "LoRAM-Stru vs large, untuned". */
  what: string;
  metric: string;
  a: number | null;
  b: number | null;
  /** True: the paper's direction holds; false: it is reversed; null: a tie within tolerance, or missing. */
  holds: boolean | null;
  text: string;
}

export interface Claim {
  id: string;
  /** A few words naming the claim, e.g. "LoRAM beats the untuned large model". */
  title: string;
  /** The paper's claim, in one sentence, with where it comes from. */
  paper: string;
  verdict: Verdict;
  /** The plain statement computed from this run's numbers. */
  statement: string;
  comparisons: Comparison[];
  note?: string;
}

export interface McInfo {
  source: string;
  choices: number | null;
  generalDistractors: number | null;
  chance: number | null;
  styleOnlyCeiling: number | null;
  testItems: number | null;
  /** Documents the test items come from ∩ training documents (null: not checked). */
  leakage: { checked: boolean; trainDocs: number; itemDocs: number; overlap: string[] } | null;
}

/** The downstream task exact match was measured on. */
export interface DownstreamInfo {
  source: string;
  split: string;
  items: number | null;
  nShot: number | null;
  maxNewTokens: number | null;
  /** True: the task's adapters were trained in a second leg beside the held-out-text ones (their numbers join the branches' rows). */
  separateLeg: boolean;
}

export interface ReportModel {
  title: string;
  runId: string;
  recipeName: string;
  description: string;
  status: string;
  startedAt: number | null;
  endedAt: number | null;
  wallSeconds: number | null;
  /** Sum of every node's own compute time (from the artifacts, so cached nodes count what they once took). */
  computeSeconds: number | null;
  counts: Record<string, number>;
  commands: { reproduce: string; fromScratch: string; recipeFile: string | null };
  commit: string | null;
  backend: string | null;
  heldOut: string | null;
  mc: McInfo | null;
  downstream: DownstreamInfo | null;
  branches: Branch[];
  claims: Claim[];
  /** Relative perplexity difference below which two branches are called a tie. */
  pplTolerance: number;
  notes: string[];
  /** Who wins each metric and by how much the variants beat the baselines (src/report/verdict.ts). */
  verdict: ReportVerdict;
}

/** One metric's standing among the variants (baselines are compared against, never ranked). */
export interface Standing {
  metric: 'perplexity' | 'accuracy' | 'exactMatch' | 'memory' | 'time';
  /** The column it is read from, and whether lower is better. */
  title: string;
  lowerIsBetter: boolean;
  /** The best variant's label, or null when no variant measured it. */
  winner: string | null;
  /** Labels of the variants within noise of the winner (the winner included). */
  tied: string[];
  text: string;
}

export interface ReportVerdict {
  /** The first sentence: who won, and whether it is a tie. */
  headline: string;
  standings: Standing[];
  /** "LoRAM variants beat <baseline> by x–y% perplexity", one per baseline measured. */
  gains: string[];
  /** Labels of the baseline branches (marked as baselines, never "best"). */
  baselines: string[];
}
