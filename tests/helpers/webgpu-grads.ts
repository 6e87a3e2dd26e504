/**
 * Child-process half of tests/unit/ort-train/webgpu.test.ts: the Vulkan loader and driver are chosen from the
 * environment at process start, so the WebGPU session runs in a process started with them. Prints one JSON line:
 * the provider each session got and the largest relative gradient error against tfjs, for LoRA and full training,
 * with the gradients written into pre-allocated arrays as the trainer has them.
 */
import { initBackend } from '../../src/loram/backend/backend';
import { makeConfig } from '../../src/loram/model/config';
import { randomWeights } from '../../src/loram/model/llama';
import { LORA_TARGETS } from '../../src/loram/model/config';
import { DenseBases } from '../../src/loram/ort-train/base-linears';
import type { TrainMode } from '../../src/loram/ort-train/llama-graph';
import { OrtTrainSession } from '../../src/loram/ort-train/session';
import { randomBatch } from './loram-fixtures';
import { relMaxError, tfjsFullReference, tfjsLoraReference, type Reference } from './ort-grad-reference';

async function worst(mode: TrainMode, ref: Reference, seed: number) {
  const s = await OrtTrainSession.create({ config: cfg, weights, bases: new DenseBases(), mode, batch: 2, seqLen: 8 }, { provider: 'webgpu' });
  try {
    // Gradients written into the caller's arrays (pre-allocated outputs), as the trainer has them written.
    const into = s.trainables.map((f) => new Float32Array(f.shape.reduce((a, b) => a * b, 1)));
    const r = await s.step(batch, s.trainables.map((f) => ref.params.get(f.name)!), seed, into);
    const errs = s.trainables.map((f, i) => relMaxError(into[i]!, ref.grads.get(f.name)!));
    return { provider: s.provider, loss: Math.abs(r.lossSum - ref.lossSum) / Math.abs(ref.lossSum), grad: Math.max(...errs) };
  } finally {
    await s.release();
  }
}

const cfg = makeConfig({ vocabSize: 37, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 40, attentionBias: true, maxPositionEmbeddings: 32 });
const weights = randomWeights(cfg, 8, 0.1);
const batch = randomBatch(cfg, 2, 8, 3);

await initBackend({ prefer: 'cpu' });
const lora = { r: 4, alpha: 8, dropout: 0.1, targets: LORA_TARGETS };
const out = {
  lora: await worst({ kind: 'lora', lora }, tfjsLoraReference(cfg, weights, lora, batch, 77), 77),
  full: await worst({ kind: 'full', frozen: new Set(['lm_head.weight']) }, tfjsFullReference(cfg, weights, batch), 0),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
