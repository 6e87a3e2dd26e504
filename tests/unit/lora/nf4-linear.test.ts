import { tf } from '../../../src/loram/backend/tf';
import { initBackend } from '../../../src/loram/backend/backend';
import { LINEAR_MODULES, linearName } from '../../../src/loram/model/config';
import { DenseLinear } from '../../../src/loram/model/linear';
import type { ForwardContext } from '../../../src/loram/model/linear';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { meanLoss } from '../../../src/loram/align';
import { DEFAULT_LORA_SPEC, attachLora, trainLora } from '../../../src/loram/lora';
import { dequantizeNf4 } from '../../../src/loram/quant/nf4';
import { Nf4Linear, quantizeModel } from '../../../src/loram/quant/nf4-linear';
import { Rng } from '../../../src/loram/util/rng';
import type { HostTensor } from '../../../src/loram/util/tensor';
import { maxAbsDiff, patternBatch, tinyConfig } from '../../helpers/loram-fixtures';

const ctx: ForwardContext = { training: false, seed: 0 };

function randn(shape: number[], seed: number, std = 1): HostTensor {
  const rng = new Rng(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * std) };
}

describe('Nf4Linear (QLoRAM base)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  test('forward equals a dense forward with the dequantized weight, and so does dL/dx', () => {
    const W = randn([40, 96], 1, 0.05); // 3840 weights = 60 blocks of 64, blocks straddle rows
    const bias = randn([40], 2, 0.1);
    const q = Nf4Linear.fromDense(W, bias);
    const dense = new DenseLinear(dequantizeNf4(q.q), bias, 'ref', false);
    expect(q.baseWeightHf().data).toEqual(dequantizeNf4(q.q).data);
    expect(q.trainable()).toEqual([]);
    const x = tf.tensor2d(randn([7, 96], 3).data, [7, 96]);
    const yq = tf.tidy(() => q.apply(x, ctx).dataSync().slice());
    const yd = tf.tidy(() => dense.apply(x).dataSync().slice());
    expect(maxAbsDiff(yq, yd)).toBeLessThan(1e-5);
    const up = tf.tensor2d(randn([7, 40], 4).data, [7, 40]);
    const gq = tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(q.apply(xx as tf.Tensor2D, ctx), up)))(x).dataSync().slice());
    const gd = tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(dense.apply(xx as tf.Tensor2D), up)))(x).dataSync().slice());
    expect(maxAbsDiff(gq, gd)).toBeLessThan(1e-5);
    // The quantized weight really is 4-bit-ish and close to the original.
    expect((q.storageBytes() * 8) / (40 * 96)).toBeLessThan(4.2);
    expect(maxAbsDiff(q.baseWeightHf().data, W.data)).toBeLessThan(0.05);
    // No dense weight stays alive between calls.
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      q.apply(x, ctx);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, up]);
    q.dispose();
    dense.dispose();
  });

  test('quantizeModel swaps every decoder linear, keeps embeddings/lm_head, and LoRA on top trains (QLoRAM)', async () => {
    const cfg = tinyConfig({ vocabSize: 23, numLayers: 2 });
    const w = randomWeights(cfg, 3, 0.1);
    const m = LlamaModel.fromWeights(cfg, w, { trainable: false });
    const embedBefore = m.embed.dataSync().slice();
    const headBefore = m.lmHead!.dataSync().slice();
    const s = quantizeModel(m);
    expect(s.linears).toBe(2 * 7);
    for (const l of m.layers) for (const mod of LINEAR_MODULES) expect(l.linears[mod]).toBeInstanceOf(Nf4Linear);
    expect(m.embed.dataSync()).toEqual(embedBefore);
    expect(m.lmHead!.dataSync()).toEqual(headBefore);
    const qW = m.toWeights();
    const name = linearName(1, 'up_proj');
    expect(maxAbsDiff(qW.get(name)!.data, w.get(name)!.data)).toBeLessThan(0.05);

    const h = attachLora(m, { ...DEFAULT_LORA_SPEC, r: 8, alpha: 16 });
    expect(() => quantizeModel(m)).not.toThrow(); // already quantized bases are skipped
    const train = Array.from({ length: 6 }, (_, i) => patternBatch(cfg, 4, 12, 10 + i));
    const held = [patternBatch(cfg, 8, 12, 99)];
    const l0 = meanLoss(m, held);
    await trainLora(m, h, { batches: train, steps: 30, lr: 1e-2, warmupSteps: 3 });
    expect(meanLoss(m, held)).toBeLessThan(l0 - 0.3);
    const after = m.toWeights();
    for (const [k, t] of qW) expect(after.get(k)!.data).toEqual(t.data); // frozen 4-bit base, bit-identical
    m.dispose();
  });
});
