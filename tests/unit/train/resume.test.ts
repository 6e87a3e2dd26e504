/**
 * Resumable training: a run cancelled after a checkpoint and resumed from the saved state (on disk, through
 * train-state.ts) ends bit-identical to an uninterrupted run — the same loss curve and the same trained tensors —
 * on ONNX Runtime (LoRA and full weight) and on TensorFlow.js (LoRA). Dropout is on and gradients accumulate over
 * two micro-batches, so the masks, data order and optimizer moments all have to come back exactly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../../src/loram/backend/backend';
import { LlamaModel, randomWeights } from '../../../src/loram/model/llama';
import { attachLora, trainLora } from '../../../src/loram/lora/index';
import { DenseBases } from '../../../src/loram/ort-train/base-linears';
import { OrtFullRun, OrtLoraRun } from '../../../src/loram/ort-train/trainer';
import { lmTrainConfig } from '../../../src/loram/train/lm-objective';
import { LORA_TRAIN_DEFAULTS } from '../../../src/loram/lora/train';
import { CancelledError, type ResumeOptions, type TrainResult } from '../../../src/loram/train/trainer';
import { loadTrainState, saveTrainState, type CheckpointPolicy } from '../../../src/loram/train/train-state';
import { patternBatch, tinyConfig } from '../../helpers/loram-fixtures';
import type { WeightMap } from '../../../src/loram/util/tensor';

beforeAll(async () => {
  await initBackend();
});

const cfg = tinyConfig({ tieWordEmbeddings: true });
const batches = Array.from({ length: 5 }, (_, i) => patternBatch(cfg, 2, 16, 40 + i));
const spec = { r: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'v_proj', 'down_proj', 'lm_head'] as const, seed: 5 };
const opt = { lr: 1e-2, gradAccum: 2, maxGradNorm: 0.5, seed: 9 };
const STEPS = 10;
const clone = (w: WeightMap): WeightMap => new Map([...w].map(([k, t]) => [k, { shape: [...t.shape], data: new Float32Array(t.data) }]));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'loram-resume-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const OWNER = 'test-signature';
const policy: CheckpointPolicy = { everySteps: 3, everyMs: 0, save: (s) => saveTrainState(dir, OWNER, s) };

/** Train with `go`: straight through, then cancelled at step 7 and resumed from the step-6 checkpoint on disk. */
async function straightAndResumed(go: (o: ResumeOptions & { signal?: AbortSignal; onStep?: (i: { step: number }) => void }) => Promise<{ result: TrainResult; tensors: Float32Array[] }>) {
  const straight = await go({});
  const ac = new AbortController();
  await expect(go({ checkpoint: policy, signal: ac.signal, onStep: (i) => void (i.step === 7 && ac.abort()) })).rejects.toBeInstanceOf(CancelledError);
  const saved = await loadTrainState(dir, OWNER);
  expect(saved?.loop.step).toBe(6);
  expect(await loadTrainState(dir, 'another-signature')).toBeNull();
  const resumed = await go({ resume: saved, checkpoint: policy });
  expect(resumed.result.losses).toEqual(straight.result.losses);
  expect(resumed.tensors.length).toBe(straight.tensors.length);
  resumed.tensors.forEach((t, i) => expect(Buffer.from(t.buffer, t.byteOffset, t.byteLength).equals(Buffer.from(straight.tensors[i]!.buffer, straight.tensors[i]!.byteOffset, straight.tensors[i]!.byteLength))).toBe(true));
  return { straight, resumed };
}

test('ONNX Runtime LoRA: cancelled after a checkpoint, resumed from disk, bit-identical to an uninterrupted run', async () => {
  const weights = randomWeights(cfg, 11, 0.05);
  await straightAndResumed(async (o) => {
    const run = await OrtLoraRun.start({ config: cfg, weights, bases: new DenseBases() }, spec, { batch: 2, seqLen: 16 }, { provider: 'cpu', threads: 1 });
    try {
      const result = await run.train({ batches, config: lmTrainConfig(STEPS, opt, LORA_TRAIN_DEFAULTS), ...o });
      return { result, tensors: run.params.map((p) => p.slice()) };
    } finally {
      await run.release();
    }
  });
});

test('ONNX Runtime full weight: resumed run ends with the same weights', async () => {
  const weights = randomWeights(cfg, 12, 0.05);
  await straightAndResumed(async (o) => {
    const trained = clone(weights);
    const run = await OrtFullRun.start({ config: cfg, weights: trained, bases: new DenseBases() }, { batch: 2, seqLen: 16 }, { provider: 'cpu', threads: 1 });
    try {
      const result = await run.train({ batches, config: lmTrainConfig(STEPS, opt, LORA_TRAIN_DEFAULTS), ...o });
      return { result, tensors: run.params.map((p) => p.slice()) };
    } finally {
      await run.release();
    }
  });
});

test('TensorFlow.js LoRA: resumed run ends with the same adapter', async () => {
  const weights = randomWeights(cfg, 13, 0.05);
  await straightAndResumed(async (o) => {
    const model = LlamaModel.fromWeights(cfg, weights, { trainable: false });
    try {
      const handle = attachLora(model, { ...spec, targetModules: [...spec.targetModules] });
      const result = await trainLora(model, handle, { batches, steps: STEPS, ...opt, ...o });
      return { result, tensors: handle.params().map((p) => Float32Array.from(p.dataSync() as Float32Array)) };
    } finally {
      model.dispose();
    }
  });
});

test('a damaged checkpoint is refused with the way out, a mismatched one is refused before training', async () => {
  writeFileSync(path.join(dir, 'state.json'), '{ not json');
  await expect(loadTrainState(dir, OWNER)).rejects.toThrow(/unreadable.*delete it to start over/);
  const run = await OrtLoraRun.start({ config: cfg, weights: randomWeights(cfg, 1, 0.05), bases: new DenseBases() }, spec, { batch: 2, seqLen: 16 }, { provider: 'cpu', threads: 1 });
  try {
    const wrong = { loop: { step: 2, losses: [1, 1], lrs: [0, 0], tokens: 0, positions: 0 }, optimizer: { step: 2, params: [new Float32Array(3)], m: [new Float32Array(3)], v: [new Float32Array(3)] } };
    await expect(run.train({ batches, config: lmTrainConfig(STEPS, opt, LORA_TRAIN_DEFAULTS), resume: wrong })).rejects.toThrow(/do not match this run's \d+ trainable tensors/);
  } finally {
    await run.release();
  }
});
