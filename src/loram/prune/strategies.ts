/**
 * The pruning strategies, one row each: whether it is structured, which importance scores it takes (the first is
 * the paper's choice, what `auto` means), the function that prunes, and the recovery its adapters need. The Prune
 * node's params and rules, the memory planner, the CLI's help and bench/loram-memory all derive from this table,
 * so a new strategy is an algorithm file plus one row here. The rules read from the table are in strategy-rules.ts
 * (kept apart so this module is the table and nothing else).
 *
 * Why here and not in src/shared: shared cannot import src/loram (shared ← loram), and shared needs no more than
 * the name, which it carries as a string on the prune transform of a lineage. This module stays light (the
 * algorithms are imported when a strategy runs), so the CLI's help can list the strategies without loading
 * TensorFlow.js.
 */
import type { LlamaConfig } from '../model/config';
import type { LmBatch } from '../model/loss';
import type { WeightMap } from '../util/tensor';
import type { SparsePrunePlan, StructuredPrunePlan } from './plan';

/** Every importance score some strategy takes. */
export const IMPORTANCES = ['random', 'magnitude', 'taylor', 'sparsegpt', 'wanda'] as const;
export type Importance = (typeof IMPORTANCES)[number];

/** What a strategy's function is given. */
export interface PruneRequest {
  ratio: number;
  /** One of the strategy's `importances`. */
  importance: Importance;
  /** Decoder layers pruned, [start, end). */
  layerRange: [number, number];
  seed: number;
  /** Calibration batches, present when the importance needs them (`needsCalibration`). */
  calibration?: readonly LmBatch[];
  onProgress?: (done: number, total: number) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface PruneOutcome {
  config: LlamaConfig;
  weights: WeightMap;
  plan: StructuredPrunePlan | SparsePrunePlan;
}

export interface StrategySpec {
  /** The paper's name, e.g. "LoRAM-Stru". */
  title: string;
  /** One line for the Prune node's inspector and the CLI's help. */
  doc: string;
  /**
   * Structured strategies remove whole heads and MLP channels (shapes change; the paper's default layer range
   * keeps the first and last layers); the others zero weights in place, in every layer by default.
   */
  structured: boolean;
  /** Importance scores it accepts; the first is the default (`importance: auto`). */
  importances: readonly [Importance, ...Importance[]];
  /** A ratio the strategy requires, with the reason (2:4 removes exactly half). */
  fixedRatio?: { value: number; reason: string };
  /** How Recover maps its adapters back: zero-fill to the original shapes, or ΔW ⊙ mask. */
  recovery: 'zero-fill' | 'mask';
  prune(config: LlamaConfig, weights: WeightMap, req: PruneRequest): Promise<PruneOutcome>;
}

async function structured(config: LlamaConfig, weights: WeightMap, r: PruneRequest): Promise<PruneOutcome> {
  const { pruneStructured } = await import('./structured');
  return pruneStructured(config, weights, { ...r, importance: r.importance as 'random' | 'magnitude' | 'taylor' });
}

function sparse(pattern: 'unstructured' | '2:4') {
  return async (config: LlamaConfig, weights: WeightMap, r: PruneRequest): Promise<PruneOutcome> => {
    const { pruneSparse } = await import('./sparse');
    const { ratio, importance, ...rest } = r;
    return pruneSparse(config, weights, { ...rest, method: importance as 'sparsegpt' | 'wanda' | 'magnitude', pattern, sparsity: ratio });
  };
}

export const PRUNE_STRATEGIES = {
  rand: {
    title: 'LoRAM-Rand',
    doc: 'random structured',
    structured: true,
    importances: ['random'],
    recovery: 'zero-fill',
    prune: structured,
  },
  stru: {
    title: 'LoRAM-Stru',
    doc: 'Taylor-importance structured',
    structured: true,
    importances: ['taylor', 'magnitude', 'random'],
    recovery: 'zero-fill',
    prune: structured,
  },
  semi: {
    title: 'LoRAM-Semi',
    doc: '2:4 semi-structured',
    structured: false,
    importances: ['sparsegpt', 'wanda', 'magnitude'],
    fixedRatio: { value: 0.5, reason: 'semi-structured 2:4 pruning removes exactly half the weights' },
    recovery: 'mask',
    prune: sparse('2:4'),
  },
  unst: {
    title: 'LoRAM-Unst',
    doc: 'unstructured',
    structured: false,
    importances: ['sparsegpt', 'wanda', 'magnitude'],
    recovery: 'mask',
    prune: sparse('unstructured'),
  },
} as const satisfies Record<string, StrategySpec>;

export type PruneStrategyName = keyof typeof PRUNE_STRATEGIES;
