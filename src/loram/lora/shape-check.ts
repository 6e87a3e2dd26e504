/**
 * Adapter ↔ model shape check: does an adapter fit a model? Adapters are `LoraAdapter`s (PEFT names
 * `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r]).
 *
 * Any model may be evaluated with any adapter that fits it — the original with a recovered adapter, a
 * pruned model with its own adapter ("train small, infer small"), … — so fit is checked by shapes alone
 * and every misfit is reported with the module name and both shapes.
 */
import type { LlamaConfig } from '../model/config';
import { expectedShapes } from '../model/config';
import type { LoraAdapter } from './adapter';
import { shapeStr } from '../util/tensor';

/** The HF weight a module key adapts (`lm_head` of a tied model is the embedding). */
function baseWeightName(cfg: LlamaConfig, key: string): string {
  if (key === 'lm_head') return cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  return `${key}.weight`;
}

/** Every way `adapter` does not fit `cfg` (empty when it fits). */
export function adapterMisfits(cfg: LlamaConfig, adapter: LoraAdapter): string[] {
  const shapes = expectedShapes(cfg);
  const problems: string[] = [];
  for (const [key, m] of adapter.modules) {
    const [r, inA] = m.A.shape as [number, number];
    const [outB, rB] = m.B.shape as [number, number];
    const factors = `lora_A ${shapeStr(m.A.shape)}, lora_B ${shapeStr(m.B.shape)}`;
    if (m.A.shape.length !== 2 || m.B.shape.length !== 2 || r !== rB) {
      problems.push(`adapter module ${key}: lora_A and lora_B do not chain (${factors}; expected [r, in] and [out, r])`);
      continue;
    }
    const wName = baseWeightName(cfg, key);
    const w = shapes.get(wName);
    if (!w) {
      const where = /^model\.layers\.(\d+)\./.exec(key);
      const why = where && Number(where[1]) >= cfg.numLayers ? `the model has ${cfg.numLayers} decoder layers` : `the model has no weight ${wName}`;
      problems.push(`adapter module ${key} (ΔW ${shapeStr([outB, inA])}; ${factors}) is missing from the model: ${why}`);
      continue;
    }
    if (w[0] !== outB || w[1] !== inA) {
      problems.push(`adapter module ${key}: ΔW = B·A is ${shapeStr([outB, inA])} (${factors}) but the model's ${wName} is ${shapeStr(w)} [out, in]`);
    }
  }
  return problems;
}

/** Throw one error listing every misfit (module name, adapter shape and model shape for each). */
export function checkAdapterFits(cfg: LlamaConfig, adapter: LoraAdapter, modelName = 'the model'): void {
  const p = adapterMisfits(cfg, adapter);
  if (p.length) throw new Error(`adapter does not fit ${modelName} (${p.length} problem${p.length === 1 ? '' : 's'}):\n  ${p.join('\n  ')}`);
}
