/**
 * Packed SFT rows (several examples per row, each position tagged with its example): attention stays within each
 * example on both training engines, so a packed batch's summed loss equals that of the same examples one per row
 * (rotary positions need no reset: attention depends only on distances), and the ONNX Runtime graph's loss and
 * gradients equal tfjs autodiff on a packed batch.
 */
import { initBackend } from '../../../src/loram/backend/backend';
import { tf } from '../../../src/loram/backend/tf';
import { packSequences, sftBatch, sftRow, type SftSequence } from '../../../src/loram/data/sft';
import { makeConfig, LORA_TARGETS } from '../../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { lmLoss, type LmBatch } from '../../../src/loram/model/loss';
import { DenseBases } from '../../../src/loram/ort-train/base-linears';
import type { LoraTrainSpec } from '../../../src/loram/ort-train/llama-graph';
import { OrtTrainSession } from '../../../src/loram/ort-train/session';
import { Rng } from '../../../src/loram/util/rng';
import { relMaxError, tfjsLoraReference } from '../../helpers/ort-grad-reference';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

const cfg = makeConfig({ vocabSize: 41, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 48, headDim: 8, maxPositionEmbeddings: 64 });
const weights = randomWeights(cfg, 11, 0.2);
const PAD = 0;

/** Random examples: a 3-token prompt (not trained) and an answer (trained). */
function examples(lengths: number[]): SftSequence[] {
  const rng = new Rng(3);
  return lengths.map((n) => ({ ids: Array.from({ length: n }, () => 1 + rng.int(cfg.vocabSize - 1)), trained: Array.from({ length: n }, (_, i) => (i >= 3 ? 1 : 0)) }));
}

/** Σ of the token losses of a batch (tfjs, no adapter). */
function tfjsLossSum(batch: LmBatch): number {
  const model = LlamaModel.fromWeights(cfg, weights, { trainable: false });
  try {
    return tf.tidy(() => {
      const r = lmLoss(model, batch);
      return r.loss.dataSync()[0]! * r.count;
    });
  } finally {
    model.dispose();
  }
}

describe('packed rows', () => {
  const seqs = examples([7, 5, 9, 6]);
  const T = 16;
  const packed = sftBatch(packSequences(seqs, T, PAD), T);
  const oneEach = sftBatch(seqs.map((s) => sftRow(s, T, PAD)), T);

  test('are packed: 4 examples in 2 rows, segment ids per position', () => {
    expect(packed.batch).toBe(2);
    expect(Array.from(packed.segments!.subarray(0, T))).toEqual([...Array(9).fill(1), ...Array(7).fill(2)]);
  });

  test('tfjs: the same summed loss as one example per row; without the segment mask it differs', () => {
    const a = tfjsLossSum(packed);
    const b = tfjsLossSum(oneEach);
    expect(Math.abs(a - b) / b).toBeLessThan(1e-5);
    const { segments: _s, ...crossing } = packed;
    expect(Math.abs(tfjsLossSum(crossing) - b) / b).toBeGreaterThan(1e-3);
  });

  test('ONNX Runtime: loss and LoRA gradients equal tfjs on the packed batch; a session without segments refuses it', async () => {
    const lora: LoraTrainSpec = { r: 4, alpha: 8, dropout: 0, targets: LORA_TARGETS };
    const ref = tfjsLoraReference(cfg, weights, lora, packed, 0);
    const s = await OrtTrainSession.create({ config: cfg, weights, bases: new DenseBases(), mode: { kind: 'lora', lora }, batch: packed.batch, seqLen: T, segments: true }, { provider: 'cpu', threads: 1 });
    try {
      const params = s.trainables.map((f) => ref.params.get(f.name)!);
      const r = await s.step(packed, params, 0);
      expect(Math.abs(r.lossSum - ref.lossSum) / Math.abs(ref.lossSum)).toBeLessThan(1e-5);
      const worst = Math.max(...s.trainables.map((f, i) => relMaxError(r.grads[i]!, ref.grads.get(f.name)!)));
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await s.release();
    }
    const plain = await OrtTrainSession.create({ config: cfg, weights, bases: new DenseBases(), mode: { kind: 'lora', lora }, batch: packed.batch, seqLen: T }, { provider: 'cpu', threads: 1 });
    try {
      const params = plain.trainables.map((f) => ref.params.get(f.name)!);
      await expect(plain.step(packed, params, 0)).rejects.toThrow(/packed batch .* without segments/);
    } finally {
      await plain.release();
    }
  });
});
