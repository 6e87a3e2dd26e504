/**
 * Merging adapters into the original weights (loram-method.md §6, PEFT merge_and_unload): W = W0 + (α/r)·B·A,
 * and W = W0 + ΔW for dense (mask-recovered) deltas. Host-side, HF layout; the input map is not modified
 * (tensors that do not change are shared).
 */
import type { LlamaConfig } from '../model/config';
import type { LoraAdapter } from '../lora/adapter';
import { loraDelta, loraScale, weightNameOf } from '../lora/adapter';
import type { HostTensor, WeightMap } from '../util/tensor';
import { shapeStr } from '../util/tensor';
import type { RecoveredUpdate } from './sparse';
import { checkAdapterFits } from '../lora/shape-check';

function addInto(name: string, w: HostTensor, d: HostTensor): HostTensor {
  if (w.shape.length !== d.shape.length || w.shape.some((s, i) => s !== d.shape[i])) {
    throw new Error(`cannot merge into ${name}: the weight is ${shapeStr(w.shape)} but the update is ${shapeStr(d.shape)}`);
  }
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < out.length; i++) out[i] = w.data[i]! + d.data[i]!;
  return { shape: [...w.shape], data: out };
}

export interface MergeResult {
  config: LlamaConfig;
  weights: WeightMap;
}

/**
 * W0 + (α/r)·B·A for every adapter module. A tied model with an lm_head adapter is untied: lm_head.weight =
 * embed + ΔW and the returned config has tieWordEmbeddings false (the embedding itself must not change).
 */
export function mergeLora(cfg: LlamaConfig, weights: WeightMap, adapter: LoraAdapter): MergeResult {
  checkAdapterFits(cfg, adapter);
  const out: WeightMap = new Map(weights);
  const scale = loraScale(adapter.config);
  let config = cfg;
  for (const [key, w] of adapter.modules) {
    let name = weightNameOf(key);
    let base = weights.get(name);
    if (key === 'lm_head' && cfg.tieWordEmbeddings) {
      base = weights.get('model.embed_tokens.weight');
      name = 'lm_head.weight';
      config = { ...cfg, tieWordEmbeddings: false };
    }
    if (!base) throw new Error(`cannot merge adapter module ${key}: the weights have no ${name}`);
    out.set(name, addInto(name, base, loraDelta(w, scale)));
  }
  return { config, weights: out };
}

/** W0 + ΔW for each dense delta (keys are HF weight names). */
export function mergeDense(weights: WeightMap, deltas: WeightMap): WeightMap {
  const out: WeightMap = new Map(weights);
  for (const [name, d] of deltas) {
    const base = out.get(name);
    if (!base) throw new Error(`cannot merge a dense delta into ${name}: no such weight`);
    out.set(name, addInto(name, base, d));
  }
  return out;
}

/** Merge a recovered update: its low-rank part, then its dense deltas. */
export function mergeRecovered(cfg: LlamaConfig, weights: WeightMap, update: RecoveredUpdate): MergeResult {
  const m = mergeLora(cfg, weights, update.adapter);
  return { config: m.config, weights: mergeDense(m.weights, update.dense) };
}
