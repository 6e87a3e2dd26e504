/**
 * Reference gradients from the tfjs model (cpu backend autodiff) for the ONNX Runtime training graph: the same
 * config, weights, batch, seed and trainable set, returned in the ORT session's trainable order.
 */
import { tf } from '../../src/loram/backend/tf';
import type { LlamaConfig } from '../../src/loram/model/config';
import { LlamaModel } from '../../src/loram/model/llama';
import { lmLoss, type LmBatch } from '../../src/loram/model/loss';
import { attachLora } from '../../src/loram/lora/attach';
import { alignParams } from '../../src/loram/align/align';
import type { LoraTrainSpec } from '../../src/loram/ort-train/llama-graph';
import { loraAName, loraBName } from '../../src/loram/ort-train/llama-graph';
import type { WeightMap } from '../../src/loram/util/tensor';
import { transpose2d } from '../../src/loram/util/tensor';

export interface Reference {
  lossSum: number;
  grads: Map<string, Float32Array>;
  /** Initial trainable values by ORT name (LoRA A/B in PEFT layout). */
  params: Map<string, Float32Array>;
}

const hostOf = (v: tf.Tensor) => new Float32Array(v.dataSync());

/** Σ loss and d Σloss / d trainable from tfjs, for LoRA (with fresh A, and B set to `bInit` so every path is live). */
export function tfjsLoraReference(cfg: LlamaConfig, weights: WeightMap, lora: LoraTrainSpec, batch: LmBatch, seed: number, bScale = 0.05): Reference {
  const model = LlamaModel.fromWeights(cfg, weights, { trainable: false });
  try {
    const handle = attachLora(model, { r: lora.r, alpha: lora.alpha, dropout: lora.dropout, targetModules: lora.targets, layers: lora.layers ?? null, seed: 7 });
    // Non-zero B so gradients reach A and the base's input path (a fresh adapter has B = 0).
    let k = 0;
    for (const f of handle.modules.values()) f.B.assign(tf.tidy(() => tf.mul(tf.randomNormal(f.B.shape, 0, 1, 'float32', 1000 + k++), bScale)));
    return gradsOf(model, handle.params(), batch, seed, (v, i) => {
      const key = [...handle.modules.keys()][Math.floor(i / 2)]!;
      return i % 2 === 0 ? loraAName(key) : loraBName(key);
    }, (name, v) => transpose2d({ shape: [...v.shape], data: hostOf(v) }).data);
  } finally {
    model.dispose();
  }
}

/** The same for full-weight training (Align's trainable set). */
export function tfjsFullReference(cfg: LlamaConfig, weights: WeightMap, batch: LmBatch): Reference {
  const model = LlamaModel.fromWeights(cfg, weights, { trainable: true });
  try {
    const params = alignParams(model);
    return gradsOf(model, params, batch, 0, (v) => v.name.replace(/#\d+$/, ''), (name, v) => {
      const data = hostOf(v);
      // Kernel-layout linears ([in, out]) back to HF [out, in]; lm_head likewise.
      if (v.shape.length === 2 && name !== 'model.embed_tokens.weight') return transpose2d({ shape: [...v.shape], data }).data;
      return data;
    });
  } finally {
    model.dispose();
  }
}

function gradsOf(model: LlamaModel, params: tf.Variable[], batch: LmBatch, seed: number, nameOf: (v: tf.Variable, i: number) => string, toHf: (name: string, t: tf.Tensor) => Float32Array): Reference {
  let count = 0;
  const { value, grads } = tf.variableGrads(() => {
    const r = lmLoss(model, batch, { training: true, seed });
    count = r.count;
    return tf.mul(r.loss, r.count) as tf.Scalar;
  }, params);
  const out: Reference = { lossSum: value.dataSync()[0]!, grads: new Map(), params: new Map() };
  params.forEach((p, i) => {
    const name = nameOf(p, i);
    // A parameter off the loss path (a zero-sized module of a pruned-away block) has zero gradient, as in the trainer.
    out.grads.set(name, grads[p.name] ? toHf(name, grads[p.name]!) : new Float32Array(p.size));
    out.params.set(name, toHf(name, p));
  });
  tf.dispose([value, ...Object.values(grads)]);
  void count;
  return out;
}

/** Largest |a − b| relative to the largest |b| (a scale-aware comparison of whole gradient tensors). */
export function relMaxError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}
