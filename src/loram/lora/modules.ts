/**
 * Which modules of a model get a LoRA adapter, in model order, with their shapes, and the fresh PEFT
 * initialisation of each (A Kaiming-uniform from one forked stream per module, B zeros). One home for both
 * backends: the tfjs model (attach.ts) and the ONNX Runtime trainer start from identical adapters.
 */
import type { LlamaConfig } from '../model/config';
import { expectedShapes, LINEAR_MODULES, linearName } from '../model/config';
import { Rng } from '../util/rng';
import type { LoraTarget } from '../model/config';
import { moduleKey } from './adapter';
import type { LoraModuleWeights } from './lora-linear';
import { kaimingUniformA } from './lora-linear';

export interface LoraModuleSlot {
  key: string;
  /** Decoder layer, or null for lm_head. */
  layer: number | null;
  target: LoraTarget;
  inFeatures: number;
  outFeatures: number;
}

export interface LoraPlacement {
  targetModules: readonly LoraTarget[];
  layers?: readonly number[] | null;
}

/** Targeted decoder linears layer by layer (in LINEAR_MODULES order), then lm_head. */
export function loraModuleSlots(cfg: LlamaConfig, p: LoraPlacement): LoraModuleSlot[] {
  const shapes = expectedShapes(cfg);
  const layerSet = p.layers ? new Set(p.layers) : null;
  const slots: LoraModuleSlot[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    if (layerSet && !layerSet.has(i)) continue;
    for (const m of LINEAR_MODULES) {
      if (!p.targetModules.includes(m)) continue;
      const [outF, inF] = shapes.get(linearName(i, m))!;
      slots.push({ key: moduleKey(i, m), layer: i, target: m, inFeatures: inF!, outFeatures: outF! });
    }
  }
  if (p.targetModules.includes('lm_head')) slots.push({ key: 'lm_head', layer: null, target: 'lm_head', inFeatures: cfg.hiddenSize, outFeatures: cfg.vocabSize });
  return slots;
}

/** Fresh factors for every slot: one Rng fork per module, so adding a target does not shift the others. */
export function freshLoraWeights(slots: readonly LoraModuleSlot[], r: number, seed: number): Map<string, LoraModuleWeights> {
  const rng = new Rng(seed);
  const out = new Map<string, LoraModuleWeights>();
  for (const s of slots) {
    const fork = rng.fork();
    out.set(s.key, { A: kaimingUniformA(r, s.inFeatures, fork), B: { shape: [s.outFeatures, r], data: new Float32Array(s.outFeatures * r) } });
  }
  return out;
}
