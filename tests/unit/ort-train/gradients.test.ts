/**
 * The ONNX Runtime training graph's loss and gradients equal tfjs autodiff (cpu backend) to 1e-4 relative, for LoRA
 * and for full-weight training, on random models covering GQA, tied/untied heads, q/k/v biases, llama3 RoPE
 * scaling, per-layer sizes of pruned models (a layer without attention, one without MLP), LoRA on every target
 * including lm_head, LoRA dropout, padding masks and prompt/pad-masked labels.
 */
import { initBackend } from '../../../src/loram/backend/backend';
import { makeConfig, type LlamaConfig } from '../../../src/loram/model/config';
import { randomWeights } from '../../../src/loram/model/llama';
import type { LmBatch } from '../../../src/loram/model/loss';
import { LORA_TARGETS } from '../../../src/loram/model/config';
import { DenseBases } from '../../../src/loram/ort-train/base-linears';
import type { LoraTrainSpec, TrainMode } from '../../../src/loram/ort-train/llama-graph';
import { OrtTrainSession } from '../../../src/loram/ort-train/session';
import { Rng } from '../../../src/loram/util/rng';
import type { WeightMap } from '../../../src/loram/util/tensor';
import { relMaxError, tfjsFullReference, tfjsLoraReference, type Reference } from '../../helpers/ort-grad-reference';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

/** Pruned shapes: layer 1 keeps 2 of 4 query heads (1 KV head) and half its MLP, layer 2 loses attention, layer 3 its MLP. */
function prunedConfig(o: Partial<Parameters<typeof makeConfig>[0]> = {}): LlamaConfig {
  const cfg = makeConfig({ vocabSize: 53, hiddenSize: 32, numLayers: 4, numHeads: 4, numKvHeads: 2, intermediateSize: 40, headDim: 8, maxPositionEmbeddings: 64, ...o });
  cfg.layers[1] = { num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 20 };
  cfg.layers[2] = { num_attention_heads: 0, num_key_value_heads: 0, intermediate_size: 40 };
  cfg.layers[3] = { num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 0 };
  cfg.numLayers = 4;
  return cfg;
}

/** Right-padded rows, a masked prompt and ignored padding labels. */
function maskedBatch(cfg: LlamaConfig, B: number, T: number, seed: number): LmBatch {
  const rng = new Rng(seed);
  const inputIds = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  const labels = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
  const attentionMask = new Int32Array(B * T).fill(1);
  for (let b = 0; b < B; b++) {
    const len = T - 3 * b; // row b has 3·b padding positions at the end
    for (let t = len; t < T; t++) {
      attentionMask[b * T + t] = 0;
      labels[b * T + t] = -100;
    }
    labels[b * T] = -100; // a one-token "prompt"
  }
  return { inputIds, labels, attentionMask, batch: B, seqLen: T };
}

async function ortGrads(cfg: LlamaConfig, weights: WeightMap, mode: TrainMode, batch: LmBatch, ref: Reference, seed: number, checkpoint = false) {
  const s = await OrtTrainSession.create({ config: cfg, weights, bases: new DenseBases(), mode, batch: batch.batch, seqLen: batch.seqLen, checkpoint }, { provider: 'cpu', threads: 1 });
  try {
    const params = s.trainables.map((f) => {
      const p = ref.params.get(f.name);
      if (!p) throw new Error(`reference lacks ${f.name}`);
      return p;
    });
    const r = await s.step(batch, params, seed);
    return { ...r, names: s.trainables.map((f) => f.name) };
  } finally {
    await s.release();
  }
}

function expectClose(ort: { lossSum: number; grads: Float32Array[]; names: string[] }, ref: Reference) {
  expect(Math.abs(ort.lossSum - ref.lossSum) / Math.abs(ref.lossSum)).toBeLessThan(1e-5);
  expect([...ort.names].sort()).toEqual([...ref.grads.keys()].sort());
  const worst = ort.names.map((n, i) => ({ n, e: relMaxError(ort.grads[i]!, ref.grads.get(n)!) })).sort((a, b) => b.e - a.e)[0]!;
  expect(worst.e).toBeLessThan(1e-4);
}

const cases: { name: string; cfg: () => LlamaConfig }[] = [
  { name: 'GQA, tied head, pruned layer sizes', cfg: () => prunedConfig({ tieWordEmbeddings: true }) },
  { name: 'untied head, q/k/v bias, llama3 RoPE scaling', cfg: () => prunedConfig({ attentionBias: true, ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 } }) },
];

describe.each(cases)('ORT training graph = tfjs: $name', ({ cfg: mk }) => {
  const cfg = mk();
  const weights = randomWeights(cfg, 3, 0.1);
  if (cfg.attentionBias) for (const [n, t] of weights) if (n.endsWith('.bias')) t.data.forEach((_, i) => (t.data[i] = Math.sin(i + n.length) * 0.1));
  const batch = maskedBatch(cfg, 3, 12, 5);

  test('LoRA on every target including lm_head, with dropout', async () => {
    const lora: LoraTrainSpec = { r: 4, alpha: 8, dropout: 0.25, targets: LORA_TARGETS };
    const ref = tfjsLoraReference(cfg, weights, lora, batch, 1234);
    expectClose(await ortGrads(cfg, weights, { kind: 'lora', lora }, batch, ref, 1234), ref);
  });

  test('LoRA on a subset of targets and layers, no dropout', async () => {
    const lora: LoraTrainSpec = { r: 2, alpha: 4, dropout: 0, targets: ['q_proj', 'v_proj', 'down_proj'], layers: [0, 1, 3] };
    const ref = tfjsLoraReference(cfg, weights, lora, batch, 0);
    expectClose(await ortGrads(cfg, weights, { kind: 'lora', lora }, batch, ref, 0), ref);
  });

  test('full-weight training (every weight but lm_head)', async () => {
    const ref = tfjsFullReference(cfg, weights, batch);
    const frozen = new Set([cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight']);
    expectClose(await ortGrads(cfg, weights, { kind: 'full', frozen }, batch, ref, 0), ref);
  });

  test('activation checkpointing (layers recomputed in the backward pass): the same gradients, LoRA with dropout and full', async () => {
    const lora: LoraTrainSpec = { r: 4, alpha: 8, dropout: 0.25, targets: LORA_TARGETS };
    const refLora = tfjsLoraReference(cfg, weights, lora, batch, 99);
    expectClose(await ortGrads(cfg, weights, { kind: 'lora', lora }, batch, refLora, 99, true), refLora);
    const refFull = tfjsFullReference(cfg, weights, batch);
    const frozen = new Set([cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight']);
    expectClose(await ortGrads(cfg, weights, { kind: 'full', frozen }, batch, refFull, 0, true), refFull);
  });
});
