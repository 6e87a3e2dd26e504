/** LoRA-Train: LoRAM stage 2 (loram-method.md §4), LoRA on the (pruned, aligned, quantized) frozen base. */
import path from 'node:path';
import { z } from 'zod';
import { LORA_TARGETS, type LlamaConfig } from '../loram/model/config';
import type { ModelLineage } from '../shared';
import { readDocuments, tokenWindows, writeMetricsFile } from './data-files';
import { defineNode } from './definition';
import { NodeInputError } from './errors';
import { requireInput } from './inputs';
import { describeModel, pruneOf, quantizeOf, staticModel } from './lineage';
import { ensureBackend, loadModelTokenizer, loadModelWeights } from './model-files';
import { optimiserFields, optimiserSettings } from './training-params';
import { trackPeakTensorBytes } from '../loram/util/peak-bytes';
import type { PeakTracker } from '../loram/util/peak-bytes';
import type { PruneStrategy } from '../loram/memory/planner';

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
    const backend = await ensureBackend(ctx);
    const { tf } = await import('../loram/backend/tf');
    const { LlamaModel } = await import('../loram/model/llama');
    const { attachLora, trainLora, saveAdapter } = await import('../loram/lora/index');
    const { WindowSampler, windowsBatch, evalLoss } = await import('../loram/data/lm-data');
    const { quantizeModel } = await import('../loram/quant/nf4-linear');

    const tok = await loadModelTokenizer(ctx, m);
    const train = await tokenWindows(tok, await readDocuments(ctx, ds, 'train'), p.seqLen);
    if (train.length < p.batchSize) throw new NodeInputError(`the training split of ${ds.source} has ${train.length} sequences of ${p.seqLen} tokens; need at least batchSize = ${p.batchSize}`);
    const val = (await tokenWindows(tok, await readDocuments(ctx, ds, 'val'), p.seqLen)).slice(0, 64);

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
      const lora = attachLora(model, { r: p.rank, alpha: p.alpha, dropout: p.dropout, targetModules: p.targets, seed: p.seed });
      const sampler = new WindowSampler(train.length, p.seed);
      const batches = () => windowsBatch(sampler.next(p.batchSize).map((i) => train[i]!), p.seqLen);
      const curve: { x: number[]; y: number[] } = { x: [], y: [] };
      const valCurve: { x: number[]; y: number[] } = { x: [], y: [] };
      tracker = trackPeakTensorBytes(tf);
      ctx.log(`training ${lora.numParams().toLocaleString('en-US')} LoRA parameters on ${describeModel(m.lineage)} (${train.length} sequences, backend ${backend})`);
      const result = await trainLora(model, lora, {
        batches,
        ...optimiserSettings(p),
        seed: p.seed,
        signal: ctx.signal,
        onStep: async (info) => {
          curve.x.push(info.step);
          curve.y.push(info.loss);
          const metrics: Record<string, number> = { loss: info.loss, lr: info.lr, tokensPerSec: Math.round(info.tokensPerSec) };
          if (p.evalEvery > 0 && info.step % p.evalEvery === 0 && val.length) {
            metrics.valLoss = evalLoss(model, val, p.seqLen).loss;
            valCurve.x.push(info.step);
            valCurve.y.push(metrics.valLoss);
          }
          await ctx.progress(info.step, info.totalSteps, metrics);
        },
      });
      const peakTensorBytes = tracker.peak() - bytesBeforeModel;
      tracker.stop();
      tracker = null;
      const planned = await plannedMemory(config, m.lineage, p);
      const valLoss = val.length ? evalLoss(model, val, p.seqLen).loss : null;
      const adapter = lora.export(describeModel(m.lineage));
      await saveAdapter(path.join(ctx.outDir, 'adapter'), adapter);
      const scalars = {
        finalLoss: result.finalLoss,
        valLoss,
        valPerplexity: valLoss === null ? null : Math.exp(valLoss),
        trainSeconds: result.elapsedMs / 1000,
        tokensPerSec: Math.round(result.tokensPerSec),
        loraParams: lora.numParams(),
        baseParams: m.summary.params,
        // Measured: the peak of live tfjs tensor bytes during training (base weights, LoRA, AdamW states,
        // activations and gradients; fp32), above what was allocated before the model was loaded, plus NF4 host bytes.
        peakTensorBytes,
        nf4HostBytes,
        trainMemoryBytes: peakTensorBytes + nf4HostBytes,
        // Planned: src/loram/memory/planner.ts on this model's config (bf16 base, fp32 LoRA + AdamW, one micro-batch, eager attention).
        plannedMemoryBytes: planned.total,
        plannedBaseBytes: planned.baseWeights,
        plannedParams: planned.params,
        plannedHbmBytes: planned.hbmBytes,
        steps: result.steps,
      };
      const location = await writeMetricsFile(ctx, 'metrics.json', {
        label: '',
        scalars,
        curves: { loss: { ...curve, xLabel: 'step', yLabel: 'train loss' }, ...(valCurve.x.length ? { valLoss: { ...valCurve, xLabel: 'step', yLabel: 'val loss' } } : {}) },
      });
      lora.detach();
      return {
        outputs: {
          adapter: { type: 'adapter', location: ctx.output('adapter'), rank: p.rank, alpha: p.alpha, targets: [...p.targets], base: m.lineage, recovered: false },
          metrics: { type: 'metrics', location, label: '', summary: scalars },
        },
        metrics: scalars,
      };
    } finally {
      tracker?.stop();
      model.dispose();
    }
  },
});

/** The memory planner on the config actually trained: structured pruning is already in the config's shapes. */
async function plannedMemory(config: LlamaConfig, lineage: ModelLineage, p: z.output<typeof loraTrainParams>) {
  const { planMemory } = await import('../loram/memory/planner');
  const prune = pruneOf(lineage);
  const sparse = prune && !prune.structured ? prune : undefined;
  const plan = planMemory({
    model: config,
    // The planner checks the name against the strategies table (a lineage carries it as a plain string).
    strategy: sparse ? (sparse.strategy as PruneStrategy) : 'none',
    ratio: sparse ? sparse.ratio : 0,
    ...(sparse ? { layerRange: sparse.layers } : {}),
    quant: quantizeOf(lineage) ? 'nf4' : 'none',
    lora: { rank: p.rank, targets: p.targets, dropout: p.dropout },
    batch: p.batchSize,
    seqLen: p.seqLen,
    // The tfjs model materialises the attention probabilities, as eager attention does.
    attention: 'eager',
    gradientCheckpointing: p.gradientCheckpointing,
  });
  return { total: plan.bytes.total, baseWeights: plan.bytes.baseWeights, params: plan.prunedParams, hbmBytes: plan.hbmGiB * 2 ** 30 };
}
