/**
 * Non-structured recovery (loram-method.md §5.2, UNVERIFIED in the paper's code): the adapter trained on the
 * zero-filled sparse model already has the original shapes.
 * - 'mask' (default): ΔW^R = ((α/r)·B·A) ⊙ M^P for every linear the plan pruned — the update is not applied
 *   where weights were pruned. The result is no longer low-rank, so those modules become dense deltas.
 * - 'identity' (ablation): ΔW^R = ΔW, the adapter unchanged.
 * Modules the plan did not prune (lm_head, layers outside the range) stay low-rank either way.
 */
import type { LlamaConfig } from '../model/config';
import type { LoraAdapter, LoraModuleWeights } from '../lora/adapter';
import { loraDelta, loraScale, weightNameOf } from '../lora/adapter';
import { applyMask } from '../prune/mask';
import type { SparsePrunePlan } from '../prune/plan';
import { checkPlanSource } from '../prune/plan';
import type { WeightMap } from '../util/tensor';
import { cloneHost } from '../util/tensor';
import { checkAdapterFits } from '../lora/shape-check';

export type SparseRecoverMode = 'mask' | 'identity';

/** A recovered update: a (possibly partial) low-rank adapter plus dense deltas keyed by HF weight name. */
export interface RecoveredUpdate {
  adapter: LoraAdapter;
  /** HF weight name → ΔW [out, in], already scaled by α/r (add it to W0 as is). */
  dense: WeightMap;
}

export function recoverSparse(adapter: LoraAdapter, plan: SparsePrunePlan, originalCfg: LlamaConfig, opts: { mode?: SparseRecoverMode; baseModel?: string } = {}): RecoveredUpdate {
  if (plan.kind !== 'sparse') throw new Error(`expected a sparse prune plan, got "${(plan as { kind?: string }).kind}"`);
  checkPlanSource(plan.original, originalCfg, 'the model being recovered onto');
  checkAdapterFits(originalCfg, adapter);
  const mode = opts.mode ?? 'mask';
  if (mode !== 'mask' && mode !== 'identity') throw new Error(`sparse recovery mode must be "mask" or "identity", got "${String(mode)}"`);
  const config = { ...adapter.config, targetModules: [...adapter.config.targetModules], layers: adapter.config.layers ? [...adapter.config.layers] : null, baseModel: opts.baseModel ?? adapter.config.baseModel };
  const modules = new Map<string, LoraModuleWeights>();
  const dense: WeightMap = new Map();
  const scale = loraScale(adapter.config);
  for (const [key, w] of adapter.modules) {
    const name = weightNameOf(key);
    const mask = mode === 'mask' ? plan.masks.get(name) : undefined;
    if (mask) dense.set(name, applyMask(loraDelta(w, scale), mask, `ΔW of ${key}`));
    else modules.set(key, { A: cloneHost(w.A), B: cloneHost(w.B) });
  }
  return { adapter: { config, modules }, dense };
}
