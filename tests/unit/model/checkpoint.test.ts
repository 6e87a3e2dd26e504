/**
 * Activation checkpointing (ForwardOptions.checkpoint): the same gradients as the plain backward pass, for the full
 * model and for LoRA; no leaked tensors; a lower peak of live tensor bytes; and, with dropout on, gradients that
 * match a finite difference of the (seeded, hence identical) checkpointed loss.
 */
import { initBackend } from '../../../src/loram/backend/backend';
import { tf } from '../../../src/loram/backend/tf';
import { makeConfig } from '../../../src/loram/model/config';
import { LlamaModel } from '../../../src/loram/model/llama';
import { lmLoss } from '../../../src/loram/model/loss';
import { attachLora } from '../../../src/loram/lora/index';
import { Rng } from '../../../src/loram/util/rng';
import { trackPeakTensorBytes } from '../../../src/loram/util/peak-bytes';

const cfg = makeConfig({ vocabSize: 128, hiddenSize: 32, numLayers: 4, numHeads: 4, numKvHeads: 2, intermediateSize: 48 });
const B = 4;
const T = 32;
const rng = new Rng(1);
const ids = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
const labels = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T === 0 ? -100 : ids[i + 1]!));
const batch = { inputIds: ids, labels, batch: B, seqLen: T };

beforeAll(async () => {
  await initBackend();
});

function gradsOf(model: LlamaModel, vars: tf.Variable[], checkpoint: boolean) {
  const before = tf.memory().numTensors;
  const tracker = trackPeakTensorBytes(tf);
  const base = tf.memory().numBytes;
  const { value, grads } = tf.variableGrads(() => lmLoss(model, batch, { training: true, seed: 3, checkpoint }).loss, vars);
  const peak = tracker.peak() - base;
  tracker.stop();
  const out = vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, out, peak, leaked: tf.memory().numTensors - before };
}

function maxRelDiff(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((ga, i) => {
    const gb = b[i]!;
    let num = 0;
    let den = 0;
    for (let j = 0; j < ga.length; j++) {
      num += (ga[j]! - gb[j]!) ** 2;
      den += ga[j]! ** 2;
    }
    worst = Math.max(worst, Math.sqrt(num / Math.max(den, 1e-30)));
  });
  return worst;
}

test('full model: same loss and gradients, no leaks, lower peak memory', () => {
  const model = LlamaModel.random(cfg, 5, 0.05);
  const vars = model.variables();
  const plain = gradsOf(model, vars, false);
  const ckpt = gradsOf(model, vars, true);
  expect(ckpt.loss).toBeCloseTo(plain.loss, 6);
  expect(maxRelDiff(plain.out, ckpt.out)).toBeLessThan(1e-5);
  expect(plain.leaked).toBe(0);
  expect(ckpt.leaked).toBe(0);
  expect(ckpt.peak).toBeLessThan(plain.peak * 0.8);
  model.dispose();
});

test('LoRA on a frozen base (dropout 0): same gradients for A and B', () => {
  const model = LlamaModel.random(cfg, 6, 0.05, { trainable: false });
  const lora = attachLora(model, { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj', 'down_proj', 'lm_head'], layers: null, seed: 2 });
  // B starts at zero; give it values so every path carries gradient.
  for (const v of lora.params()) v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 7));
  const plain = gradsOf(model, lora.params(), false);
  const ckpt = gradsOf(model, lora.params(), true);
  expect(maxRelDiff(plain.out, ckpt.out)).toBeLessThan(1e-5);
  expect(ckpt.leaked).toBe(0);
  model.dispose();
});

test('with dropout: the recomputation sees the same masks (gradient = finite difference)', () => {
  const model = LlamaModel.random(cfg, 7, 0.05, { trainable: false });
  const lora = attachLora(model, { r: 4, alpha: 8, dropout: 0.3, targetModules: ['q_proj', 'up_proj'], layers: null, seed: 2 });
  for (const v of lora.params()) v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 8));
  const v = lora.params().find((p) => p.shape[0] === cfg.hiddenSize)!; // an A factor [in, r]: after dropout
  const loss = () => tf.tidy(() => lmLoss(model, batch, { training: true, seed: 3, checkpoint: true }).loss.dataSync()[0]!);
  const { grads } = tf.variableGrads(() => lmLoss(model, batch, { training: true, seed: 3, checkpoint: true }).loss, [v]);
  const d = tf.randomNormal(v.shape, 0, 1, 'float32', 9);
  const analytic = tf.sum(tf.mul(grads[v.name]!, d)).dataSync()[0]!;
  const w0 = v.clone();
  const eps = 0.05;
  v.assign(tf.add(w0, tf.mul(d, eps)));
  const up = loss();
  v.assign(tf.sub(w0, tf.mul(d, eps)));
  const down = loss();
  v.assign(w0);
  expect(Math.abs(analytic)).toBeGreaterThan(1e-4);
  expect(Math.abs((up - down) / (2 * eps) - analytic)).toBeLessThan(0.05 * Math.abs(analytic));
  tf.dispose([w0, d, ...Object.values(grads)]);
  model.dispose();
});
