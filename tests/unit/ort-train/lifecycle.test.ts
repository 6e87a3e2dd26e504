/**
 * The ONNX Runtime trainer's lifecycle: cancel takes effect before the next step; 200 steps leave memory flat
 * after warm-up (no tensor, output or session leak); a released session refuses further steps.
 */
import { makeConfig } from '../../../src/loram/model/config';
import { randomWeights } from '../../../src/loram/model/llama';
import { DenseBases } from '../../../src/loram/ort-train/base-linears';
import { OrtLoraRun } from '../../../src/loram/ort-train/trainer';
import { lmTrainConfig } from '../../../src/loram/train/lm-objective';
import { LORA_TRAIN_DEFAULTS } from '../../../src/loram/lora/train';
import { CancelledError } from '../../../src/loram/train/trainer';
import { LORA_TARGETS } from '../../../src/loram/model/config';
import { patternBatch } from '../../helpers/loram-fixtures';

const cfg = makeConfig({ vocabSize: 64, hiddenSize: 128, numLayers: 2, numHeads: 4, intermediateSize: 256, maxPositionEmbeddings: 64 });
const weights = randomWeights(cfg, 4, 0.05);
const batches = [patternBatch(cfg, 4, 32, 1), patternBatch(cfg, 4, 32, 2)];
const spec = { r: 32, alpha: 32, dropout: 0.1, targetModules: LORA_TARGETS, seed: 1 };
const start = () => OrtLoraRun.start({ config: cfg, weights, bases: new DenseBases() }, spec, { batch: 4, seqLen: 32 }, { provider: 'cpu', threads: 1 });

test('cancel stops before the next step', async () => {
  const run = await start();
  const ac = new AbortController();
  const seen: number[] = [];
  try {
    await expect(
      run.train({ batches, config: lmTrainConfig(50, {}, LORA_TRAIN_DEFAULTS), signal: ac.signal, onStep: (i) => {
        seen.push(i.step);
        if (i.step === 3) ac.abort();
      } }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(seen).toEqual([1, 2, 3]);
  } finally {
    await run.release();
  }
});

test('cancel keeps the steps taken, and validation during training scores the weights of that step', async () => {
  const run = await start();
  const ac = new AbortController();
  const before = await run.evalLoss([batches[1]!]);
  const during: number[] = [];
  try {
    await expect(
      run.train({ batches: [batches[0]!], config: lmTrainConfig(10, { lr: 1e-2 }, LORA_TRAIN_DEFAULTS), signal: ac.signal, onStep: async (i) => {
        during.push(await run.evalLoss([batches[1]!]));
        if (i.step === 4) ac.abort();
      } }),
    ).rejects.toBeInstanceOf(CancelledError);
    // The optimizer trains its own copy; each step's validation must see it, not the weights training began with.
    expect(new Set(during).size).toBe(4);
    expect(during[0]).not.toBe(before);
    // After the cancel the run holds the weights of step 4, the last one validated.
    expect(await run.evalLoss([batches[1]!])).toBe(during[3]);
  } finally {
    await run.release();
  }
});

test('200 steps: resident memory flat after warm-up; a released session refuses to step', async () => {
  const run = await start();
  const rss: number[] = [];
  await run.train({ batches, config: lmTrainConfig(200, {}, LORA_TRAIN_DEFAULTS), onStep: (i) => {
    if (i.step === 20 || i.step === 200) rss.push(process.memoryUsage.rss());
  } });
  // Each step returns ~0.6 MB of gradients; leaking them would add ~100 MB over 180 steps.
  expect(rss[1]! - rss[0]!).toBeLessThan(40 * 2 ** 20);
  expect(run.numParams()).toBeGreaterThan(140_000);
  await run.release();
  await expect(run.session.step(batches[0]!, run.params, 0)).rejects.toThrow();
}, 120_000);
