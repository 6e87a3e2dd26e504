/**
 * LoRAM training memory: measured next to the planner's prediction, per strategy, on one base model.
 *   npx tsx bench/loram-memory/run.ts [--model builtin:large | builtin:small] [--steps N] [--quick]
 *
 * For each case the base is pruned (and quantized) with the library, LoRA (r 8, all 7 projections + lm_head) is
 * attached, and a few AdamW steps run on batch 4 × 128. Reported:
 * - stored parameters / bytes: what the frozen base holds (tfjs fp32 tensors, plus NF4 host bytes when quantized),
 *   next to the planner's stored parameter count (semi/unst keep zeros densely, as the paper's code does);
 * - peak tensor bytes during training (base, LoRA, AdamW states, activations, gradients), exact, not sampled;
 * - the planner's total (bf16 base and activations, eager attention, as in the LoRA-Train node) and the ratio;
 * - median step time and tokens/s after the first step;
 * - the same with activation checkpointing (`gradientCheckpointing`): measured peak, planned, step time.
 * Weights are the built-in model's when it exists, else random of the same shape (memory and speed do not depend
 * on the values; the pruning masks do, but not their sizes).
 */
import fs from 'node:fs';
import path from 'node:path';
import { initBackend, describeBackend } from '../../src/loram/backend/backend';
import { tf } from '../../src/loram/backend/tf';
import { BUILTIN_MODELS, modelsDir } from '../../src/loram/model/builtin';
import type { BuiltinName } from '../../src/loram/model/builtin';
import type { LlamaConfig } from '../../src/loram/model/config';
import { countParams, LORA_TARGETS } from '../../src/loram/model/config';
import { LlamaModel, randomWeights } from '../../src/loram/model/llama';
import type { LmBatch } from '../../src/loram/model/loss';
import { loadModelDir } from '../../src/loram/io/model-dir';
import { defaultLayerRange, planMemory } from '../../src/loram/memory/planner';
import type { MemoryPlanInput, PruneStrategy } from '../../src/loram/memory/planner';
import { needsCalibration, resolveImportance, strategyOf } from '../../src/loram/prune/strategy-rules';
import { quantizeModel } from '../../src/loram/quant/nf4-linear';
import { attachLora, trainLora } from '../../src/loram/lora/index';
import type { LoraHandle } from '../../src/loram/lora/index';
import { trackPeakTensorBytes } from '../../src/loram/util/peak-bytes';
import type { WeightMap } from '../../src/loram/util/tensor';
import { Rng } from '../../src/loram/util/rng';
import { printTable, writeResults } from '../common';

const args = process.argv.slice(2);
const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = args.includes('--quick');
const member = (arg('--model') ?? 'builtin:large').replace(/^builtin:/, '') as BuiltinName;
if (!(member in BUILTIN_MODELS)) throw new Error(`--model: expected builtin:large or builtin:small, got ${arg('--model')}`);
const STEPS = Number(arg('--steps') ?? (quick ? 2 : 4));
const BATCH = 4;
const SEQ = 128;
const RANK = 8;

interface Case {
  name: string;
  strategy: PruneStrategy;
  ratio: number;
  quant: boolean;
}
const ratios = quick ? [0.5, 0.85] : [0.5, 0.65, 0.85];
const CASES: Case[] = [
  { name: 'LoRA (full model)', strategy: 'none', ratio: 0, quant: false },
  ...ratios.flatMap((p) => [
    { name: `LoRAM-Rand p=${p}`, strategy: 'rand' as const, ratio: p, quant: false },
    { name: `LoRAM-Stru p=${p}`, strategy: 'stru' as const, ratio: p, quant: false },
  ]),
  { name: 'LoRAM-Semi 2:4', strategy: 'semi', ratio: 0.5, quant: false },
  { name: 'LoRAM-Unst p=0.85', strategy: 'unst', ratio: 0.85, quant: false },
  { name: 'QLoRAM-Stru p=0.85', strategy: 'stru', ratio: 0.85, quant: true },
];

async function baseModel(): Promise<{ config: LlamaConfig; weights: WeightMap; source: string }> {
  const dir = path.join(modelsDir(), BUILTIN_MODELS[member].dir);
  if (fs.existsSync(path.join(dir, 'config.json'))) {
    const { config, weights } = await loadModelDir(dir);
    return { config, weights, source: `builtin:${member} (trained weights)` };
  }
  const config = BUILTIN_MODELS[member].config(2048, { bos: 1, eos: 2, pad: 0 });
  return { config, weights: randomWeights(config, 7), source: `builtin:${member} shape, random weights (models/ not built)` };
}

/** Seeded token batches; memory and speed depend only on the shapes. */
function batches(count: number, vocab: number, seed: number): LmBatch[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const ids = Int32Array.from({ length: BATCH * SEQ }, () => rng.int(vocab));
    const labels = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) labels[i] = (i + 1) % SEQ === 0 ? -100 : ids[i + 1]!;
    return { inputIds: ids, labels, batch: BATCH, seqLen: SEQ };
  });
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(2);

/**
 * STEPS LoRA steps on the training batches: the exact peak of live tensor bytes above `before`, each step's wall
 * time, and their median after the first (warm-up) step.
 */
async function measuredTraining(model: LlamaModel, lora: LoraHandle, gradientCheckpointing: boolean, before: number) {
  const stepMs: number[] = [];
  let last = performance.now();
  const tracker = trackPeakTensorBytes(tf);
  try {
    await trainLora(model, lora, {
      batches: train,
      steps: STEPS,
      lr: 1e-3,
      gradientCheckpointing,
      onStep: () => {
        const now = performance.now();
        stepMs.push(now - last);
        last = now;
      },
    });
    const steady = stepMs.slice(1).sort((a, b) => a - b);
    return { peakBytes: tracker.peak() - before, stepMs, medianMs: steady.length ? steady[Math.floor(steady.length / 2)]! : stepMs[0]! };
  } finally {
    tracker.stop();
  }
}

const backendLine = describeBackend(await initBackend());
const base = await baseModel();
const calibration = batches(4, base.config.vocabSize, 11);
const train = batches(STEPS, base.config.vocabSize, 12);
console.log(`base: ${base.source}, ${countParams(base.config).toLocaleString('en-US')} parameters; backend ${tf.getBackend()}; ${STEPS} steps of ${BATCH} × ${SEQ}`);

const rows: Record<string, string | number>[] = [];
const results: unknown[] = [];
for (const c of CASES) {
  const t0 = performance.now();
  let config = base.config;
  let weights = base.weights;
  let layerRange: [number, number] | undefined;
  if (c.strategy !== 'none') {
    // Each strategy with its default importance and layer range, as the Prune node runs it.
    layerRange = defaultLayerRange(c.strategy, config.numLayers);
    const importance = resolveImportance(c.strategy, 'auto');
    ({ config, weights } = await strategyOf(c.strategy).prune(config, weights, { ratio: c.ratio, importance, layerRange, seed: 0, ...(needsCalibration(importance) ? { calibration } : {}) }));
  }
  const pruneSeconds = (performance.now() - t0) / 1000;

  const before = tf.memory().numBytes;
  const model = LlamaModel.fromWeights(config, weights, { trainable: false });
  let nf4Bytes = 0;
  if (c.quant) nf4Bytes = quantizeModel(model, { blockSize: 64, doubleQuant: true }).bytes;
  const baseTensorBytes = tf.memory().numBytes - before;
  const lora = attachLora(model, { r: RANK, alpha: 16, dropout: 0.05, targetModules: [...LORA_TARGETS], layers: null, seed: 42 });
  const plain = await measuredTraining(model, lora, false, before);
  // The same training with activation checkpointing (each decoder layer recomputed in the backward pass).
  const ckpt = await measuredTraining(model, lora, true, before);
  const peakTrainBytes = plain.peakBytes + nf4Bytes;
  const peakCkptBytes = ckpt.peakBytes + nf4Bytes;
  const loraParams = lora.numParams();
  lora.detach();
  model.dispose();

  const planInput: MemoryPlanInput = {
    model: base.config,
    strategy: c.strategy,
    ratio: c.ratio,
    ...(layerRange ? { layerRange } : {}),
    quant: c.quant ? 'nf4' : 'none',
    lora: { rank: RANK, targets: [...LORA_TARGETS], dropout: 0.05 },
    batch: BATCH,
    seqLen: SEQ,
    attention: 'eager',
  };
  const plan = planMemory(planInput);
  const planCkpt = planMemory({ ...planInput, gradientCheckpointing: true });
  const storedParams = countParams(config);
  const medianMs = plain.medianMs;
  const medianCkMs = ckpt.medianMs;
  const row = {
    case: c.name,
    'stored params': storedParams.toLocaleString('en-US'),
    'planned stored': plan.storedParams.toLocaleString('en-US'),
    'non-zero (plan)': plan.prunedParams.toLocaleString('en-US'),
    'base MiB (fp32 + NF4)': MiB(baseTensorBytes + nf4Bytes),
    'planned base MiB (bf16/NF4)': MiB(plan.bytes.baseWeights),
    'LoRA params': loraParams.toLocaleString('en-US'),
    'peak train MiB': MiB(peakTrainBytes),
    'planned total MiB': MiB(plan.bytes.total),
    'measured / planned': (peakTrainBytes / plan.bytes.total).toFixed(2),
    'step ms': medianMs.toFixed(0),
    'tok/s': Math.round((BATCH * SEQ * 1000) / medianMs),
    'ckpt: peak MiB': MiB(peakCkptBytes),
    'ckpt: planned MiB': MiB(planCkpt.bytes.total),
    'ckpt: step ms': medianCkMs.toFixed(0),
  };
  rows.push(row);
  results.push({
    ...c,
    layerRange: layerRange ?? null,
    pruneSeconds,
    storedParams,
    planned: { storedParams: plan.storedParams, prunedParams: plan.prunedParams, reduction: plan.reduction, baseWeightBytes: plan.bytes.baseWeights, totalBytes: plan.bytes.total, loraParams: plan.lora.params },
    measured: { baseTensorBytes, nf4HostBytes: nf4Bytes, peakTrainBytes, loraParams, stepMs: plain.stepMs, medianStepMs: medianMs, tokensPerSec: (BATCH * SEQ * 1000) / medianMs },
    checkpointed: { peakTrainBytes: peakCkptBytes, plannedTotalBytes: planCkpt.bytes.total, stepMs: ckpt.stepMs, medianStepMs: medianCkMs },
  });
  console.log(JSON.stringify(row));
}
console.log();
printTable(rows);
console.log(
  '\nmeasured: tfjs keeps the base in fp32 (4 bytes/parameter) and every forward intermediate of the step alive for the backward pass;' +
    '\nplanned: the paper\'s bf16 accounting (2 bytes/parameter, bf16 activations). The ordering of the cases is what must agree.',
);
writeResults('loram-memory', { base: base.source, backend: backendLine, batch: BATCH, seqLen: SEQ, rank: RANK, steps: STEPS, cases: results });
