/** LoRA-Train: LoRAM stage 2 (loram-method.md §4), LoRA on the (pruned, aligned, quantized) frozen base. */
import path from 'node:path';
import { z } from 'zod';
import { LORA_TARGETS, type LlamaConfig } from '../loram/model/config';
import type { ModelLineage } from '../shared';
import { readDocuments, tokenWindows, writeMetricsFile } from './data-files';
import { defineNode } from './definition';
import { NodeInputError } from './errors';
import { requireInput } from './inputs';
import { describeModel, quantizeOf, staticModel } from './lineage';
import type { NodeContext } from './definition';
import { ensureBackend, loadModelTokenizer, loadModelWeights } from './model-files';
import { optimiserFields, optimiserSettings } from './training-params';
import { ortTrainOptions, resolveTrainBackend } from './train-backend';
import { curveBefore, nodeCheckpoints, skipDraws } from './train-checkpoints';
import { trackPeakTensorBytes } from '../loram/util/peak-bytes';
import type { PeakTracker } from '../loram/util/peak-bytes';
import type { LmBatch } from '../loram/model/loss';
import type { LoraAdapter } from '../loram/lora/adapter';
import type { StepInfo, TrainResult } from '../loram/train/trainer';

export const loraTrainParams = z.strictObject({
  rank: z.number().int().min(1).max(1024).default(8).describe('LoRA rank r'),
  alpha: z.number().positive().max(4096).default(16).describe('LoRA alpha (the update is scaled by alpha / r)'),
  dropout: z.number().min(0).max(0.9).default(0.05).describe('Dropout on the LoRA input'),
  targets: z
    .array(z.enum(LORA_TARGETS))
    .min(1)
    .default([...LORA_TARGETS])
    .refine((t) => new Set(t).size === t.length, { message: 'lists a module twice' })
    .describe('Modules that get an adapter (the paper: all seven projections and lm_head)'),
  ...optimiserFields({ default: 1e-3, doc: 'Peak learning rate' }),
  evalEvery: z.number().int().min(0).default(0).describe('Validation loss every N steps (0 = only at the end)'),
  seed: z.number().int().min(0).default(0).describe('Seed for LoRA init, dropout and data order'),
});

export const loraTrainNode = defineNode({
  type: 'LoRA-Train',
  // v2: gradientCheckpointing (default off) and measured/planned training memory in the metrics; results cached
  // by v1 are not reused.
  version: 2,
  migrations: { 1: (p) => p },
  title: 'LoRA train',
  category: 'loram',
  doc: 'LoRAM stage 2: train a LoRA adapter on a frozen (pruned, aligned or quantized) model; saves a PEFT adapter.',
  inputs: [
    { name: 'model', type: 'model', title: 'Base model' },
    { name: 'dataset', type: 'dataset', title: 'Training text' },
  ],
  outputs: [
    { name: 'adapter', type: 'adapter', title: 'Adapter' },
    { name: 'metrics', type: 'metrics', title: 'Training metrics', doc: 'Loss curve, time, memory' },
  ],
  params: loraTrainParams,
  staticOutputs(inputs) {
    const m = staticModel(inputs, 'model');
    return m ? { adapter: { type: 'adapter', base: m, recovered: false }, metrics: { type: 'metrics' } } : { metrics: { type: 'metrics' } };
  },
  async run(ctx, inputs, p) {
    const m = requireInput(inputs, 'model', 'model');
    const ds = requireInput(inputs, 'dataset', 'dataset');
    ctx.log('tokenizing the training text');
    const data = await loraData(ctx, m, ds, p);
    const engine = resolveTrainBackend(p.backend);
    const trained = engine === 'ort' ? await trainOnOrt(ctx, m, data, p) : await trainOnTfjs(ctx, m, data, p);
    const memory = await trainingMemory(ctx, engine, trained, m.lineage, p);
    await (await import('../loram/lora/index')).saveAdapter(path.join(ctx.outDir, 'adapter'), trained.adapter);
    const { result, valLoss } = trained;
    const scalars = {
      finalLoss: result.finalLoss,
      valLoss,
      valPerplexity: valLoss === null ? null : Math.exp(valLoss),
      trainSeconds: result.elapsedMs / 1000,
      tokensPerSec: Math.round(result.tokensPerSec),
      loraParams: trained.loraParams,
      baseParams: m.summary.params,
      ...memory,
      steps: result.steps,
      trainBackend: engine,
      trainEngine: trained.engineDetail,
      ...(data.sft ? { sftExamples: data.sft.examples, sftTruncated: data.sft.truncated, sftDropped: data.sft.dropped, sftTargetTokens: data.sft.targetTokens } : {}),
      ...(data.sft?.packedRows !== undefined ? { sftPackedRows: data.sft.packedRows } : {}),
    };
    const location = await writeMetricsFile(ctx, 'metrics.json', {
      label: '',
      scalars,
      curves: { loss: { ...trained.curve, xLabel: 'step', yLabel: 'train loss' }, ...(trained.valCurve.x.length ? { valLoss: { ...trained.valCurve, xLabel: 'step', yLabel: 'val loss' } } : {}) },
    });
    return {
      outputs: {
        adapter: { type: 'adapter', location: ctx.output('adapter'), rank: p.rank, alpha: p.alpha, targets: [...p.targets], base: m.lineage, recovered: false },
        metrics: { type: 'metrics', location, label: '', summary: scalars },
      },
      metrics: scalars,
    };
  },
});

type LoraParams = z.output<typeof loraTrainParams>;
type ModelInput = ReturnType<typeof requireInput<'model'>>;
type Curve = { x: number[]; y: number[] };

/** Training data as both engines take it: batches by row index, and the validation batches. */
interface LoraData {
  trainCount: number;
  trainBatch(rows: readonly number[]): LmBatch;
  val: LmBatch[];
  /** Supervised fine-tuning on instruction data: what was trained on, truncation counted (and packed rows). */
  sft?: { examples: number; truncated: number; dropped: number; targetTokens: number; packedRows?: number };
  /** Packed rows: the batches carry segment ids, the ONNX Runtime graph is built to read them. */
  packed?: boolean;
}

interface Trained {
  config: LlamaConfig;
  result: TrainResult;
  adapter: LoraAdapter;
  valLoss: number | null;
  loraParams: number;
  curve: Curve;
  valCurve: Curve;
  /** What the engine itself reports about memory, in the metrics' keys (what each includes is said in its comment). */
  memory: Record<string, number>;
  /** The tfjs engine's own measured figure (its tensor counter); ONNX Runtime's is measured by a probe afterwards. */
  measuredBytes?: number;
  engineDetail: string;
}

async function loraData(ctx: NodeContext, m: ModelInput, ds: ReturnType<typeof requireInput<'dataset'>>, p: LoraParams): Promise<LoraData> {
  if (ds.format === 'instruction') return sftData(ctx, m, ds, p);
  const { windowsBatch } = await import('../loram/data/lm-data');
  const tok = await loadModelTokenizer(ctx, m);
  const train = await tokenWindows(tok, await readDocuments(ctx, ds, 'train'), p.seqLen);
  if (train.length < p.batchSize) throw new NodeInputError(`the training split of ${ds.source} has ${train.length} sequences of ${p.seqLen} tokens; need at least batchSize = ${p.batchSize}`);
  const val = (await tokenWindows(tok, await readDocuments(ctx, ds, 'val'), p.seqLen)).slice(0, 64);
  return { trainCount: train.length, trainBatch: (rows) => windowsBatch(rows.map((i) => train[i]!), p.seqLen), val: batchesOf(val, p.batchSize, p.seqLen, windowsBatch) };
}

/**
 * Instruction data: one right-padded row per example, or with the dataset's `packing` several examples per row
 * (attention kept within each: the engines get segment ids); the loss on completions / assistant replies only.
 */
async function sftData(ctx: NodeContext, m: ModelInput, ds: ReturnType<typeof requireInput<'dataset'>>, p: LoraParams): Promise<LoraData> {
  const { modelTemplate, sftSplit } = await import('./instruct-data');
  const { sftBatch } = await import('../loram/data/sft');
  const tok = await loadModelTokenizer(ctx, m);
  const t = await modelTemplate(ctx, m, tok);
  const pack = ds.packing === true;
  const train = await sftSplit(ctx, ds, 'train', tok, t, p.seqLen, pack);
  const val = await sftSplit(ctx, ds, 'val', tok, t, p.seqLen, pack);
  const examples = train.examples;
  const unit = pack ? `packed rows (${examples} examples)` : 'examples';
  if (train.rows.length < p.batchSize) throw new NodeInputError(`the training split of ${ds.source} has ${train.rows.length} ${unit} with completion tokens within seqLen = ${p.seqLen}; need at least batchSize = ${p.batchSize}`);
  ctx.log(`supervised fine-tuning on ${examples} examples${pack ? `, packed into ${train.rows.length} rows of ${p.seqLen} positions (attention within each example)` : ''} (${t.template.source} chat template), loss on ${train.targetTokens} completion tokens; ${train.truncated} truncated to seqLen ${p.seqLen + 1} tokens, ${train.dropped} dropped (no completion token left)`);
  if (train.truncated) ctx.log(`${train.truncated} of ${examples + train.dropped} training examples were longer than seqLen + 1 = ${p.seqLen + 1} tokens and were cut`, 'warn');
  const valRows = val.rows.slice(0, 64);
  const valBatches: LmBatch[] = [];
  for (let i = 0; i < valRows.length; i += p.batchSize) valBatches.push(sftBatch(valRows.slice(i, i + p.batchSize), p.seqLen));
  return {
    trainCount: train.rows.length,
    trainBatch: (rows) => sftBatch(rows.map((i) => train.rows[i]!), p.seqLen),
    val: valBatches,
    packed: pack,
    sft: { truncated: train.truncated, dropped: train.dropped, examples, targetTokens: train.targetTokens, ...(pack ? { packedRows: train.rows.length } : {}) },
  };
}

/** The step callback both engines share: curve, optional validation loss, progress (the cancellation point). */
function stepReporter(ctx: NodeContext, p: LoraParams, valLossNow: (() => Promise<number>) | null, curve: Curve, valCurve: Curve) {
  return async (info: StepInfo) => {
    curve.x.push(info.step);
    curve.y.push(info.loss);
    const metrics: Record<string, number> = { loss: info.loss, lr: info.lr, tokensPerSec: Math.round(info.tokensPerSec) };
    if (p.evalEvery > 0 && info.step % p.evalEvery === 0 && valLossNow) {
      metrics.valLoss = await valLossNow();
      valCurve.x.push(info.step);
      valCurve.y.push(metrics.valLoss);
    }
    await ctx.progress(info.step, info.totalSteps, metrics);
  };
}

function loraSpec(p: LoraParams) {
  return { r: p.rank, alpha: p.alpha, dropout: p.dropout, targetModules: p.targets, seed: p.seed };
}

/** ONNX Runtime: the frozen base lives in the session (NF4 stays 4-bit); its memory is measured afterwards (train-memory.ts). */
async function trainOnOrt(ctx: NodeContext, m: ModelInput, data: LoraData, p: LoraParams): Promise<Trained> {
  const { OrtLoraRun } = await import('../loram/ort-train/trainer');
  const { basesFor } = await import('../loram/ort-train/base-linears');
  const { WindowSampler } = await import('../loram/data/lm-data');
  const { lmTrainConfig } = await import('../loram/train/lm-objective');
  const { LORA_TRAIN_DEFAULTS } = await import('../loram/lora/train');
  const { trackPeakRss } = await import('../loram/util/peak-rss');
  const rss = trackPeakRss();
  try {
    const q = quantizeOf(m.lineage);
    const bases = basesFor(q ? { blockSize: q.blockSize, doubleQuant: q.doubleQuant } : null);
    ctx.log('compiling the training graph for ONNX Runtime');
    // The host weights are only needed to build the session (which keeps its own copy): not referenced after.
    const { config, run } = await loadModelWeights(ctx, m).then(async ({ config, weights }) => ({
      config,
      run: await OrtLoraRun.start({ config, weights, bases }, loraSpec(p), { batch: p.batchSize, seqLen: p.seqLen, checkpoint: p.gradientCheckpointing, segments: data.packed === true }, ortTrainOptions()),
    }));
    try {
      const engineDetail = run.engine;
      ctx.log(`training ${run.numParams().toLocaleString('en-US')} LoRA parameters on ${describeModel(m.lineage)} (${data.trainCount} ${data.sft ? (data.packed ? 'packed rows' : 'examples') : 'sequences'}) with ${engineDetail}${bases.summary ? `; ${bases.summary}` : ''}`);
      const trainConfig = lmTrainConfig(p.steps, { ...optimiserSettings(p), seed: p.seed }, LORA_TRAIN_DEFAULTS);
      const ckpt = await nodeCheckpoints(ctx, p.steps);
      const sampler = new WindowSampler(data.trainCount, p.seed);
      skipDraws(sampler, ckpt.resume, trainConfig.gradAccum, p.batchSize);
      const valBatches = data.val;
      const curve: Curve = curveBefore(ckpt.resume);
      const valCurve: Curve = { x: [], y: [] };
      const result = await run.train({
        batches: () => data.trainBatch(sampler.next(p.batchSize)),
        config: trainConfig,
        signal: ctx.signal,
        onStep: stepReporter(ctx, p, valBatches.length ? () => run.evalLoss(valBatches) : null, curve, valCurve),
        resume: ckpt.resume,
        checkpoint: ckpt.policy,
      });
      await ckpt.finished();
      const peakRss = rss.stop();
      const valLoss = valBatches.length ? await run.evalLoss(valBatches) : null;
      const memory = {
        // The training graph's peak of live bytes (stored base, activations kept for the backward pass, gradients
        // on their way out; ort-train/live-bytes.ts): the planner's session term, counted on the real graph.
        graphPeakBytes: run.session.memory.peakBytes,
        // The engine process's peak resident size: every node the process ran, and what it kept, is in it.
        peakRssBytes: peakRss,
        nf4HostBytes: bases.storedBytes,
      };
      return { config, result, adapter: run.adapter(describeModel(m.lineage)), valLoss, loraParams: run.numParams(), curve, valCurve, memory, engineDetail };
    } finally {
      await run.release();
    }
  } finally {
    rss.stop();
  }
}

function batchesOf(windows: readonly Int32Array[], size: number, seqLen: number, make: (w: readonly Int32Array[], seqLen: number) => LmBatch): LmBatch[] {
  const out: LmBatch[] = [];
  for (let i = 0; i < windows.length; i += size) out.push(make(windows.slice(i, i + size), seqLen));
  return out;
}

/** TensorFlow.js, the reference engine: memory is the exact peak of live tensor bytes plus the NF4 host arrays. */
async function trainOnTfjs(ctx: NodeContext, m: ModelInput, data: LoraData, p: LoraParams): Promise<Trained> {
  const backend = await ensureBackend(ctx);
  const { tf } = await import('../loram/backend/tf');
  const { LlamaModel } = await import('../loram/model/llama');
  const { attachLora, trainLora } = await import('../loram/lora/index');
  const { lmTrainConfig } = await import('../loram/train/lm-objective');
  const { LORA_TRAIN_DEFAULTS } = await import('../loram/lora/train');
  const { WindowSampler, evalBatchesLoss } = await import('../loram/data/lm-data');
  const { quantizeModel } = await import('../loram/quant/nf4-linear');
  const { config, weights } = await loadModelWeights(ctx, m);
  const bytesBeforeModel = tf.memory().numBytes;
  const model = LlamaModel.fromWeights(config, weights, { trainable: false });
  let tracker: PeakTracker | null = null;
  try {
    const q = quantizeOf(m.lineage);
    // NF4 codes and absmax live in host arrays, not tfjs tensors: counted separately, added to the measured memory.
    let nf4HostBytes = 0;
    if (q) {
      const s = quantizeModel(model, { blockSize: q.blockSize, doubleQuant: q.doubleQuant });
      nf4HostBytes = s.bytes;
      ctx.log(`NF4 base: ${s.linears} linears, ${((s.bytes * 8) / s.params).toFixed(3)} bits per weight`);
    }
    const lora = attachLora(model, loraSpec(p));
    const ckpt = await nodeCheckpoints(ctx, p.steps);
    const sampler = new WindowSampler(data.trainCount, p.seed);
    skipDraws(sampler, ckpt.resume, lmTrainConfig(p.steps, optimiserSettings(p), LORA_TRAIN_DEFAULTS).gradAccum, p.batchSize);
    const curve: Curve = curveBefore(ckpt.resume);
    const valCurve: Curve = { x: [], y: [] };
    tracker = trackPeakTensorBytes(tf);
    ctx.log(`training ${lora.numParams().toLocaleString('en-US')} LoRA parameters on ${describeModel(m.lineage)} (${data.trainCount} ${data.sft ? (data.packed ? 'packed rows' : 'examples') : 'sequences'}) with TensorFlow.js ${backend}`);
    const valLossNow = data.val.length ? async () => evalBatchesLoss(model, data.val).loss : null;
    const result = await trainLora(model, lora, {
      batches: () => data.trainBatch(sampler.next(p.batchSize)),
      ...optimiserSettings(p),
      seed: p.seed,
      signal: ctx.signal,
      onStep: stepReporter(ctx, p, valLossNow, curve, valCurve),
      resume: ckpt.resume,
      checkpoint: ckpt.policy,
    });
    await ckpt.finished();
    const peakTensorBytes = tracker.peak() - bytesBeforeModel;
    tracker.stop();
    tracker = null;
    const valLoss = data.val.length ? evalBatchesLoss(model, data.val).loss : null;
    const adapter = lora.export(describeModel(m.lineage));
    lora.detach();
    // Measured: the peak of live tfjs tensor bytes during training (base weights, LoRA, AdamW states, activations and
    // gradients; fp32), above what was allocated before the model was loaded, plus NF4 host bytes.
    const memory = { peakTensorBytes, nf4HostBytes };
    return { config, result, adapter, valLoss, loraParams: lora.numParams(), curve, valCurve, memory, measuredBytes: peakTensorBytes + nf4HostBytes, engineDetail: `TensorFlow.js ${backend}` };
  } finally {
    tracker?.stop();
    model.dispose();
  }
}

/**
 * Planned and measured training memory for ONNX Runtime on the CPU provider (train-memory.ts); a tfjs run's own
 * figure is its tensor counter, recorded next to the ORT plan as a different runtime (no gap computed).
 */
async function trainingMemory(ctx: NodeContext, engine: 'ort' | 'tfjs', trained: Trained, lineage: ModelLineage, p: LoraParams) {
  const { plannedTrainingMemory, measuredTrainingMemory, memoryMetrics } = await import('./train-memory');
  const settings = { ...p, config: trained.config, lineage, threads: ortTrainOptions().threads ?? 1 };
  const plan = await plannedTrainingMemory(settings);
  if (engine === 'tfjs') return { ...trained.memory, ...memoryMetrics(plan, { bytes: trained.measuredBytes ?? null, runtime: 'tfjs' }) };
  return { ...trained.memory, ...memoryMetrics(plan, { bytes: await measuredTrainingMemory(ctx, settings, plan.bytes.total), runtime: 'onnxruntime-cpu' }) };
}
