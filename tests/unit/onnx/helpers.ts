/** Shared pieces of the ONNX tests (not a test file). */
import { tf } from '../../../src/loram/backend/tf';
import type { LlamaConfig } from '../../../src/loram/model/config';
import { makeConfig } from '../../../src/loram/model/config';
import type { LlamaModel } from '../../../src/loram/model/llama';
import { Rng } from '../../../src/loram/util/rng';
import type { WeightMap } from '../../../src/loram/util/tensor';
import type { LoraAdapter } from '../../../src/loram/lora/adapter';
import type { LoraTarget } from '../../../src/loram/model/config';
import { moduleKey } from '../../../src/loram/lora/adapter';
import { expectedShapes } from '../../../src/loram/model/config';

export const tiny = (o: Partial<Parameters<typeof makeConfig>[0]> = {}): LlamaConfig =>
  makeConfig({ vocabSize: 61, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 40, maxPositionEmbeddings: 128, ...o });

/** A structurally pruned shape: layers differ in heads and MLP width; one layer lost its attention, one its MLP. */
export function prunedShape(): LlamaConfig {
  return {
    ...tiny({ numLayers: 4, numHeads: 4, numKvHeads: 2 }),
    layers: [
      { num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 40 },
      { num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 17 },
      { num_attention_heads: 0, num_key_value_heads: 0, intermediate_size: 9 },
      { num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 0 },
    ],
  };
}

/** Non-zero biases so q/k/v bias paths are exercised. */
export function withBiases(w: WeightMap): WeightMap {
  for (const [k, t] of w) if (k.endsWith('.bias')) t.data.forEach((_, i) => (t.data[i] = 0.1 * Math.sin(i + k.length)));
  return w;
}

export function randomIds(n: number, vocab: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.int(vocab));
}

/** max |a − b| / max |b|: the relative error used by the acceptance criteria. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, keep?: (i: number) => boolean): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    if (keep && !keep(i)) continue;
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

export function tfjsLogits(m: LlamaModel, ids: Int32Array, B: number, T: number, mask?: Int32Array): Float32Array {
  const out = tf.tidy(() => m.forward(tf.tensor2d(ids, [B, T], 'int32'), { attentionMask: mask ? tf.tensor2d(mask, [B, T], 'int32') : undefined }));
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

/** A random (non-zero B) LoRA adapter for every targeted module of every layer that has it. */
export function randomAdapter(cfg: LlamaConfig, seed: number, targets: LoraTarget[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], layers: number[] | null = null, r = 4, alpha = 8): LoraAdapter {
  const rng = new Rng(seed);
  const shapes = expectedShapes(cfg);
  const modules: LoraAdapter['modules'] = new Map();
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.normal() * s);
  for (let i = 0; i < cfg.numLayers; i++) {
    if (layers && !layers.includes(i)) continue;
    for (const t of targets) {
      if (t === 'lm_head') continue;
      const key = moduleKey(i, t);
      const [out, inn] = shapes.get(`${key}.weight`)!;
      if (!out || !inn) continue; // pruned away entirely
      modules.set(key, { A: { shape: [r, inn], data: rand(r * inn, 0.3) }, B: { shape: [out, r], data: rand(out * r, 0.3) } });
    }
  }
  if (targets.includes('lm_head')) modules.set('lm_head', { A: { shape: [r, cfg.hiddenSize], data: rand(r * cfg.hiddenSize, 0.3) }, B: { shape: [cfg.vocabSize, r], data: rand(cfg.vocabSize * r, 0.3) } });
  return { config: { r, alpha, dropout: 0, targetModules: targets, layers, baseModel: 'test' }, modules };
}
