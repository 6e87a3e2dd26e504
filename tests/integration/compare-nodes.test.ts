/**
 * What the comparison needs from the nodes, through the engine on a tiny random model (numbers mean nothing):
 * - a multiple-choice Dataset feeding Evaluate's `choices` input (accuracy, acc_norm, items);
 * - LoRA-Train recording planned (the ORT planner) and measured training memory with the runtime each is for
 *   (ONNX Runtime: a probe process; tfjs: its tensor counter), and gradient checkpointing lowering both;
 * - Align keeping a semi-structured model's 2:4 sparsity (pruned weights re-masked after training);
 * - "w/o recovery": Evaluate of the pruned model with its own adapter.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/engine/engine';
import { loadModelDir } from '../../src/loram/io/model-dir';
import { tf } from '../../src/loram/backend/tf';
import { initBackend } from '../../src/loram/backend/backend';
import { trackPeakTensorBytes } from '../../src/loram/util/peak-bytes';
import type { RecipeInput } from '../../src/shared';
import { makeTinyModel } from './tiny-model';

const root = mkdtempSync(path.join(os.tmpdir(), 'loram-cmpn-'));
let engine: Engine;

beforeAll(async () => {
  await makeTinyModel(path.join(root, 'tiny'));
  engine = new Engine({ home: path.join(root, 'home') });
}, 60_000);
afterAll(async () => {
  await engine?.close();
});

const LORA = { rank: 4, alpha: 8, steps: 3, lr: 0.01, warmupSteps: 1, batchSize: 2, seqLen: 16, seed: 0 };
const EVAL = { seqLen: 16, maxTokens: 400, batchSize: 4, runtime: 'tfjs' };
const SPLIT = { source: 'sotu', maxDocuments: 20, maxDocumentChars: 1500, seed: 0 };

function recipe(): RecipeInput {
  const nodes: [string, string, Record<string, unknown>][] = [
    ['load', 'Load', { source: 'tiny' }],
    ['general', 'Dataset', { source: 'brown', maxDocuments: 6 }],
    ['domain', 'Dataset', SPLIT],
    ['choices', 'Dataset', { ...SPLIT, format: 'multiple-choice', mcMaxItems: 6, mcItemsPerDocument: 3, mcContextWords: 12, mcContinuationWords: 4 }],
    ['prune', 'Prune', { strategy: 'semi', ratio: 0.5, importance: 'wanda', calibrationSamples: 4, calibrationTokens: 16 }],
    ['align', 'Align', { steps: 2, lr: 0.01, batchSize: 2, seqLen: 16, warmupSteps: 1 }],
    ['train', 'LoRA-Train', LORA],
    ['norec', 'Evaluate', { ...EVAL, label: 'w/o recovery' }],
    ['prune_st', 'Prune', { strategy: 'stru', ratio: 0.5, calibrationSamples: 4, calibrationTokens: 16 }],
    ['quant', 'Quantize', {}],
    ['train_q', 'LoRA-Train', LORA],
    ['train_full', 'LoRA-Train', LORA],
    ['train_full_tfjs', 'LoRA-Train', { ...LORA, backend: 'tfjs' }],
    ['train_full_ckpt', 'LoRA-Train', { ...LORA, gradientCheckpointing: true, backend: 'tfjs' }],
    ['eval_full', 'Evaluate', { ...EVAL, label: 'full' }],
  ];
  const edges: [string, string, string, string][] = [
    ['load', 'model', 'prune', 'model'], ['general', 'dataset', 'prune', 'calibration'], ['prune', 'model', 'align', 'model'], ['general', 'dataset', 'align', 'dataset'],
    ['align', 'model', 'train', 'model'], ['domain', 'dataset', 'train', 'dataset'],
    ['align', 'model', 'norec', 'model'], ['train', 'adapter', 'norec', 'adapter'], ['domain', 'dataset', 'norec', 'dataset'], ['choices', 'dataset', 'norec', 'choices'],
    ['load', 'model', 'prune_st', 'model'], ['general', 'dataset', 'prune_st', 'calibration'], ['prune_st', 'model', 'quant', 'model'], ['quant', 'model', 'train_q', 'model'], ['domain', 'dataset', 'train_q', 'dataset'],
    ['load', 'model', 'train_full', 'model'], ['domain', 'dataset', 'train_full', 'dataset'],
    ['load', 'model', 'train_full_ckpt', 'model'], ['domain', 'dataset', 'train_full_ckpt', 'dataset'],
    ['load', 'model', 'train_full_tfjs', 'model'], ['domain', 'dataset', 'train_full_tfjs', 'dataset'],
    ['load', 'model', 'eval_full', 'model'], ['train_full', 'adapter', 'eval_full', 'adapter'], ['domain', 'dataset', 'eval_full', 'dataset'], ['choices', 'dataset', 'eval_full', 'choices'],
  ];
  return {
    format: 'loram-recipe',
    version: 2,
    name: 'comparison nodes',
    nodes: nodes.map(([id, type, params]) => ({ id, type, version: 1, params })),
    edges: edges.map(([a, ap, b, bp], i) => ({ id: `e${i}`, from: { node: a, port: ap }, to: { node: b, port: bp } })),
  };
}

test('peak tracking sees tensors alive only inside a step', async () => {
  await initBackend();
  const before = tf.memory().numBytes;
  const t = trackPeakTensorBytes(tf);
  tf.tidy(() => {
    const a = tf.ones([1000]);
    const b = tf.ones([1000]);
    return a.add(b).sum();
  }).dispose();
  expect(t.peak() - before).toBeGreaterThanOrEqual(3 * 4000);
  t.stop();
  expect(tf.memory().numBytes).toBe(before);
  const x = tf.ones([10]);
  expect(tf.memory().numBytes).toBe(before + 40);
  x.dispose();
});

test('multiple choice, memory metrics, sparse alignment, w/o recovery', async () => {
  const s = await engine.run(recipe(), { baseDir: root });
  if (!s.ok) throw new Error(JSON.stringify(s.errors));
  const end = await engine.wait(s.runId);
  if (end.type !== 'run-finished') throw new Error('cancelled');
  const bad = Object.entries(end.nodes).filter(([, n]) => n.status !== 'done' && n.status !== 'cached');
  expect(bad.map(([id, n]) => `${id}: ${n.error?.message}`)).toEqual([]);

  // Evaluate with the multiple-choice set.
  for (const id of ['norec', 'eval_full']) {
    const m = end.nodes[id]!.metrics!;
    expect(m.items).toBe(end.nodes.choices!.metrics!.testItems);
    expect(m.items as number).toBeGreaterThan(0);
    expect(m.accuracy as number).toBeGreaterThanOrEqual(0);
    expect(m.accuracy as number).toBeLessThanOrEqual(1);
    expect(typeof m.accuracyNorm).toBe('number');
  }
  expect(end.nodes.choices!.metrics).toMatchObject({ choices: 4, chance: 0.25, testItems: expect.any(Number) });

  // Memory: planned (the ORT planner on the trained config) next to measured, each with the runtime it is for.
  const mem = (id: string) => end.nodes[id]!.metrics!;
  for (const id of ['train', 'train_q', 'train_full', 'train_full_tfjs', 'train_full_ckpt']) {
    expect(mem(id).plannedMemoryRuntime).toBe('onnxruntime-cpu');
    expect(mem(id).plannedMemoryBytes as number).toBeGreaterThan(mem(id).plannedRuntimeBytes as number);
    // The parts add up to the whole.
    const parts = ['plannedWeightsBytes', 'plannedActivationsBytes', 'plannedOptimizerBytes', 'plannedRuntimeBytes'].reduce((a, k) => a + (mem(id)[k] as number), 0);
    expect(parts).toBe(mem(id).plannedMemoryBytes);
  }
  // ONNX Runtime: measured by a fresh process replaying the run's graph, so the gap is recorded; the real graph's
  // live bytes are the planner's session term (weights + fed + activations) exactly.
  for (const id of ['train', 'train_q', 'train_full']) {
    const m = mem(id);
    expect(m.measuredMemoryRuntime).toBe('onnxruntime-cpu');
    expect(m.plannedWeightsBytes as number + (m.plannedActivationsBytes as number)).toBe(m.graphPeakBytes);
    expect(m.trainMemoryBytes as number).toBeGreaterThan(m.graphPeakBytes as number);
    expect(m.memoryGapPct).toBeCloseTo((((m.plannedMemoryBytes as number) - (m.trainMemoryBytes as number)) / (m.trainMemoryBytes as number)) * 100, 1);
    expect(m.peakRssBytes as number).toBeGreaterThan((m.baseParams as number) * 4);
  }
  // TensorFlow.js counts its tensors: another runtime, so no gap.
  for (const id of ['train_full_tfjs', 'train_full_ckpt']) expect(mem(id)).toMatchObject({ measuredMemoryRuntime: 'tfjs', memoryGapPct: null, trainMemoryBytes: (mem(id).peakTensorBytes as number) + (mem(id).nf4HostBytes as number) });
  // Structured pruning + NF4 stores less than LoRA on the full model. (Its total is not less at this toy scale: the
  // NF4 dequantization nodes cost the runtime more than the weights they save.)
  expect(mem('train_q').plannedWeightsBytes as number).toBeLessThan(mem('train_full').plannedWeightsBytes as number);
  expect(mem('train_q').nf4HostBytes as number).toBeGreaterThan(0);
  expect(mem('train_full').nf4HostBytes).toBe(0);
  // Engines: ONNX Runtime by default, TensorFlow.js when asked.
  expect(mem('train_full')).toMatchObject({ trainBackend: 'ort', trainEngine: expect.stringMatching(/onnxruntime-node .*ExecutionProvider/) });
  expect(mem('train_full_tfjs')).toMatchObject({ trainBackend: 'tfjs', trainEngine: expect.stringMatching(/TensorFlow\.js/) });
  // The same data, seed and initialisation on both engines: the same final loss.
  expect(Math.abs((mem('train_full').finalLoss as number) - (mem('train_full_tfjs').finalLoss as number))).toBeLessThan(1e-3 * (mem('train_full_tfjs').finalLoss as number));
  // Gradient checkpointing (on tfjs, which counts tensor bytes exactly): less measured and less planned activation memory.
  expect(mem('train_full_ckpt').peakTensorBytes as number).toBeLessThan(mem('train_full_tfjs').peakTensorBytes as number);
  expect(mem('train_full_ckpt').plannedActivationsBytes as number).toBeLessThan(mem('train_full').plannedActivationsBytes as number);
  expect(Number.isFinite(mem('train_full_ckpt').finalLoss as number)).toBe(true);
  // Semi/unst: the planner counts the stored (dense) weights, like the full model.
  expect(mem('train').plannedWeightsBytes).toBe(mem('train_full').plannedWeightsBytes);

  // The aligned semi model keeps 2:4 sparsity: in every group of 4 input weights at least 2 are zero.
  const aligned = end.nodes.align!.outputs!.model as { location: { kind: 'store'; artifact: string; path: string } };
  const dir = path.join(root, 'home', 'artifacts', aligned.location.artifact, aligned.location.path);
  const { weights } = await loadModelDir(dir);
  const w = weights.get('model.layers.1.mlp.up_proj.weight')!;
  let groups = 0;
  let ok = 0;
  for (let i = 0; i < w.data.length; i += 4) {
    groups++;
    if ([0, 1, 2, 3].filter((k) => w.data[i + k] === 0).length >= 2) ok++;
  }
  expect(ok).toBe(groups);
  const logs = readFileSync(path.join(root, 'home', 'runs', s.runId, 'events.jsonl'), 'utf8');
  expect(logs).toMatch(/kept the 2:4 sparsity/);
}, 300_000);
