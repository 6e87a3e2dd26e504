/** What the rest of the code asks of the pruning strategies table (strategies.ts): names, lookups, defaults. */
import { PRUNE_STRATEGIES, type Importance, type StrategySpec, type PruneStrategyName } from './strategies';

/** The strategy names, in table order (the first is the Prune node's default unless it says otherwise). */
export const PRUNE_STRATEGY_NAMES = Object.keys(PRUNE_STRATEGIES) as [PruneStrategyName, ...PruneStrategyName[]];

export function strategyOf(name: PruneStrategyName): StrategySpec {
  const s: StrategySpec | undefined = PRUNE_STRATEGIES[name];
  if (!s) throw new Error(`unknown pruning strategy "${String(name)}" (known: ${PRUNE_STRATEGY_NAMES.join(', ')})`);
  return s;
}

/** The importance `auto` stands for: the strategy's first (the paper's choice). */
export function resolveImportance(strategy: PruneStrategyName, importance: Importance | 'auto'): Importance {
  return importance === 'auto' ? strategyOf(strategy).importances[0] : importance;
}

/** Importance scores that read calibration data (gradients, Hessians or activation norms). */
export function needsCalibration(importance: Importance): boolean {
  return importance === 'taylor' || importance === 'sparsegpt' || importance === 'wanda';
}
