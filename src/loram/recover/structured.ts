/**
 * Structured recovery R(·) (loram-method.md §5.1, code-verified zero-fill): a LoRA adapter trained on the
 * structurally pruned model → an adapter with the ORIGINAL shapes.
 * - Output-pruned modules (q, k, v, gate, up): B^R [out, r] gets B^P's rows at the kept output indices, zeros
 *   elsewhere; A is copied.
 * - Input-pruned modules (o, down): A^R [r, in] gets A^P's columns at the kept input indices, zeros elsewhere
 *   ("zeroA", the default and the paper's setting) or N(0, (1/r)²) noise elsewhere ("normA", the script's option,
 *   whose hard-coded 1/8 is 1/r for r = 8); B is copied.
 * - q rows / o columns use the kept query heads (GQA mapping), k/v rows the kept KV heads.
 * - Modules of unpruned layers and lm_head are copied. r and α are unchanged.
 * Hence ΔW^R = (α/r)·B^R·A^R is ΔW^P zero-padded into original coordinates (zeroA).
 */
import type { LinearModule, LlamaConfig } from '../model/config';
import { checkAdapterFits } from '../lora/shape-check';
import type { LoraAdapter, LoraModuleWeights } from '../lora/adapter';
import { parseModuleKey } from '../lora/adapter';
import type { StructuredPrunePlan } from '../prune/plan';
import { checkPlanSource, keptIndices, plannedLayerSizes, prunedSide, validateStructuredPlan } from '../prune/plan';
import { layerLinearShapes } from '../memory/planner';
import { Rng } from '../util/rng';
import type { HostTensor } from '../util/tensor';
import { cloneHost, shapeStr } from '../util/tensor';

export type RecoverType = 'zeroA' | 'normA';

export interface StructuredRecoverOptions {
  type?: RecoverType;
  /** Seed of normA's noise (default 42). */
  seed?: number;
  /** base_model_name_or_path of the recovered adapter (default: keep the adapter's). */
  baseModel?: string;
}

function shapeOfModule(cfg: LlamaConfig, sizes: LlamaConfig['layers'], layer: number | null, target: string): [number, number] {
  if (layer === null) return [cfg.vocabSize, cfg.hiddenSize];
  return layerLinearShapes(cfg, sizes[layer]!)[target as LinearModule];
}

/** B^R: rows of B^P placed at `kept` among `rows` rows, zeros elsewhere. */
function scatterRows(B: HostTensor, kept: readonly number[], rows: number): HostTensor {
  const r = B.shape[1]!;
  const out = new Float32Array(rows * r);
  kept.forEach((dst, src) => out.set(B.data.subarray(src * r, (src + 1) * r), dst * r));
  return { shape: [rows, r], data: out };
}

/** A^R: columns of A^P placed at `kept` among `cols` columns; the rest zero or `fill()`. */
function scatterCols(A: HostTensor, kept: readonly number[], cols: number, fill?: () => number): HostTensor {
  const r = A.shape[0]!;
  const k = A.shape[1]!;
  const out = new Float32Array(r * cols);
  if (fill) for (let i = 0; i < out.length; i++) out[i] = fill();
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) out[i * cols + kept[j]!] = A.data[i * k + j]!;
  return { shape: [r, cols], data: out };
}

/**
 * Recover an adapter trained on the pruned model of `plan` onto the original model `originalCfg`.
 * Throws if the plan was made from a different model or the adapter's shapes do not fit the pruned model.
 */
export function recoverStructured(adapter: LoraAdapter, plan: StructuredPrunePlan, originalCfg: LlamaConfig, opts: StructuredRecoverOptions = {}): LoraAdapter {
  validateStructuredPlan(plan);
  checkPlanSource(plan.original, originalCfg, 'the model being recovered onto');
  const prunedSizes = plannedLayerSizes(plan);
  checkAdapterFits({ ...originalCfg, layers: prunedSizes }, adapter, 'the pruned model of the plan');
  const type = opts.type ?? 'zeroA';
  if (type !== 'zeroA' && type !== 'normA') throw new Error(`recover type must be "zeroA" or "normA", got "${String(type)}"`);
  const rng = new Rng(opts.seed ?? 42);
  const std = 1 / adapter.config.r;
  const byLayer = new Map(plan.layers.map((lp) => [lp.layer, lp]));
  const modules = new Map<string, LoraModuleWeights>();
  for (const [key, w] of adapter.modules) {
    const p = parseModuleKey(key)!;
    const lp = p.layer === null ? undefined : byLayer.get(p.layer);
    if (!lp || p.target === 'lm_head') {
      modules.set(key, { A: cloneHost(w.A), B: cloneHost(w.B) });
      continue;
    }
    const mod = p.target as LinearModule;
    const kept = keptIndices(lp, mod, originalCfg.headDim);
    const [out, inn] = shapeOfModule(originalCfg, originalCfg.layers, p.layer, mod);
    if (prunedSide(mod) === 'out') {
      modules.set(key, { A: cloneHost(w.A), B: scatterRows(w.B, kept, out) });
    } else {
      modules.set(key, { A: scatterCols(w.A, kept, inn, type === 'normA' ? () => rng.normal() * std : undefined), B: cloneHost(w.B) });
    }
  }
  return {
    config: { ...adapter.config, targetModules: [...adapter.config.targetModules], layers: adapter.config.layers ? [...adapter.config.layers] : null, baseModel: opts.baseModel ?? adapter.config.baseModel },
    modules,
  };
}
