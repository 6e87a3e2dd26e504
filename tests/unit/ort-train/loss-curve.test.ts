/**
 * The ONNX Runtime trainer reproduces the tfjs trainer's loss curve step for step from the same seed (same data,
 * LoRA initialisation, schedule, clipping, AdamW): 50 LoRA steps and 20 full-weight (alignment) steps within 1e-3
 * relative per step; the trained adapter / weights agree too.
 */
import { initBackend } from '../../../src/loram/backend/backend';
import { tf } from '../../../src/loram/backend/tf';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { attachLora, trainLora } from '../../../src/loram/lora/index';
import { alignModel } from '../../../src/loram/align/align';
import { DenseBases } from '../../../src/loram/ort-train/base-linears';
import { OrtFullRun, OrtLoraRun } from '../../../src/loram/ort-train/trainer';
import { lmTrainConfig } from '../../../src/loram/train/lm-objective';
import { LORA_TRAIN_DEFAULTS } from '../../../src/loram/lora/train';
import { ALIGN_DEFAULTS } from '../../../src/loram/align/align';
import { patternBatch, tinyConfig } from '../../helpers/loram-fixtures';
import { relMaxError } from '../../helpers/ort-grad-reference';
import type { WeightMap } from '../../../src/loram/util/tensor';

beforeAll(async () => {
  await initBackend(); // the fastest tfjs backend here (wasm): the curve, not the kernel, is under test
});

const cfg = tinyConfig({ tieWordEmbeddings: true });
const batches = Array.from({ length: 6 }, (_, i) => patternBatch(cfg, 4, 16, 100 + i));
const clone = (w: WeightMap): WeightMap => new Map([...w].map(([k, t]) => [k, { shape: [...t.shape], data: new Float32Array(t.data) }]));

function expectSameCurve(ort: number[], ref: number[]) {
  expect(ort).toHaveLength(ref.length);
  const worst = Math.max(...ort.map((l, i) => Math.abs(l - ref[i]!) / Math.abs(ref[i]!)));
  expect(worst).toBeLessThan(1e-3);
}

test('50 LoRA steps: the same loss curve and adapter as the tfjs trainer', async () => {
  const weights = randomWeights(cfg, 11, 0.05);
  const spec = { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'] as const, seed: 5 };
  const opt = { lr: 5e-3, gradAccum: 2, maxGradNorm: 0.5, seed: 9 };

  const model = LlamaModel.fromWeights(cfg, weights, { trainable: false });
  const handle = attachLora(model, { ...spec, targetModules: [...spec.targetModules] });
  const ref = await trainLora(model, handle, { batches, steps: 50, ...opt });
  const refAdapter = handle.export();
  model.dispose();

  const run = await OrtLoraRun.start({ config: cfg, weights, bases: new DenseBases() }, { ...spec, targetModules: [...spec.targetModules] }, { batch: 4, seqLen: 16 }, { provider: 'cpu', threads: 1 });
  try {
    const res = await run.train({ batches, config: lmTrainConfig(50, opt, LORA_TRAIN_DEFAULTS) });
    expectSameCurve(res.losses, ref.losses);
    expect(res.losses[49]!).toBeLessThan(res.losses[0]! - 0.5); // it learned
    const adapter = run.adapter();
    expect([...adapter.modules.keys()]).toEqual([...refAdapter.modules.keys()]);
    for (const [k, w] of refAdapter.modules) expect(relMaxError(adapter.modules.get(k)!.B.data, w.B.data)).toBeLessThan(1e-2);
  } finally {
    await run.release();
  }
});

test('20 full-weight (alignment) steps: the same loss curve as the tfjs trainer', async () => {
  const weights = randomWeights(cfg, 12, 0.05);
  const opt = { lr: 2e-3, seed: 3, maxGradNorm: 1 };
  const model = LlamaModel.fromWeights(cfg, clone(weights), { trainable: true });
  const ref = await alignModel(model, { batches, steps: 20, evalEvery: 0, ...opt });
  const refWeights = model.toWeights();
  model.dispose();
  expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);

  const trained = clone(weights);
  const run = await OrtFullRun.start({ config: cfg, weights: trained, bases: new DenseBases() }, { batch: 4, seqLen: 16 }, { provider: 'cpu', threads: 1 });
  try {
    const res = await run.train({ batches, config: lmTrainConfig(20, opt, ALIGN_DEFAULTS) });
    expectSameCurve(res.losses, ref.losses);
    const name = 'model.layers.2.mlp.down_proj.weight';
    expect(relMaxError(trained.get(name)!.data, refWeights.get(name)!.data)).toBeLessThan(1e-3);
    expect(relMaxError(trained.get(name)!.data, weights.get(name)!.data)).toBeGreaterThan(1e-3); // it moved
  } finally {
    await run.release();
  }
});
