/**
 * QLoRAM on ONNX Runtime: with the decoder linears in NF4 (MatMulBnb4 forward, in-graph dequantization backward,
 * or in-graph dequantization both ways as providers without the contrib op build it), LoRA gradients equal the
 * tfjs NF4 model's to 1e-4. The embedding is stored at 16 bits, so the reference gets the same fp16-rounded table.
 */
import { initBackend } from '../../../src/loram/backend/backend';
import { makeConfig } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { lmLoss } from '../../../src/loram/model/loss';
import { tf } from '../../../src/loram/backend/tf';
import { attachLora } from '../../../src/loram/lora/attach';
import { quantizeModel } from '../../../src/loram/quant/nf4-linear';
import { LORA_TARGETS } from '../../../src/loram/model/config';
import { Nf4Bases, toHalf } from '../../../src/loram/ort-train/base-linears';
import { loraAName, loraBName } from '../../../src/loram/ort-train/llama-graph';
import { OrtTrainSession } from '../../../src/loram/ort-train/session';
import { transpose2d } from '../../../src/loram/util/tensor';
import { randomBatch } from '../../helpers/loram-fixtures';
import { relMaxError } from '../../helpers/ort-grad-reference';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

test('toHalf rounds to nearest even like IEEE binary16', () => {
  // 6.1e-5 is just below the smallest normal half (2^-14), so it rounds to the subnormal 1023·2^-24.
  const xs = Float32Array.of(0, 1, -2.5, 65504, 1e-8, 6.1e-5, 0.1, 1 / 3, 70000, 2 ** -24);
  const h = toHalf(xs);
  expect(Array.from(h, halfToFloat)).toEqual([0, 1, -2.5, 65504, 0, 1023 * 2 ** -24, 0.0999755859375, 0.333251953125, Infinity, 2 ** -24]);
});

const cfg = makeConfig({ vocabSize: 61, hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 96, tieWordEmbeddings: true, maxPositionEmbeddings: 64 });

describe.each([
  ['cpu', false],
  ['webgpu', false],
  ['cpu', true],
] as const)('NF4 base built for %s, checkpointing %s', (buildFor, checkpoint) => {
  test('LoRA gradients equal the tfjs NF4 model', async () => {
    const weights = randomWeights(cfg, 21, 0.05);
    const e = weights.get('model.embed_tokens.weight')!;
    e.data = Float32Array.from(toHalf(e.data), halfToFloat); // what the 16-bit storage holds
    const batch = randomBatch(cfg, 2, 10, 4);
    const lora = { r: 4, alpha: 8, dropout: 0, targets: LORA_TARGETS };

    const model = LlamaModel.fromWeights(cfg, weights, { trainable: false });
    quantizeModel(model, { blockSize: 64, doubleQuant: true });
    const handle = attachLora(model, { r: 4, alpha: 8, dropout: 0, targetModules: LORA_TARGETS, seed: 2 });
    let k = 0;
    for (const f of handle.modules.values()) f.B.assign(tf.tidy(() => tf.mul(tf.randomNormal(f.B.shape, 0, 1, 'float32', 50 + k++), 0.05)));
    const ref = new Map<string, Float32Array>();
    const params = new Map<string, Float32Array>();
    const { value, grads } = tf.variableGrads(() => {
      const r = lmLoss(model, batch, { training: true, seed: 0 });
      return tf.mul(r.loss, r.count) as tf.Scalar;
    }, handle.params());
    for (const [key, f] of handle.modules) {
      for (const [v, name] of [[f.A, loraAName(key)], [f.B, loraBName(key)]] as const) {
        ref.set(name, transpose2d({ shape: [...v.shape], data: new Float32Array(grads[v.name]!.dataSync()) }).data);
        params.set(name, transpose2d({ shape: [...v.shape], data: new Float32Array(v.dataSync()) }).data);
      }
    }
    const refLoss = value.dataSync()[0]!;
    model.dispose();

    const bases = new Nf4Bases({ blockSize: 64, doubleQuant: true }, buildFor);
    const s = await OrtTrainSession.create({ config: cfg, weights, bases, mode: { kind: 'lora', lora }, batch: 2, seqLen: 10, checkpoint }, { provider: 'cpu', threads: 1 });
    try {
      const r = await s.step(batch, s.trainables.map((f) => params.get(f.name)!), 0);
      expect(Math.abs(r.lossSum - refLoss) / refLoss).toBeLessThan(1e-5);
      s.trainables.forEach((f, i) => expect(relMaxError(r.grads[i]!, ref.get(f.name)!)).toBeLessThan(1e-4));
      expect(bases.summary).toMatch(/4\.1\d\d bits/);
    } finally {
      await s.release();
    }
  });
});
